"""End-to-end: the store's commands on both backends — `pyti test`,
`results`, `report`, `store` and `jobs` with `--db` a SQLite file and a
PostgreSQL URI. PostgreSQL comes from $PYTI_TEST_PG (scripts/test starts
a throwaway server); each test gets its own schema. Without it the
PostgreSQL cases fail, unless PYTI_ALLOW_NO_PG=1 says to skip them."""
import json

import pytest

import distbuild
from masterlib import store_location


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A fresh store location on each backend."""
    with store_location(request.param, tmp_path) as loc:
        yield loc


def run_job(pyti, tmp_path, db, **kw):
    whl = distbuild.write_wheel(tmp_path, **kw)
    out = tmp_path / f"{whl.stem}.json"
    pyti("test", whl, "--recipe", "static", "--json", out, "--db", db, check=0)
    return json.loads(out.read_text()), out, whl


def test_reports_on_both_backends(pyti, tmp_path, db):
    r1, _, _ = run_job(pyti, tmp_path, db, name="alpha_pkg", version="1.0")
    r2, path2, _ = run_job(pyti, tmp_path, db, name="beta", version="2.0")
    cp = pyti("results", "--db", db, "--json", check=0)
    assert {x["id"] for x in json.loads(cp.stdout)} == {r1["id"], r2["id"]}
    cp = pyti("results", "Alpha.Pkg", "--db", db, "--json", check=0)
    assert [x["id"] for x in json.loads(cp.stdout)] == [r1["id"]]
    cp = pyti("report", r2["id"][:8], "--db", db, "--json", check=0)
    assert json.loads(cp.stdout) == r2
    cp = pyti("store", path2, "--db", db, check=0)
    assert "already stored" in cp.stdout
    cp = pyti("report", "ffffffff", "--db", db, check=2)
    assert "no report" in cp.stderr


def test_jobs_on_both_backends(pyti, tmp_path, db):
    whl = distbuild.write_wheel(tmp_path, name="gamma", version="3.0")
    cp = pyti("jobs", "--db", db, "--submit", whl, "--python", "3.11", check=0)
    assert "submitted as job 1" in cp.stdout
    # The same file, recipe and Python: the same job.
    cp = pyti("jobs", "--db", db, "--submit", whl, "--python", "==3.11.*", check=0)
    assert "already job 1" in cp.stdout
    cp = pyti("jobs", "--db", db, "--submit", whl, "--recipe", "static", check=0)
    assert "submitted as job 2" in cp.stdout
    spec = tmp_path / "specs.json"
    spec.write_text(json.dumps([{
        "name": "Delta", "version": "0.1", "filename": "delta-0.1.tar.gz",
        "url": "https://files.example/delta-0.1.tar.gz", "sha256": "ab" * 32, "size": 7,
        "priority": 5, "requirements": {"tags": ["gpu"], "pythons": ["3.12"]}}]))
    cp = pyti("jobs", "--db", db, "--submit", spec, check=0)
    assert "submitted as job 3" in cp.stdout

    jobs = json.loads(pyti("jobs", "--db", db, "--json", check=0).stdout)
    assert [j["id"] for j in jobs] == [3, 2, 1]
    assert jobs[2]["path"] == str(whl.resolve())
    assert jobs[2]["created_by"] == "cli" and jobs[2]["python"] == "==3.11.*"
    assert jobs[0]["requirements"]["tags"] == ["gpu"]
    assert jobs[0]["priority"] == 5

    cp = pyti("jobs", "--db", db, "--cancel", "2", check=0)
    assert "cancelled" in cp.stdout
    assert pyti("jobs", "--db", db, "--state", "cancelled", "--json",
                check=0).stdout.count('"id"') == 1
    pyti("jobs", "--db", db, "--retry", "2", check=0)
    shown = json.loads(pyti("jobs", "--db", db, "--show", "2", "--json", check=0).stdout)
    assert shown["state"] == "queued" and shown["attempt_history"] == []
    metrics = json.loads(pyti("jobs", "--db", db, "--metrics", "--json", check=0).stdout)
    assert metrics["jobs"]["queued"] == 3
    cp = pyti("jobs", "--db", db, "--project", "GAMMA", check=0)
    assert len(cp.stdout.splitlines()) == 2 and "Delta" not in cp.stdout

    # Errors: exit 2 with the reason.
    cp = pyti("jobs", "--db", db, "--state", "bogus", check=2)
    assert "unknown job state" in cp.stderr
    cp = pyti("jobs", "--db", db, "--show", "99", check=2)
    assert "no job 99" in cp.stderr
    cp = pyti("jobs", "--db", db, "--cancel", "1", "--retry", "1", check=2)
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "version": "1", "filename": "x-1.tar.gz", "sha256": "zz"}')
    cp = pyti("jobs", "--db", db, "--submit", bad, check=2)
    assert "sha256" in cp.stderr


def test_pg_password_not_shown(pyti, tmp_path):
    # A server that cannot be reached: an I/O error (exit 3) naming the
    # location without its password.
    cp = pyti("results", "--db", "postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=5",
              check=3)
    assert "127.0.0.1:1" in cp.stderr and "hunter2" not in cp.stderr
