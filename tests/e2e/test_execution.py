"""End-to-end: the sandboxed tasks of the default recipe on sdists built by
the test — a project whose tests pass, one whose tests fail, one that fails
to build, one that fails to import, one without tests, tests in odd places
found by unittest discovery, a missing test dependency, the backends Debian
ships (setuptools, flit_core, hatchling) — each with the right statuses and
counts; plus --python and command tasks running inside the sandbox."""
import json
import textwrap

import pytest

import distbuild


def run(pyti, tmp_path, files, name="demo-pkg", check=None, args=()):
    sdist = distbuild.write_sdist(tmp_path, name=name, files=files)
    out = tmp_path / "report.json"
    cp = pyti("test", sdist, "--json", out, "--no-store", *args, check=check, timeout=600)
    return json.loads(out.read_text()), cp


def tasks(report):
    return {t["name"]: t for t in report["tasks"]}


def project(tests=None, init="def answer():\n    return 42\n", pyproject=None, extra=None):
    files = distbuild.project_files(extra=extra)
    files["src/demo_pkg/__init__.py"] = init.encode()
    if pyproject is not None:
        files["pyproject.toml"] = pyproject.encode()
    del files["tests/test_answer.py"]
    for rel, text in (tests or {}).items():
        files[rel] = textwrap.dedent(text).encode()
    return files


PASSING = {"tests/test_answer.py": """
    from demo_pkg import answer

    def test_answer():
        assert answer() == 42

    def test_more():
        assert answer() + 1 == 43
    """}


def test_tests_pass(pyti, tmp_path):
    report, cp = run(pyti, tmp_path, project(PASSING), check=0)
    t = tasks(report)
    for name in ("venv", "build", "install", "import", "test", "lint"):
        assert t[name]["status"] == "passed", (name, t[name]["reason"], t[name]["log"][-2000:])
    assert t["build"]["data"]["backend"] == "setuptools.build_meta"
    assert t["install"]["data"]["distribution"]["name"] == "demo-pkg"
    assert t["import"]["data"]["modules"][0]["module"] == "demo_pkg"
    c = t["test"]["data"]["counts"]
    assert (c["tests"], c["passed"], c["failures"]) == (2, 2, 0)
    assert t["test"]["data"]["runner"] == "pytest"
    for name in ("build", "install", "test"):
        r = t[name]["data"]["resources"]
        assert r["wall_s"] > 0 and r["peak_memory_bytes"] > 0
    assert report["outcome"] == "passed"


def test_tests_fail(pyti, tmp_path):
    tests = {"tests/test_answer.py": """
        from demo_pkg import answer

        def test_ok():
            assert answer() == 42

        def test_wrong():
            assert answer() == 41
        """}
    report, cp = run(pyti, tmp_path, project(tests), check=1)
    t = tasks(report)
    assert t["test"]["status"] == "failed"
    c = t["test"]["data"]["counts"]
    assert (c["tests"], c["passed"], c["failures"]) == (2, 1, 1)
    assert "test_wrong" in json.dumps(t["test"]["data"]["failed_tests"])
    assert report["verdict"]["quality"] == "broken"


def test_build_fails(pyti, tmp_path):
    files = project(PASSING, extra={"setup.py": b"raise SystemExit('this package cannot build')\n"})
    report, cp = run(pyti, tmp_path, files, check=1)
    t = tasks(report)
    assert t["build"]["status"] == "failed"
    assert "build_wheel" in t["build"]["reason"] or "build" in t["build"]["reason"]
    assert "cannot build" in t["build"]["log"]
    for name in ("install", "import", "test"):
        assert t[name]["status"] == "skipped", name
    assert t["install"]["reason"] == "needs 'wheel' from task 'build' which failed"
    assert t["lint"]["status"] == "passed"  # independent of the build


def test_import_fails(pyti, tmp_path):
    report, cp = run(pyti, tmp_path, project(PASSING, init="raise ImportError('broken on purpose')\n"),
                     check=1)
    t = tasks(report)
    assert t["install"]["status"] == "passed"
    assert t["import"]["status"] == "failed"
    mod = t["import"]["data"]["modules"][0]
    assert mod["ok"] is False and "broken on purpose" in mod["error"]
    assert t["test"]["status"] == "failed"  # its tests cannot import it either


def test_no_tests_is_neutral(pyti, tmp_path):
    report, cp = run(pyti, tmp_path, project({}), check=0)
    t = tasks(report)
    assert t["test"]["status"] == "neutral"
    assert t["test"]["reason"] == "no tests found"
    assert report["outcome"] == "passed"


def test_unittest_in_an_odd_place(pyti, tmp_path):
    tests = {"src/tests/test.py": """
        import unittest
        from demo_pkg import answer

        class T(unittest.TestCase):
            def test_answer(self):
                self.assertEqual(answer(), 42)

            def test_fails(self):
                self.assertEqual(answer(), 0)
        """, "src/tests/__init__.py": ""}
    report, cp = run(pyti, tmp_path, project(tests), check=1)
    t = tasks(report)["test"]
    assert t["data"]["runner"] == "unittest", t["log"][-2000:]
    c = t["data"]["counts"]
    assert (c["tests"], c["failures"]) == (2, 1)


