"""End-to-end: dependencies that exist only as sdists (issue #5). A local
index (`pyti index serve`) is built at test time from synthetic wheels and
setuptools sdists (setup.py, PKG-INFO 2.1: dynamic metadata) written here:

- a wheel whose dependency is only such an sdist: the job passes; the
  dependency's metadata and wheel are built inside the sandbox, staged,
  installed and imported; a second job reuses the built wheel (the cache
  keyed by the sdist's sha256 and the interpreter's tag); a backend
  without prepare_metadata_for_build_wheel has its wheel built once;
- a dependency sdist whose build fails: the deps task's `error` names it
  and keeps the build log;
- a dependency sdist whose setup.py attacks (writes a host file, connects
  to the index): the attack fails and the tracer reports it;
- build requirements that are sdists: a backend served only as an sdist
  is built to build the target; a build cycle is an error naming it;
- a test requirement that is only an sdist is built for the tests;
- `pyti resolve` on a set that needs a metadata build agrees with pip
  (`pip install --dry-run --report` against the same index), and
  `--no-build` keeps the old needs-build outcome."""
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

import distbuild
from indexlib import PY, Server, metadata_text, pack_wheel, pip_env, pyti_bin

SDEP_SETUP = textwrap.dedent('''
    from setuptools import setup
    setup(name="sdep", version="1.0", packages=["sdep"],
          install_requires=["dep-two>=2"])
    ''')


def legacy_sdist(out_dir, name, version, setup_py, modules=None):
    """A setuptools sdist with setup.py and no pyproject.toml; PKG-INFO
    Metadata-Version 2.1, so its metadata is not static (PEP 643)."""
    mod = name.replace("-", "_")
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode(),
        "setup.py": setup_py.encode(),
    }
    files.update(modules or {f"{mod}/__init__.py": b"VALUE = 1\n"})
    return distbuild.write_sdist(out_dir, name=name, version=version, files=files)


def module_wheel(out_dir, name, version, code, requires=()):
    mod = name.replace("-", "_")
    return pack_wheel(out_dir, name, version, metadata_text(name, version, requires),
                      {f"{mod}/__init__.py": code.encode()})


ATTACK_SETUP = textwrap.dedent('''
    import os, socket
    from setuptools import setup
    results = []
    try:
        with open({target!r}, "w") as f:
            f.write("escaped")
        results.append("file-written")
    except OSError as e:
        results.append("file-blocked")
    try:  # a decoy secret in the sandbox's home
        with open(os.path.expanduser("~/.aws/credentials")) as f:
            f.read()
    except OSError:
        pass
    # the host's index on loopback, and a public address (TEST-NET-3)
    for addr in (("127.0.0.1", {port}), ("203.0.113.5", 80)):
        try:
            s = socket.create_connection(addr, timeout=3)
            results.append("network-reached")
            s.close()
        except OSError:
            results.append("network-blocked")
    os.makedirs("evil_dep", exist_ok=True)
    with open("evil_dep/__init__.py", "w") as f:
        f.write("RESULTS = %r\\n" % results)
    setup(name="evil-dep", version="1.0", packages=["evil_dep"])
    ''')

# A PEP 517 backend that is only published as an sdist (a thin wrapper of
# setuptools' backend that marks what it built): building the target needs
# it built first, one level deeper.
SBACKEND_MODULE = textwrap.dedent('''
    from setuptools import build_meta as _bm

    get_requires_for_build_wheel = _bm.get_requires_for_build_wheel
    prepare_metadata_for_build_wheel = _bm.prepare_metadata_for_build_wheel

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        with open("via_sbackend/built_by.py", "w") as f:
            f.write("BUILT_BY = 'sbackend'\\n")
        return _bm.build_wheel(wheel_directory, config_settings, metadata_directory)
    ''')


