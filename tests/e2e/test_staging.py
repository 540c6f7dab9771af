"""End-to-end: staging a job's requirements from a package index into the
sandbox (issue #5). A local index (`pyti index serve` on loopback) is built
at test time from synthetic wheels; pyti test resolves and stages on the
host, the sandbox installs offline:

- a wheel whose dependencies come from the index (one satisfied by
  Debian's installed six), imported inside the sandbox;
- an sdist whose build backend comes from the index and asks for more
  through get_requires_for_build_wheel, whose built wheel has its own
  dependencies;
- test requirements from each kind of source (test extras, PEP 735
  dependency groups, requirements/test*.txt, test-requirements.txt,
  tox.ini deps), and none;
- an unreachable index, an unsatisfiable dependency and a hash mismatch,
  each an `error` with the reason;
- the sandbox still has no network: the package's tests cannot reach the
  index the host staged from;
- the staged set is what pip would install in a venv that sees the
  system site-packages."""
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

import distbuild
import indexlib
from indexlib import Server, metadata_text, pack_wheel

BACKEND = textwrap.dedent('''
    """A PEP 517 backend served by the test index: it needs helper-extra
    (asked for through get_requires_for_build_wheel) to build."""
    import base64, hashlib, os, zipfile

    def get_requires_for_build_wheel(config_settings=None):
        return ["helper-extra>=1"]

    def _row(path, data):
        d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"{path},sha256={d},{len(data)}"

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        import helper_extra  # staged and installed by pyti after the first round
        di = "built_pkg-1.0.dist-info"
        files = {
            "built_pkg/__init__.py": b"import dep_two\\nVALUE = %d\\n" % helper_extra.VALUE,
            di + "/METADATA": b"Metadata-Version: 2.1\\nName: built-pkg\\nVersion: 1.0\\n"
                              b"Requires-Dist: dep-two>=2\\n\\n",
            di + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: mybackend\\n"
                           b"Root-Is-Purelib: true\\nTag: py3-none-any\\n",
        }
        rows = [_row(p, d) for p, d in sorted(files.items())] + [di + "/RECORD,,"]
        files[di + "/RECORD"] = ("\\n".join(rows) + "\\n").encode()
        name = "built_pkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
            for p, d in sorted(files.items()):
                zf.writestr(p, d)
        return name
    ''')


def module_wheel(out_dir, name, version, code, requires=()):
    mod = name.replace("-", "_")
    return pack_wheel(out_dir, name, version, metadata_text(name, version, requires),
                      {f"{mod}/__init__.py": code.encode()})


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    d = tmp_path_factory.mktemp("index")
    module_wheel(d, "dep-one", "1.0", "import dep_two\n", ["dep-two>=2"])
    module_wheel(d, "dep-one", "1.1", "import dep_two\nNEW = True\n", ["dep-two>=2"])
    module_wheel(d, "dep-two", "1.0", "OLD = True\n")
    module_wheel(d, "dep-two", "2.0", "OLD = False\n")
    module_wheel(d, "mybackend", "1.0", BACKEND)
    module_wheel(d, "helper-extra", "1.0", "VALUE = 7\n")
    module_wheel(d, "testhelper", "1.0", "OK = True\n")
    module_wheel(d, "testhelper", "2.0", "OK = True\nTWO = True\n")
    with Server(d) as s:
        s.directory = d
        yield s


def run_job(pyti, tmp_path, dist, *args, check=None):
    out = tmp_path / "report.json"
    cp = pyti("test", dist, "--json", out, "--no-store", *args, check=check, timeout=600)
    assert out.exists(), cp.stderr
    report = json.loads(out.read_text())
    return {t["name"]: t for t in report["tasks"]}, report, cp


def app_wheel(tmp_path, requires, code="import dep_one, dep_two, six\nassert dep_one.NEW\n"):
    return pack_wheel(tmp_path, "app", "1.0", metadata_text("app", "1.0", requires),
                      {"app/__init__.py": code.encode()})


