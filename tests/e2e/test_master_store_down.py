"""End-to-end: the master's pages and API when its store goes away and
comes back. A PostgreSQL server of the test's own (scripts/pg-tmp) is
stopped under a running `pyti serve`: every page and API call answers
503 with Retry-After (never a crash, never the connection details), and
once the server is back the same master answers normally again. Also the
/index.html alias of the overview."""
import concurrent.futures
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from masterlib import Master

ROOT = Path(__file__).resolve().parents[2]
PG_TMP = ROOT / "scripts" / "pg-tmp"


def get(url, path, timeout=30):
    """(status, headers, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url + path, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


@pytest.fixture
def own_pg(tmp_path):
    """A PostgreSQL server this test may stop and start: (location, dir)."""
    d = Path("/tmp") / f"pyti-pgdown-{os.getpid()}-{tmp_path.name[-12:]}"
    r = subprocess.run([str(PG_TMP), "start", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        if os.environ.get("PYTI_ALLOW_NO_PG") == "1":
            pytest.skip("no PostgreSQL server: " + r.stderr[-300:])
        pytest.fail("scripts/pg-tmp start failed: " + r.stderr[-2000:])
    try:
        yield r.stdout.strip(), d
    finally:
        subprocess.run([str(PG_TMP), "stop", str(d)], capture_output=True)


def test_index_html_is_the_overview(env, tmp_path):
    m = Master(tmp_path, env, str(tmp_path / "pyti.db"))
    try:
        st, _, root = get(m.url, "/")
        st2, _, alias = get(m.url, "/index.html")
        assert st == 200 and st2 == 200
        assert "<title>pyti — overview</title>" in root
        assert "<title>pyti — overview</title>" in alias
        st3, _, _ = get(m.url, "/index.htm")
        assert st3 == 404
    finally:
        assert m.stop() == 0


def test_store_down_gives_503_and_the_master_recovers(env, tmp_path, own_pg):
    location, pgdir = own_pg
    m = Master(tmp_path, env, location, extra="public_read = true")
    try:
        st, _, body = get(m.url, "/project/nosuch")
        assert st == 404, body[:500]
        st, _, body = get(m.url, "/report/" + "0" * 32)
        assert st == 404, body[:500]
        st, _, body = get(m.url, "/api/v1/jobs")
        assert st == 200, body[:500]

        subprocess.run([str(PG_TMP), "pause", str(pgdir)], check=True)
        paths = ["/project/nosuch", "/workers", "/report/" + "0" * 32, "/search?q=x",
                 "/project/other", "/workers", "/project/nosuch", "/report/" + "a" * 32]
        # Concurrent requests: the pool's idle handle (its connection lost)
        # and new handles that cannot connect are both exercised.
        with concurrent.futures.ThreadPoolExecutor(len(paths)) as ex:
            answers = list(ex.map(lambda p: (p, get(m.url, p)), paths))
        for path, (st, headers, body) in answers:
            assert st == 503, f"{path}: {st} {body[:300]}"
            assert headers.get("Retry-After") == "5", path
            assert headers.get("Content-Type", "").startswith("text/html"), path
            # What went wrong goes to the log, not to the visitor.
            assert "pyti_test" not in body and str(pgdir) not in body, path
        st, headers, body = get(m.url, "/api/v1/jobs")
        assert st == 503, body[:300]
        assert '"unavailable"' in body
        assert headers.get("Retry-After") == "5"
        assert m.proc.poll() is None, "the master died with its store"

        subprocess.run([str(PG_TMP), "resume", str(pgdir)], check=True)
        deadline = time.time() + 30
        while True:
            st, _, body = get(m.url, "/project/nosuch")
            if st == 404 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert st == 404, f"the master did not come back: {st} {body[:300]}"
        st, _, body = get(m.url, "/api/v1/jobs")
        assert st == 200, body[:300]
        st, _, body = get(m.url, "/workers")
        assert st == 200, body[:300]
    finally:
        assert m.stop() == 0, m.log()[-3000:]
