"""End-to-end: the report store from the command line — results, report,
store — on a real SQLite file, with idempotent storing."""
import json
import sqlite3

import distbuild


def run_job(pyti, tmp_path, db, **kw):
    whl = distbuild.write_wheel(tmp_path, **kw)
    out = tmp_path / f"{whl.stem}.json"
    pyti("test", whl, "--recipe", "static", "--json", out, "--db", db, check=0)
    return json.loads(out.read_text()), out


def test_results_and_report(pyti, tmp_path):
    db = tmp_path / "pyti.db"
    r1, _ = run_job(pyti, tmp_path, db, name="alpha_pkg", version="1.0")
    r2, _ = run_job(pyti, tmp_path, db, name="beta", version="2.0")
    cp = pyti("results", "--db", db, check=0)
    assert r1["id"][:12] in cp.stdout and r2["id"][:12] in cp.stdout
    cp = pyti("results", "Alpha.Pkg", "--db", db, "--json", check=0)
    listed = json.loads(cp.stdout)
    assert [x["id"] for x in listed] == [r1["id"]]
    cp = pyti("report", r2["id"][:8], "--db", db, check=0)
    assert "beta" in cp.stdout and "verdict" in cp.stdout
    cp = pyti("report", r2["id"], "--db", db, "--json", check=0)
    assert json.loads(cp.stdout) == r2
    cp = pyti("report", "ffffffff", "--db", db, check=2)
    assert "no report" in cp.stderr


def test_store_is_idempotent(pyti, tmp_path):
    db = tmp_path / "pyti.db"
    report, path = run_job(pyti, tmp_path, db)
    cp = pyti("store", path, "--db", db, check=0)
    assert "already stored" in cp.stdout
    other = tmp_path / "other.db"
    cp = pyti("store", path, path, "--db", other, check=0)
    assert cp.stdout.count("already stored") == 1
    for d in (db, other):
        n = sqlite3.connect(d).execute("select count(*) from reports").fetchone()[0]
        assert n == 1


def test_store_refuses_invalid_reports(pyti, tmp_path):
    db = tmp_path / "pyti.db"
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "id": "zz"}')
    cp = pyti("store", bad, "--db", db, check=2)
    assert "bad.json" in cp.stderr and "id" in cp.stderr
    bad.write_text("{not json")
    cp = pyti("store", bad, "--db", db, check=2)
    assert "bad.json:1:" in cp.stderr
    n = sqlite3.connect(db).execute("select count(*) from reports").fetchone()[0]
    assert n == 0


def test_default_store_location(pyti, tmp_path, env):
    whl = distbuild.write_wheel(tmp_path)
    pyti("test", whl, "--recipe", "static", check=0)
    from pathlib import Path
    db = Path(env["XDG_DATA_HOME"]) / "pyti" / "pyti.db"
    assert db.exists()
    assert sqlite3.connect(db).execute("pragma journal_mode").fetchone()[0] == "wal"
    cp = pyti("results", check=0)
    assert "demo" in cp.stdout


def test_empty_results(pyti, tmp_path):
    cp = pyti("results", "--db", tmp_path / "e.db", check=0)
    assert cp.stdout == ""
    assert "no stored reports" in cp.stderr