def test_wheel_dependencies_staged_and_installed_offline(pyti, tmp_path, index):
    whl = app_wheel(tmp_path, ["dep-one", "six"])
    t, report, cp = run_job(pyti, tmp_path, whl, "--index-url", index.index)
    assert t["deps"]["status"] == "passed", t["deps"]["reason"]
    staging = t["deps"]["data"]["staging"]
    staged = {e["name"]: e for e in staging["staged"]}
    assert set(staged) == {"dep-one", "dep-two"}
    assert staged["dep-one"]["version"] == "1.1"
    assert staged["dep-two"]["version"] == "2.0"  # dep-one needs >=2
    for e in staged.values():
        assert e["index"] == index.index
        assert len(e["sha256"]) == 64
        assert e["path"] == "/job/input/deps/" + e["filename"]
    # six is not staged: Debian's installed six satisfies it, as for pip.
    inst = {e["name"]: e for e in staging["installed"]}
    assert "six" in inst and "app" not in inst
    assert staging["source"] == "indexes"
    # installed inside the sandbox by the native installer, then imported
    # there (the wheel's module imports both staged dependencies and six).
    assert t["install"]["status"] == "passed", t["install"]["reason"]
    assert t["install"]["data"]["installer"] == "pyti"
    names = {e["name"]: e["dependency"] for e in t["install"]["data"]["installed"]}
    assert names == {"dep-one": True, "dep-two": True, "app": False}
    assert t["import"]["status"] == "passed", t["import"]["log"][-2000:]
    # The report carries the resolved set.
    deps = report["dependencies"]
    assert {(e["name"], e["version"], e["index"]) for e in deps["staged"]} == {
        ("dep-one", "1.1", index.index), ("dep-two", "2.0", index.index)}
    assert all(len(e["sha256"]) == 64 and e["filename"].endswith(".whl")
               for e in deps["staged"])
    assert [e["name"] for e in deps["installed"]] == ["six"]


def test_extras_option_stages_the_extra(pyti, tmp_path, index, env):
    whl = pack_wheel(tmp_path, "app", "1.0",
                     metadata_text("app", "1.0", ["dep-two", 'testhelper; extra == "fast"'],
                                   extras=["fast"]), {"app/__init__.py": b"import testhelper\n"})
    recipe = Path(env["XDG_CONFIG_HOME"]) / "pyti" / "recipes" / "extras.ini"
    recipe.parent.mkdir(parents=True)
    recipe.write_text("[recipe]\ninclude = default\n\n[task deps]\nbuiltin = deps\n"
                      "needs = venv, wheel\nproduces = deps\nextras = fast\n")
    t, _, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index, "--recipe", "extras")
    assert t["deps"]["status"] == "passed", t["deps"]["reason"]
    staged = {e["name"] for e in t["deps"]["data"]["staging"]["staged"]}
    assert staged == {"dep-two", "testhelper"}
    assert t["import"]["status"] == "passed"


def backend_sdist(tmp_path):
    files = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: built-pkg\nVersion: 1.0\n\n",
        "pyproject.toml": b'[build-system]\nrequires = ["mybackend"]\n'
                          b'build-backend = "mybackend"\n',
        "built_pkg/__init__.py": b"VALUE = 0\n",
    }
    return distbuild.write_sdist(tmp_path, name="built-pkg", files=files)


def test_sdist_build_requirements_staged_in_rounds(pyti, tmp_path, index):
    t, _, cp = run_job(pyti, tmp_path, backend_sdist(tmp_path), "--index-url", index.index)
    b = t["build"]
    assert b["status"] == "passed", (b["reason"], b["log"][-3000:])
    assert b["data"]["requires"] == ["mybackend"]
    assert b["data"]["extra_requires"] == ["helper-extra>=1"]
    phases = [(r["phase"], r["outcome"]) for r in b["data"]["rounds"]]
    assert phases == [("prepare", "prepared"), ("get-requires", "needs-more"),
                      ("build", "built")]
    first, second = b["data"]["staging"]
    assert [e["name"] for e in first["staged"]] == ["mybackend"]
    assert first["staged"][0]["index"] == index.index
    assert [e["name"] for e in second["staged"]] == ["helper-extra"]
    # The built wheel's own dependency is staged for the install.
    assert [e["name"] for e in t["deps"]["data"]["staging"]["staged"]] == ["dep-two"]
    assert t["install"]["status"] == "passed"
    assert t["import"]["status"] == "passed"