# An in-tree backend (backend-path) with build_wheel only: no
# prepare_metadata_for_build_wheel, so the metadata comes from the wheel
# (PEP 517's fallback), which is then staged without a second build.
NOHOOK_BACKEND = textwrap.dedent('''
    import base64, hashlib, zipfile

    def _digest(data):
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        info = "nohook_dep-1.0.dist-info/"
        members = [("nohook_dep/__init__.py", b"FROM_WHEEL_ONLY = True\\n"),
                   (info + "METADATA", b"Metadata-Version: 2.1\\nName: nohook-dep\\n"
                                       b"Version: 1.0\\nRequires-Dist: dep-two<2\\n\\n"),
                   (info + "WHEEL", b"Wheel-Version: 1.0\\nGenerator: nohook\\n"
                                    b"Root-Is-Purelib: true\\nTag: py3-none-any\\n")]
        record = "".join(f"{p},sha256={_digest(d)},{len(d)}\\n" for p, d in members)
        members.append((info + "RECORD", (record + info + "RECORD,,\\n").encode()))
        name = "nohook_dep-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel_directory + "/" + name, "w") as z:
            for p, d in members:
                z.writestr(p, d)
        return name
    ''')


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    d = tmp_path_factory.mktemp("sdist-index")
    module_wheel(d, "dep-two", "1.0", "OLD = True\n")
    module_wheel(d, "dep-two", "2.0", "OLD = False\n")
    legacy_sdist(d, "sdep", "1.0", SDEP_SETUP,
                 {"sdep/__init__.py": b"import dep_two\nassert not dep_two.OLD\nVALUE = 42\n"})
    legacy_sdist(d, "broken-dep", "1.0",
                 "import sys\nprint('broken-dep: the compiler is missing', file=sys.stderr)\n"
                 "sys.exit(7)\n")
    legacy_sdist(d, "sbackend", "1.0", textwrap.dedent('''
        from setuptools import setup
        setup(name="sbackend", version="1.0", py_modules=["sbackend"])
        '''), {"sbackend.py": SBACKEND_MODULE.encode()})
    distbuild.write_sdist(d, name="nohook-dep", version="1.0", files={
        "PKG-INFO": b"Metadata-Version: 2.1\nName: nohook-dep\nVersion: 1.0\n\n",
        "pyproject.toml": b'[build-system]\nrequires = []\nbuild-backend = "nohook"\n'
                          b'backend-path = ["."]\n',
        "nohook.py": NOHOOK_BACKEND.encode()})
    # a build cycle: cyc-a needs cyc-b to build, which needs cyc-a
    for me, other in (("cyc-a", "cyc-b"), ("cyc-b", "cyc-a")):
        files = {
            "PKG-INFO": f"Metadata-Version: 2.1\nName: {me}\nVersion: 1.0\n\n".encode(),
            "pyproject.toml": (f'[build-system]\nrequires = ["{other}"]\n'
                               f'build-backend = "setuptools.build_meta"\n').encode(),
            f"{me.replace('-', '_')}/__init__.py": b"",
        }
        distbuild.write_sdist(d, name=me, version="1.0", files=files)
    with Server(d) as s:
        s.directory = d
        yield s


def run_job(pyti, tmp_path, dist, *args, check=None):
    out = tmp_path / "report.json"
    if out.exists():
        out.unlink()
    cp = pyti("test", dist, "--json", out, "--no-store", *args, check=check, timeout=900)
    assert out.exists(), cp.stderr
    report = json.loads(out.read_text())
    return {t["name"]: t for t in report["tasks"]}, report, cp


def app_wheel(tmp_path, name, requires, code):
    return pack_wheel(tmp_path, name, "1.0", metadata_text(name, "1.0", requires),
                      {f"{name.replace('-', '_')}/__init__.py": code.encode()})


def test_sdist_dependency_built_in_sandbox_and_cached(pyti, tmp_path, index):
    whl = app_wheel(tmp_path, "app", ["sdep"], "import sdep\nassert sdep.VALUE == 42\n")
    t, report, cp = run_job(pyti, tmp_path, whl, "--index-url", index.index)
    d = t["deps"]
    assert d["status"] == "passed", (d["reason"], d["log"][-3000:])
    staging = d["data"]["staging"]
    staged = {e["name"]: e for e in staging["staged"]}
    assert set(staged) == {"sdep", "dep-two"}
    # the dependency's own dependency comes from the metadata built in the
    # sandbox (setup.py's install_requires; PKG-INFO 2.1 does not say)
    assert staged["dep-two"]["version"] == "2.0"
    assert staged["dep-two"]["required_by"] == ["sdep 1.0"]
    s = staged["sdep"]
    assert s["filename"] == "sdep-1.0-py3-none-any.whl"
    assert s["path"] == "/job/input/deps/sdep-1.0-py3-none-any.whl"
    assert s["built_from"]["sdist"] == "sdep-1.0.tar.gz"
    assert s["built_from"]["cached"] is False
    assert len(s["built_from"]["sha256"]) == 64
    builds = {b["name"]: b for b in staging["builds"]}
    b = builds["sdep"]
    assert b["outcome"] == "built" and b["hooks"] == ["metadata", "wheel"]
    assert [r["phase"] for r in b["rounds"]][:1] == ["prepare"]
    assert b["staging"][0]["staged"][0]["index"] == "wheelhouse"  # setuptools
    # installed as any staged wheel, and imported by the package under test
    assert t["install"]["status"] == "passed", t["install"]["reason"]
    names = {e["name"]: e["dependency"] for e in t["install"]["data"]["installed"]}
    assert names == {"sdep": True, "dep-two": True, "app": False}
    assert t["import"]["status"] == "passed", t["import"]["log"][-2000:]
    rep = {e["name"]: e for e in report["dependencies"]["staged"]}
    assert rep["sdep"]["built_from"]["sdist"] == "sdep-1.0.tar.gz"

    # A second job reuses the wheel built from that sdist (same sha256 and
    # interpreter tag): no build runs.
    t2, report2, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index)
    d2 = t2["deps"]
    assert d2["status"] == "passed", d2["reason"]
    s2 = {e["name"]: e for e in d2["data"]["staging"]["staged"]}["sdep"]
    assert s2["built_from"]["cached"] is True
    assert s2["sha256"] == s["sha256"]
    b2 = {b["name"]: b for b in d2["data"]["staging"]["builds"]}["sdep"]
    assert b2["outcome"] == "cached" and b2["rounds"] == []
    assert "reusing the wheel built earlier from sdep-1.0.tar.gz" in d2["log"]
    assert t2["import"]["status"] == "passed"


