"""End-to-end chaos, CI size: jobs run by four workers that are killed
with SIGKILL at random moments (and restarted), with the master
restarted twice (once killed, once stopped): every job ends done with
exactly one stored result, none lost. The full size (1,000 jobs) is
bench/master-chaos. PYTI_CHAOS_E2E_JOBS makes this one bigger."""
import os

import pytest

from masterlib import run_chaos, store_location


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_chaos_every_job_reported_once(tmp_path, env, backend):
    jobs = int(os.environ.get("PYTI_CHAOS_E2E_JOBS", "60"))
    with store_location(backend, tmp_path) as db:
        figures = run_chaos(tmp_path, env, db, jobs=jobs, workers=4, restarts=2, seed=7,
                            timeout=300)
    print(figures)
    assert figures["master_restarts"] == 2
    assert figures["workers_killed"] >= 2 and figures["kills"] >= 4, figures
    # Kills cost attempts: some leases expired or were cut short.
    assert sum(figures["attempts"].values()) >= jobs