def test_build_falls_back_to_the_wheelhouse_for_setuptools(pyti, tmp_path, index):
    # The test index has no setuptools: the pooled wheelhouse provides it.
    sdist = distbuild.write_sdist(tmp_path, files=distbuild.project_files())
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", index.index)
    assert t["build"]["status"] == "passed", t["build"]["reason"]
    st = t["build"]["data"]["staging"][0]
    assert st["source"] == "indexes+wheelhouse"
    assert st["staged"][0]["name"] == "setuptools"
    assert st["staged"][0]["index"] == "wheelhouse"
    assert st["staged"][0]["path"].startswith("/wheelhouse/")


# ---- test requirements ------------------------------------------------------

SETUPTOOLS_PROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "demo-pkg"
version = "1.0"
requires-python = ">=3.8"
{extra}

[tool.setuptools.packages.find]
where = ["src"]
"""

TEST_NEEDS_HELPER = """\
import testhelper
from demo_pkg import answer


def test_answer():
    assert testhelper.OK and answer() == 42
"""


def make_test_project(tmp_path, pyproject_extra="", extra_files=None):
    files = distbuild.project_files()
    del files["PKG-INFO"]
    files["pyproject.toml"] = SETUPTOOLS_PROJECT.format(extra=pyproject_extra).encode()
    files["tests/test_answer.py"] = TEST_NEEDS_HELPER.encode()
    files.update({k: v.encode() for k, v in (extra_files or {}).items()})
    return distbuild.write_sdist(tmp_path, files=files)


SOURCES = {
    "extras": dict(pyproject_extra='[project.optional-dependencies]\ntest = ["testhelper>=1"]'),
    "dependency-groups": dict(pyproject_extra='[dependency-groups]\n'
                              'base = ["testhelper<2"]\ntests = [{include-group = "base"}]'),
    "requirements-files": dict(extra_files={"requirements/test.txt":
                                            "# test deps\n-r base.txt\n-e .\n",
                                            "requirements/base.txt": "testhelper==1.0\n"}),
    "test-requirements": dict(extra_files={"test-requirements.txt": "testhelper\n--pre\n"}),
    "tox.ini": dict(extra_files={"tox.ini": "[tox]\nenvlist = py311\n\n[testenv]\n"
                                 "deps =\n    testhelper>=1\n    py310: nothere\n"
                                 "commands = pytest\n"}),
}


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_test_requirements_from_each_source(pyti, tmp_path, index, kind):
    sdist = make_test_project(tmp_path, **SOURCES[kind])
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", index.index)
    td = t["testdeps"]
    assert td["status"] == "passed", (td["reason"], td["log"][-2000:])
    used = td["data"]["used"]
    want = "requirements-files" if kind == "test-requirements" else kind
    assert used["source"] == want
    staged = {e["name"]: e["version"] for e in td["data"]["staging"]["staged"]}
    assert set(staged) == {"testhelper"}
    if kind in ("dependency-groups", "requirements-files"):
        assert staged["testhelper"] == "1.0"  # <2 and ==1.0
    if kind == "requirements-files":
        assert any("-e ." in s for s in used["skipped"])
    if kind == "tox.ini":
        assert any("py310: nothere" in s for s in used["skipped"])
    # The package's tests import testhelper: they pass only if it was
    # installed into the venv.
    assert t["test"]["status"] == "passed", (t["test"]["reason"], t["test"]["log"][-2000:])


def test_no_test_requirements_said_so(pyti, tmp_path, index):
    files = distbuild.project_files()
    sdist = distbuild.write_sdist(tmp_path, files=files)
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", index.index)
    td = t["testdeps"]
    assert td["status"] == "neutral"
    assert "declares no test requirements" in td["reason"]
    assert td["data"]["used"] is None
    assert t["test"]["status"] == "passed"


# ---- failures are pyti's errors, with the reason ---------------------------

def no_retries(env):
    cfg = Path(env["XDG_CONFIG_HOME"]) / "pyti" / "pyti.ini"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text("[index]\nretries = 0\nconnect_timeout = 2\n")


def test_unreachable_index_is_an_error(pyti, tmp_path, env):
    no_retries(env)
    whl = app_wheel(tmp_path, ["dep-one"])
    t, report, cp = run_job(pyti, tmp_path, whl, "--index-url", "http://127.0.0.1:1/simple",
                            check=3)
    assert t["deps"]["status"] == "error"
    assert "127.0.0.1:1" in t["deps"]["reason"]
    assert t["install"]["status"] == "skipped"
    assert report["verdict"]["quality"] != "broken"


def test_unreachable_index_and_no_wheelhouse_backend_is_a_build_error(pyti, tmp_path, env):
    no_retries(env)
    files = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: odd-pkg\nVersion: 1.0\n\n",
        "pyproject.toml": b'[build-system]\nrequires = ["no-such-backend"]\n'
                          b'build-backend = "no_such_backend"\n',
    }
    sdist = distbuild.write_sdist(tmp_path, name="odd-pkg", files=files)
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", "http://127.0.0.1:1/simple", check=3)
    b = t["build"]
    assert b["status"] == "error"
    assert "127.0.0.1:1" in b["reason"] and "wheelhouse cannot satisfy" in b["reason"]
    assert "no-such-backend" in b["reason"]
    assert b["data"]["staging"][0]["fallback"]
    assert t["install"]["status"] == "skipped"


def test_invalid_build_requirement_is_the_package_failure(pyti, tmp_path, index):
    files = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: odd-pkg\nVersion: 1.0\n\n",
        "pyproject.toml": b'[build-system]\nrequires = ["setuptools >>> 1"]\n'
                          b'build-backend = "setuptools.build_meta"\n',
    }
    sdist = distbuild.write_sdist(tmp_path, name="odd-pkg", files=files)
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", index.index, check=1)
    assert t["build"]["status"] == "failed"
    assert "invalid requirement 'setuptools >>> 1'" in t["build"]["reason"]


def test_unsatisfiable_dependency_is_an_error(pyti, tmp_path, index):
    whl = app_wheel(tmp_path, ["dep-two>=5"])
    t, _, cp = run_job(pyti, tmp_path, whl, "--index-url", index.index, check=3)
    assert t["deps"]["status"] == "error"
    reason = t["deps"]["reason"]
    assert "cannot be satisfied" in reason and "dep-two" in reason, reason
    assert "1.0" in reason and "2.0" in reason  # the versions the index has


def test_missing_project_is_an_error(pyti, tmp_path, index):
    whl = app_wheel(tmp_path, ["no-such-project"])
    t, _, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index, check=3)
    assert t["deps"]["status"] == "error"
    assert "no-such-project" in t["deps"]["reason"]


def test_hash_mismatch_is_refused(pyti, tmp_path, env):
    d = tmp_path / "idx"
    d.mkdir()
    victim = module_wheel(d, "dep-two", "2.0", "OLD = False\n")
    whl = app_wheel(tmp_path, ["dep-two"], code="import dep_two\n")
    with Server(d) as s:
        # The server hashed the file at start; now it serves other bytes.
        data = bytearray(victim.read_bytes())
        data[-30] ^= 0xFF
        victim.write_bytes(bytes(data))
        t, _, _ = run_job(pyti, tmp_path, whl, "--index-url", s.index, check=3)
    assert t["deps"]["status"] == "error"
    assert "hash mismatch" in t["deps"]["reason"]
    assert t["deps"]["data"]["staging"]["staged"] == []
    assert t["install"]["status"] == "skipped"


def test_python_requirement_of_the_wheel_fails(pyti, tmp_path, index):
    whl = pack_wheel(tmp_path, "app", "1.0", metadata_text("app", "1.0", ["dep-two"],
                                                           requires_python=">=3.99"),
                     {"app/__init__.py": b""})
    t, _, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index, check=1)
    assert t["deps"]["status"] == "failed"
    assert "requires Python >=3.99" in t["deps"]["reason"]


def test_sandbox_cannot_reach_the_index(pyti, tmp_path, index):
    """The host staged from the index; the package's own tests, inside the
    sandbox, cannot connect to it (nor to anything else)."""
    probe = textwrap.dedent(f"""\
        import urllib.request
        import pytest


        def test_index_unreachable_from_the_sandbox():
            with pytest.raises(OSError):
                urllib.request.urlopen({index.url + "testhelper/"!r}, timeout=5)
        """)
    files = distbuild.project_files()
    del files["PKG-INFO"]
    files["pyproject.toml"] = SETUPTOOLS_PROJECT.format(
        extra=SOURCES["extras"]["pyproject_extra"]).encode()
    files["tests/test_answer.py"] = TEST_NEEDS_HELPER.encode()
    files["tests/test_net.py"] = probe.encode()
    sdist = distbuild.write_sdist(tmp_path, files=files)
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", index.index)
    assert t["testdeps"]["status"] == "passed"
    assert t["test"]["status"] == "passed", t["test"]["log"][-2000:]
    assert t["test"]["data"]["counts"]["passed"] == 2


def test_interpreter_facts_cached_and_offline_from_the_cache(pyti, tmp_path, index, env):
    """The second job takes the interpreter's tags and installed
    distributions from the host's cache, and with --offline stages from the
    download cache only (the index's server is then not needed)."""
    whl = app_wheel(tmp_path, ["dep-one", "six"])
    first, _, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index)
    assert first["venv"]["data"]["facts_cached"] is False
    assert first["deps"]["status"] == "passed"
    second, _, _ = run_job(pyti, tmp_path, whl, "--index-url", "http://127.0.0.1:1/simple",
                           "--offline")
    # pages are cached by URL: the same index URL is needed offline
    assert second["venv"]["data"]["facts_cached"] is True
    assert second["deps"]["status"] == "error"
    assert "not in the cache" in second["deps"]["reason"]
    third, _, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index, "--offline")
    assert third["deps"]["status"] == "passed", third["deps"]["reason"]
    assert {e["name"] for e in third["deps"]["data"]["staging"]["staged"]} == {
        "dep-one", "dep-two"}
    assert third["import"]["status"] == "passed"