def test_missing_test_dependency_is_not_blamed_on_the_package(pyti, tmp_path):
    tests = {"tests/test_answer.py": """
        import hypothesis_not_installed_anywhere
        from demo_pkg import answer

        def test_answer():
            assert answer() == 42
        """}
    report, cp = run(pyti, tmp_path, project(tests), check=3)
    t = tasks(report)["test"]
    assert t["status"] == "error"
    assert "hypothesis_not_installed_anywhere" in t["reason"]
    assert t["data"]["missing_test_dependencies"] == ["hypothesis_not_installed_anywhere"]
    assert report["outcome"] == "error"


@pytest.mark.parametrize("backend,requires", [
    ("flit_core.buildapi", "flit_core >=3.2,<4"),
    ("hatchling.build", "hatchling"),
])
def test_debian_backends_build(pyti, tmp_path, backend, requires):
    pyproject = textwrap.dedent(f"""\
        [build-system]
        requires = ["{requires}"]
        build-backend = "{backend}"

        [project]
        name = "demo_pkg"
        version = "1.0"
        description = "demo"
        """)
    files = project(PASSING, pyproject=pyproject)
    files["demo_pkg/__init__.py"] = files.pop("src/demo_pkg/__init__.py")
    report, cp = run(pyti, tmp_path, files)
    t = tasks(report)
    assert t["build"]["status"] == "passed", t["build"]["log"][-3000:]
    assert t["build"]["data"]["backend"] == backend
    assert t["test"]["status"] == "passed", t["test"]["log"][-3000:]


def test_python_option(pyti, tmp_path):
    import sys
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    report, cp = run(pyti, tmp_path, project(PASSING), args=("--python", "3.11"), check=0)
    interp = tasks(report)["venv"]["data"]["interpreter"]
    assert interp["version"].startswith("3.11")
    # The wheel tags are kept out of the report: their count, the most
    # specific one and the digest of the list (packaging's, one a line).
    assert "tags" not in interp
    from packaging import tags as ptags
    import hashlib
    expect = [str(t) for t in ptags.sys_tags()]
    assert interp["tags_count"] == len(expect) and interp["tags_first"] == expect[0]
    assert interp["tags_sha256"] == hashlib.sha256(
        "".join(t + "\n" for t in expect).encode()).hexdigest()
    sdist = distbuild.write_sdist(tmp_path, files=project(PASSING))
    cp = pyti("test", sdist, "--python", "/nonexistent/python9", "--no-store", check=2)
    assert "/nonexistent/python9" in cp.stderr and "interpreters found" in cp.stderr
    del ver


def test_command_task_runs_in_the_sandbox(pyti, tmp_path):
    recipe = tmp_path / "cmd.ini"
    recipe.write_text(
        "[recipe]\n"
        "[task extract]\nbuiltin = extract\nproduces = source\n"
        "[task whoami]\nneeds = source\n"
        "run = echo uid=$(id -u) host=$(hostname) pwd=$(pwd); ls /root; "
        "cat /proc/self/status | grep -E 'CapEff|NoNewPrivs'; touch /usr/evil || true\n"
        "[task false]\nrun = exit 3\n")
    sdist = distbuild.write_sdist(tmp_path, files=project(PASSING))
    out = tmp_path / "r.json"
    pyti("test", sdist, "--recipe", recipe, "--json", out, "--no-store", check=1)
    report = json.loads(out.read_text())
    t = tasks(report)
    log = t["whoami"]["log"]
    assert t["whoami"]["status"] == "passed", log
    assert "uid=1000 host=pyti pwd=/job/work/dist/demo_pkg-1.0" in log
    assert "CapEff:\t0000000000000000" in log and "NoNewPrivs:\t1" in log
    assert "Read-only file system" in log or "Permission denied" in log
    assert t["false"]["status"] == "failed"
    assert t["false"]["data"]["exit_code"] == 3


def test_same_results_as_an_ordinary_user(pyti, tmp_path, env):
    """pyti run by an unprivileged user (nobody) gives the same statuses and
    counts as pyti run by root: user namespaces, not privileges, make the
    sandbox."""
    import os
    import shutil
    import subprocess
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root to switch to nobody")
    import tempfile
    from pathlib import Path
    report, _ = run(pyti, tmp_path, project(PASSING), check=0)
    # pytest's tmp_path is private to root: nobody needs a home it can reach.
    home = Path(tempfile.mkdtemp(prefix="pyti-nobody-home-"))
    os.chmod(home, 0o755)
    sdist = distbuild.write_sdist(home, files=project(PASSING))
    out = home / "r.json"
    shutil.chown(home, "nobody")
    for p in home.rglob("*"):
        shutil.chown(p, "nobody")
    user_env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home),
                "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "cfg"),
                "XDG_CACHE_HOME": str(home / "cache")}
    from conftest import pyti_bin  # noqa: E402 (only the e2e conftest is on the path here)
    cp = subprocess.run(["runuser", "-u", "nobody", "--", "env", "-i",
                         *[f"{k}={v}" for k, v in user_env.items()],
                         pyti_bin(), "test", str(sdist), "--no-store", "--json", str(out)],
                        capture_output=True, text=True, timeout=600)
    try:
        assert cp.returncode == 0, cp.stdout + cp.stderr
        mine = json.loads(out.read_text())
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert {t["name"]: t["status"] for t in mine["tasks"]} == \
           {t["name"]: t["status"] for t in report["tasks"]}
    assert tasks(mine)["test"]["data"]["counts"] == tasks(report)["test"]["data"]["counts"]
