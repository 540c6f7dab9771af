"""End-to-end: `pyti test` on real distributions — the wheels Debian ships
and sdists/wheels built by the test — in every archive format, with the
report written, stored and consistent."""
import json
import time
import glob
from pathlib import Path

import pytest

import distbuild

DEBIAN_WHEELS = sorted(glob.glob("/usr/share/python-wheels/*.whl"))


def task(report, name):
    return next(t for t in report["tasks"] if t["name"] == name)


@pytest.mark.parametrize("wheel", DEBIAN_WHEELS, ids=lambda p: Path(p).name)
def test_debian_wheel_passes(pyti, tmp_path, wheel):
    out = tmp_path / "report.json"
    db = tmp_path / "pyti.db"
    cp = pyti("test", wheel, "--json", out, "--db", db, check=0)
    report = json.loads(out.read_text())
    assert report["schema_version"] == 1
    assert report["outcome"] == "passed"
    dist = report["distribution"]
    name, version = Path(wheel).name.split("-")[:2]
    assert dist["name"].lower() == name
    assert dist["version"] == version
    assert dist["kind"] == "wheel"
    assert dist["size"] == Path(wheel).stat().st_size
    assert [t["name"] for t in report["tasks"]] == [
        "extract", "metadata", "record", "facts", "scan", "venv", "build", "deps", "install",
        "import", "testdeps", "test", "lint"]
    statuses = {t["name"]: t["status"] for t in report["tasks"]}
    assert statuses["build"] == "neutral"  # a wheel needs no build
    assert statuses["test"] == "neutral"   # Debian's wheels ship no tests
    assert statuses["testdeps"] == "neutral"  # ... so no test requirements are needed
    assert all(v == "passed" for k, v in statuses.items()
               if k not in ("build", "test", "testdeps")), statuses
    rec = task(report, "record")["data"]["record"]
    assert rec["entries"] > 10 and rec["mismatched"] == 0 and rec["missing"] == 0
    assert task(report, "facts")["data"]["languages"]["Python"]["files"] > 10
    assert not [f for f in report["findings"] if f["severity"] in ("high", "critical")]
    # the summary names every task and the verdict
    for t in ("extract", "metadata", "record", "facts", "scan"):
        assert t in cp.stdout
    # the scan looked and found nothing of concern in Debian's own wheels
    assert report["verdict"]["safety"] == "clean", report["verdict"]
    assert "verdict: passed" in cp.stdout
    # and it was stored
    listed = json.loads(pyti("results", "--db", db, "--json", check=0).stdout)
    assert [r["id"] for r in listed] == [report["id"]]


def test_debian_wheels_were_found():
    # python3-pip-whl, python3-setuptools-whl, python3-wheel-whl
    names = {Path(w).name.split("-")[0] for w in DEBIAN_WHEELS}
    assert {"pip", "setuptools", "wheel"} <= names


@pytest.mark.parametrize("fmt", ["tar.gz", "tgz", "tar.bz2", "tar.xz", "zip"])
def test_sdist_formats(pyti, tmp_path, fmt):
    sdist = distbuild.write_sdist(tmp_path, fmt=fmt)
    out = tmp_path / "r.json"
    pyti("test", sdist, "--recipe", "static", "--json", out, "--no-store", check=0)
    report = json.loads(out.read_text())
    assert report["distribution"]["name"] == "demo-pkg"
    assert report["distribution"]["version"] == "1.0"
    assert report["distribution"]["kind"] == "sdist"
    assert task(report, "record")["status"] == "neutral"
    facts = task(report, "facts")["data"]
    assert facts["has_tests"] is True
    assert facts["has_readme"] is True
    assert "pyproject.toml" in facts["build_files"]
    assert task(report, "extract")["data"]["top_level_dir"] == "demo_pkg-1.0"


def test_example_sdist(pyti, tmp_path):
    import subprocess
    made = subprocess.run([str(distbuild.ROOT / "examples" / "make-sdist"),
                           str(distbuild.EXAMPLE), str(tmp_path)],
                          capture_output=True, text=True, check=True)
    sdist = made.stdout.strip()
    out = tmp_path / "r.json"
    pyti("test", sdist, "--json", out, "--no-store", check=0)
    report = json.loads(out.read_text())
    assert report["distribution"]["name"] == "hello-pyti"
    assert report["verdict"]["quality"] == "ok", report["findings"]