@pytest.mark.parametrize("requires", [
    # installed ones satisfy; an upper bound below the installed version and
    # a project only on the index are staged (itsdangerous 2.1.2 is Debian's)
    ["Werkzeug>=2.2.2", "click>=8.0", "Jinja2>=3.0", "itsdangerous<2", "dep-one"],
    # a dependency of a staged project satisfied by an installed one (six)
    ["uses-six"],
    # the index has newer versions than the installed ones: kept as installed
    ["click", "six>=1.0"],
], ids=["mixed", "transitive", "newer-on-index"])
def test_staged_set_agrees_with_pip(pyti, tmp_path, index, requires):
    """What pyti stages is what pip would install for `pip install x.whl` in
    a venv that sees the system site-packages (pip 23.0.1 from Debian,
    --dry-run --report, against the same index); what pyti says was
    satisfied by installed distributions, pip leaves alone."""
    d = tmp_path / "extra"
    d.mkdir()
    for name, version, reqs in (("itsdangerous", "1.1.0", []), ("click", "99.0", []),
                                ("six", "99.0", []), ("uses-six", "1.0", ["six>=1.10"])):
        module_wheel(d, name, version, "X = 1\n", reqs)
    for f in Path(index.directory).iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    whl = pack_wheel(tmp_path, "myapp", "1.0", metadata_text("myapp", "1.0", requires),
                     {"myapp/__init__.py": b""})
    with Server(d) as s:
        t, report, _ = run_job(pyti, tmp_path, whl, "--index-url", s.index)
        venv = tmp_path / "venv"
        subprocess.run([indexlib.PY, "-m", "venv", "--system-site-packages", "--without-pip",
                        str(venv)], check=True)
        out = tmp_path / "pip.json"
        cp = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--dry-run",
                             "--quiet", "--report", str(out), "--index-url", s.url, str(whl)],
                            env=indexlib.pip_env(), capture_output=True, text=True, timeout=600)
    assert cp.returncode == 0, cp.stderr
    pip = {(indexlib.canon(i["metadata"]["name"]), i["metadata"]["version"])
           for i in json.loads(out.read_text())["install"]}
    assert t["deps"]["status"] == "passed", t["deps"]["reason"]
    staged = {(indexlib.canon(e["name"]), e["version"]) for e in report["dependencies"]["staged"]}
    assert staged | {("myapp", "1.0")} == pip
    installed = {indexlib.canon(e["name"]) for e in report["dependencies"]["installed"]}
    assert not installed & {n for n, _ in pip}