def deps_error(pyti, tmp_path, index, app, dep):
    """A job whose wheel needs dep: exit 3, the deps task's error."""
    whl = app_wheel(tmp_path, app, [dep], f"import {dep.replace('-', '_')}\n")
    t, report, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index, check=3)
    assert t["deps"]["status"] == "error", t["deps"]["reason"]
    return t, report


def test_backend_without_metadata_hook_builds_the_wheel_once(pyti, tmp_path, index):
    whl = app_wheel(tmp_path, "app-nohook", ["nohook-dep"],
                    "import nohook_dep, dep_two\nassert nohook_dep.FROM_WHEEL_ONLY\n"
                    "assert dep_two.OLD\n")
    t, _, _ = run_job(pyti, tmp_path, whl, "--index-url", index.index)
    d = t["deps"]
    assert d["status"] == "passed", (d["reason"], d["log"][-3000:])
    staging = d["data"]["staging"]
    staged = {e["name"]: e for e in staging["staged"]}
    assert staged["dep-two"]["version"] == "1.0"  # the wheel's METADATA: dep-two<2
    b = {b["name"]: b for b in staging["builds"]}["nohook-dep"]
    assert b["outcome"] == "built" and b["hooks"] == ["metadata"]
    assert [(r["phase"], r["outcome"]) for r in b["rounds"]] == [
        ("prepare", "prepared"), ("metadata", "built")]
    assert t["import"]["status"] == "passed", t["import"]["log"][-2000:]


def test_failed_dependency_build_is_an_error_naming_it(pyti, tmp_path, index):
    t, report = deps_error(pyti, tmp_path, index, "app-broken", "broken-dep")
    d = t["deps"]
    assert "broken-dep" in d["reason"] and "broken_dep-1.0.tar.gz" in d["reason"]
    assert "failed" in d["reason"]
    staging = d["data"]["staging"]
    assert staging["build_failed"] == "broken-dep"
    b = {b["name"]: b for b in staging["builds"]}["broken-dep"]
    assert b["outcome"] == "failed"
    assert "the compiler is missing" in b["log"]  # the build's own output
    # never the package's failure
    assert t["install"]["status"] == "skipped"
    assert report["verdict"]["quality"] != "broken"


def test_attacking_dependency_build_runs_in_the_sandbox(pyti, tmp_path, index):
    target = tmp_path / "pwned-by-evil-dep"
    port = int(index.index.split(":")[2].split("/")[0])
    d = tmp_path / "evil-index"
    d.mkdir()
    legacy_sdist(d, "evil-dep", "1.0", ATTACK_SETUP.format(target=str(target), port=port),
                 {"evil_dep/__init__.py": b""})
    whl = app_wheel(tmp_path, "app-evil", ["evil-dep"],
                    "import evil_dep\n"
                    "assert evil_dep.RESULTS == ['file-blocked', 'network-blocked', "
                    "'network-blocked'], "
                    "evil_dep.RESULTS\n")
    with Server(d) as s:
        # pyti resolve builds the metadata in the sandbox too, and says what
        # the tracer saw (first: the job's wheel goes to the cache)
        out = tmp_path / "resolve.json"
        rcp = pyti("resolve", "--index-url", s.index, "--json", out, "evil-dep", check=0)
        t, report, cp = run_job(pyti, tmp_path, whl, "--index-url", s.index)
    assert "evil-dep==1.0" in rcp.stdout.split()
    assert "trace.network" in rcp.stderr
    assert any(f["id"] == "trace.network" for f in json.loads(out.read_text())["build_findings"])
    assert not target.exists(), "setup.py of a dependency wrote a host file"
    dep = t["deps"]
    assert dep["status"] == "passed", (dep["reason"], dep["log"][-3000:])
    # what the attack saw from inside, recorded into the module it built
    # (the package under test asserts both attempts failed)
    assert t["import"]["status"] == "passed", t["import"]["log"][-2000:]
    # and the tracer caught the attempt, in the task that built it
    found = [f for f in report["findings"] if f["id"] == "trace.network"]
    assert found and all(f["task"] == "deps" for f in found), report["findings"]
    assert "203.0.113.5" in json.dumps(found)
    assert any(f["id"] == "honeytoken.read" and f["task"] == "deps"
               for f in report["findings"]), report["findings"]
    assert report["verdict"]["safety"] != "clean"