def test_sdist_with_bad_metadata_fails(pyti, tmp_path):
    files = distbuild.project_files(pkg_info="Metadata-Version: 2.1\nName: demo-pkg\n"
                                             "Version: not a version!\n\nbody\n")
    sdist = distbuild.write_sdist(tmp_path, files=files)
    out = tmp_path / "r.json"
    cp = pyti("test", "--recipe", "static", sdist, "--json", out, "--no-store", check=1)
    report = json.loads(out.read_text())
    assert report["outcome"] == "failed"
    assert report["verdict"]["quality"] == "broken"
    assert task(report, "metadata")["status"] == "failed"
    assert any(f["id"].startswith("metadata.") and f["severity"] in ("high", "critical")
               for f in report["findings"])
    # independent tasks still ran
    assert task(report, "facts")["status"] == "passed"
    assert "metadata" in cp.stdout and "failed" in cp.stdout


def test_sdist_without_pkg_info_fails(pyti, tmp_path):
    files = distbuild.project_files()
    del files["PKG-INFO"]
    sdist = distbuild.write_sdist(tmp_path, files=files)
    out = tmp_path / "r.json"
    pyti("test", "--recipe", "static", sdist, "--json", out, "--no-store", check=1)
    report = json.loads(out.read_text())
    assert task(report, "metadata")["status"] == "failed"
    assert any(f["id"] == "metadata.missing" for f in report["findings"])


def test_sdist_without_top_level_dir_is_a_finding(pyti, tmp_path):
    sdist = distbuild.write_sdist(tmp_path, top="")
    out = tmp_path / "r.json"
    pyti("test", "--recipe", "static", sdist, "--json", out, "--no-store")
    report = json.loads(out.read_text())
    assert any(f["id"] == "sdist.no-top-level-dir" for f in report["findings"])


def test_name_mismatch_is_a_finding(pyti, tmp_path):
    files = distbuild.project_files(pkg_info=distbuild.PKG_INFO.format(name="other-name",
                                                                        version="1.0"))
    sdist = distbuild.write_sdist(tmp_path, files=files)
    out = tmp_path / "r.json"
    pyti("test", "--recipe", "static", sdist, "--json", out, "--no-store")
    report = json.loads(out.read_text())
    assert any("name" in f["id"] and "mismatch" in f["id"] for f in report["findings"]), \
        report["findings"]


def test_wheel_built_here_passes(pyti, tmp_path):
    whl = distbuild.write_wheel(tmp_path)
    out = tmp_path / "r.json"
    pyti("test", "--recipe", "static", whl, "--json", out, "--no-store", check=0)
    report = json.loads(out.read_text())
    assert task(report, "record")["status"] == "passed"


def test_tampered_wheel_fails_record(pyti, tmp_path):
    def tamper(files):
        files["demo_pkg/__init__.py"] = b"import os; os.system('echo pwned')\n"
    whl = distbuild.write_wheel(tmp_path, tamper=tamper)
    out = tmp_path / "r.json"
    cp = pyti("test", "--recipe", "static", whl, "--json", out, "--no-store", check=1)
    report = json.loads(out.read_text())
    assert task(report, "record")["status"] == "failed"
    mism = [f for f in report["findings"] if f["id"] == "wheel.record-hash-mismatch"]
    assert mism and "demo_pkg/__init__.py" in (mism[0]["where"] or "") + mism[0]["message"]
    assert "record" in cp.stdout


def test_unlisted_file_in_wheel_is_found(pyti, tmp_path):
    def tamper(files):
        files["demo_pkg/extra.py"] = b"x = 1\n"
    whl = distbuild.write_wheel(tmp_path, tamper=tamper)
    out = tmp_path / "r.json"
    pyti("test", "--recipe", "static", whl, "--json", out, "--no-store")
    report = json.loads(out.read_text())
    assert any("unlisted" in f["id"] for f in report["findings"]), report["findings"]


def test_json_to_stdout(pyti, tmp_path):
    whl = distbuild.write_wheel(tmp_path)
    cp = pyti("test", "--recipe", "static", whl, "--json", "-", "--no-store", check=0)
    report = json.loads(cp.stdout)
    assert report["outcome"] == "passed"
    assert "verdict" in cp.stderr  # the human summary moved to stderr


def test_keep_keeps_the_job_directory(pyti, tmp_path):
    whl = distbuild.write_wheel(tmp_path)
    cp = pyti("test", "--recipe", "static", whl, "--keep", "--no-store", check=0)
    line = [l for l in cp.stderr.splitlines() if "job directory kept" in l][0]
    job = Path(line.split(": ")[-1])
    assert (job / "out" / "extract" / "result.json").exists()
    assert (job / "work").is_dir()
    import shutil
    shutil.rmtree(job)


def test_job_directory_removed_by_default(pyti, tmp_path, env):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    env["TMPDIR"] = str(jobs)
    whl = distbuild.write_wheel(tmp_path)
    pyti("test", "--recipe", "static", whl, "--no-store", check=0)
    # Removed by a detached process once the report is out (job.h:
    # job_cleanup_detached): gone within moments, not necessarily at exit.
    deadline = time.monotonic() + 20
    while list(jobs.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(jobs.iterdir()) == []