def test_sdist_build_requirement_of_the_target_is_built(pyti, tmp_path, index):
    files = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: via-sbackend\nVersion: 1.0\n\n",
        "pyproject.toml": b'[build-system]\nrequires = ["sbackend", "setuptools>=61"]\n'
                          b'build-backend = "sbackend"\n\n'
                          b'[project]\nname = "via-sbackend"\nversion = "1.0"\n\n'
                          b'[tool.setuptools]\npackages = ["via_sbackend"]\n',
        "via_sbackend/__init__.py": b"from via_sbackend.built_by import BUILT_BY\n",
    }
    sdist = distbuild.write_sdist(tmp_path, name="via-sbackend", files=files)
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", index.index)
    b = t["build"]
    assert b["status"] == "passed", (b["reason"], b["log"][-3000:])
    st = b["data"]["staging"][0]
    e = st["staged"][0]
    assert e["name"] == "sbackend" and e["built_from"]["sdist"] == "sbackend-1.0.tar.gz"
    assert t["import"]["status"] == "passed"


def test_sdist_test_requirement_is_built_for_the_tests(pyti, tmp_path, index):
    files = distbuild.project_files()
    del files["PKG-INFO"]
    files["pyproject.toml"] = (b'[build-system]\nrequires = ["setuptools>=61"]\n'
                               b'build-backend = "setuptools.build_meta"\n\n'
                               b'[project]\nname = "demo-pkg"\nversion = "1.0"\n\n'
                               b'[tool.setuptools.packages.find]\nwhere = ["src"]\n')
    files["test-requirements.txt"] = b"sdep\n"
    files["tests/test_answer.py"] = (b"import sdep\nfrom demo_pkg import answer\n\n\n"
                                     b"def test_answer():\n"
                                     b"    assert sdep.VALUE == answer() == 42\n")
    sdist = distbuild.write_sdist(tmp_path, files=files)
    t, _, _ = run_job(pyti, tmp_path, sdist, "--index-url", index.index)
    td = t["testdeps"]
    assert td["status"] == "passed", (td["reason"], td["log"][-3000:])
    staged = {e["name"]: e for e in td["data"]["staging"]["staged"]}
    assert staged["sdep"]["built_from"]["sdist"] == "sdep-1.0.tar.gz"
    assert "dep-two" in staged
    # the package's tests import it: they pass only if it was installed
    assert t["test"]["status"] == "passed", (t["test"]["reason"], t["test"]["log"][-2000:])


def test_build_cycle_is_an_error_naming_it(pyti, tmp_path, index):
    t, _ = deps_error(pyti, tmp_path, index, "app-cyc", "cyc-a")
    d = t["deps"]
    assert "build cycle" in d["reason"] and "cyc-a → cyc-b → cyc-a" in d["reason"], d["reason"]


# ---- pyti resolve ------------------------------------------------------------

def test_resolve_builds_metadata_and_agrees_with_pip(pyti, tmp_path, index):
    out = tmp_path / "r.json"
    cp = pyti("resolve", "--index-url", index.index, "--json", out, "sdep", check=0)
    got = sorted(cp.stdout.split())
    assert got == ["dep-two==2.0", "sdep==1.0"]
    data = json.loads(out.read_text())
    assert data["builds"][0]["name"] == "sdep" and data["builds"][0]["outcome"] == "metadata"
    # pip builds the same metadata (setuptools from the system: the test
    # index has none) and chooses the same set
    report = tmp_path / "pip.json"
    pcp = subprocess.run([PY, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                          "--quiet", "--no-build-isolation", "--report", str(report),
                          "--index-url", index.index, "sdep"],
                         env=pip_env(), capture_output=True, text=True, timeout=600)
    assert pcp.returncode == 0, pcp.stderr
    pip = sorted(f"{i['metadata']['name']}=={i['metadata']['version']}"
                 for i in json.loads(report.read_text())["install"])
    assert pip == got


def test_resolve_failed_metadata_build_and_no_build(pyti, tmp_path, index):
    cp = pyti("resolve", "--index-url", index.index, "broken-dep", check=1)
    assert "broken-dep" in cp.stderr and "failed" in cp.stderr
    out = tmp_path / "r.json"
    cp = pyti("resolve", "--no-build", "--index-url", index.index, "--json", out, "sdep",
              check=1)
    assert json.loads(out.read_text())["outcome"] == "needs-build"
    assert "--no-build" in cp.stderr
