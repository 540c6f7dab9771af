"""`pyti install` against pip 23.0.1 on real wheels: Flask and its
dependencies repacked from Debian's python3-* packages, the wheels Debian
ships (pip, setuptools, wheel) and a demo wheel using every part of the
format (tests/e2e/debwheels.py builds them at test time).

The same wheels go into two fresh venvs made at the same path (so
shebangs and RECORD paths can be compared byte for byte): one by pip (run
from Debian's pip wheel with the venv's interpreter), one by pyti. The
trees must hold the same files with the same bytes and modes; RECORD the
same rows in the same order; INSTALLER differs by design ("pip" / "pyti")
and with `--installer pip` even that goes. Then both venvs must import
the packages and run a launcher (Debian's own code, with bytecode
writing off so the trees stay untouched)."""
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import debwheels  # noqa: E402
from conftest import pyti_bin  # noqa: E402

PY = "/usr/bin/python3"
PIP_WHEEL = sorted(debwheels.DEBIAN_WHEELS.glob("pip-*.whl"))
IMPORTS = "import flask, werkzeug, jinja2, markupsafe, markupsafe._speedups, itsdangerous, " \
          "click, blinker, setuptools, wheel, pip, demo_pkg, extra_pure, extra_plat"

pytestmark = pytest.mark.skipif(
    not PIP_WHEEL or not shutil.which("dpkg") or
    subprocess.run(["dpkg", "-s", "python3-flask"], capture_output=True).returncode != 0,
    reason="needs python3-pip-whl and python3-flask & co (scripts/install-deps)")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    d = tmp_path_factory.mktemp("wheels")
    return d, debwheels.build_set(d)


def quiet_env():
    e = dict(os.environ)
    e.update(PYTHONDONTWRITEBYTECODE="1", PIP_CONFIG_FILE=os.devnull,
             PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_WARN_SCRIPT_LOCATION="1")
    for k in list(e):
        if k.startswith("PYTHON") and k != "PYTHONDONTWRITEBYTECODE":
            del e[k]
    return e


def make_venv(path):
    if path.exists():
        shutil.rmtree(path)
    subprocess.run([PY, "-m", "venv", "--without-pip", str(path)], check=True)


def run(cmd, **kw):
    cp = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                        env=quiet_env(), timeout=600, **kw)
    assert cp.returncode == 0, f"{cmd}\n--- stdout\n{cp.stdout}\n--- stderr\n{cp.stderr}"
    return cp


def pip_install(venv, args):
    run([venv / "bin" / "python", PIP_WHEEL[-1] / "pip", "install", "--no-index", "--no-deps",
         "--disable-pip-version-check", "-q", *args])


def check_works(venv):
    """The installed packages import and a launcher runs, in this venv."""
    run([venv / "bin" / "python", "-B", "-c", IMPORTS])
    out = run([venv / "bin" / "flask", "--version"]).stdout
    assert "Flask 2.2.2" in out
    assert "pip 23.0.1" in run([venv / "bin" / "pip", "--version"]).stdout


def tree(root):
    """{relative path: (kind, mode, bytes or link target)} of everything under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("link", None, os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", st.st_mode & 0o7777, None)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", st.st_mode & 0o7777, f.read())
    return out


def is_record(rel):
    return rel.endswith(".dist-info/RECORD")


def is_installer(rel):
    return rel.endswith(".dist-info/INSTALLER")


def record_lines(data, installer_hash_ok):
    lines = data.decode().split("\r\n")
    if not installer_hash_ok:
        lines = [ln if ".dist-info/INSTALLER," not in ln else ln.split(",")[0] + ",<installer>"
                 for ln in lines]
    return lines


def same_bytecode(a, b):
    """Two .pyc files hold the same code. Their bytes differ: the header
    has the source's mtime (pip's files are new, pyti's keep the wheel's
    time), and marshal's reference flags depend on the refcounts in the
    writing process, so even two runs of pip differ."""
    return a[:8] == b[:8] and a[12:16] == b[12:16] and \
        marshal.loads(a[16:]) == marshal.loads(b[16:])


def compare(pip_root, pyti_root, exact_installer, pyc_header=False):
    """Asserts the two trees are the same; returns how many files were compared."""
    a, b = tree(pip_root), tree(pyti_root)
    only_pip = sorted(set(a) - set(b))
    only_pyti = sorted(set(b) - set(a))
    assert not only_pip and not only_pyti, f"only pip: {only_pip}\nonly pyti: {only_pyti}"
    problems = []
    for rel in sorted(a):
        ka, ma, da = a[rel]
        kb, mb, db = b[rel]
        if ka != kb or ma != mb:
            problems.append(f"{rel}: pip {ka} {oct(ma or 0)}, pyti {kb} {oct(mb or 0)}")
            continue
        if ka != "file" or da == db:
            continue
        if is_installer(rel) and not exact_installer:
            assert (da, db) == (b"pip\n", b"pyti\n"), rel
        elif is_record(rel) and not exact_installer:
            la, lb = record_lines(da, False), record_lines(db, False)
            if la != lb:
                diff = [f"  pip : {x}" for x in la if x not in lb] + \
                       [f"  pyti: {x}" for x in lb if x not in la]
                problems.append(f"{rel} differs:\n" + "\n".join(diff or ["  (order)"]))
        elif pyc_header and rel.endswith(".pyc") and same_bytecode(da, db):
            pass
        else:
            problems.append(f"{rel}: contents differ")
    assert not problems, "\n".join(problems)
    return sum(1 for k, _, _ in a.values() if k == "file")


def both(tmp_path, pip_args, pyti_args, check=True, venv_name="venv"):
    """Installs with pip, then with pyti, into venvs made at the same path;
    returns (pip tree root, pyti tree root)."""
    venv = tmp_path / venv_name
    make_venv(venv)
    pip_install(venv, pip_args)
    if check:
        check_works(venv)
    pip_root = tmp_path / "by-pip"
    venv.rename(pip_root)
    make_venv(venv)
    run([pyti_bin(), "install", "--venv", venv, *pyti_args])
    if check:
        check_works(venv)
    pyti_root = tmp_path / "by-pyti"
    venv.rename(pyti_root)
    return pip_root, pyti_root


def test_wheel_files_like_pip(tmp_path, wheels):
    """`pip install X.whl...` (REQUESTED and direct_url.json written)."""
    _, paths = wheels
    pip_root, pyti_root = both(tmp_path, ["--no-compile", *paths], paths)
    n = compare(pip_root, pyti_root, exact_installer=False)
    assert n > 1000


def test_find_links_by_name_like_pip(tmp_path, wheels):
    """`pip install --find-links DIR NAME...` (no direct_url.json), and
    --installer pip: the trees are then identical byte for byte. Staged in
    the venv itself, so files and whole directories are renamed into place
    (the other tests stage on tmpfs where there is one, and copy)."""
    d, paths = wheels
    names = [p.name.split("-")[0].replace("_", "-") for p in paths]
    pip_root, pyti_root = both(tmp_path, ["--no-compile", "--find-links", d, *names],
                               ["--no-direct-url", "--installer", "pip",
                                "--staging-dir", tmp_path / "venv", *paths])
    compare(pip_root, pyti_root, exact_installer=True)


def test_compile_like_pip(tmp_path, wheels):
    """With byte-compilation: the same .pyc files (equal but for the
    source mtime in their header) and the same RECORD rows."""
    _, paths = wheels
    pip_root, pyti_root = both(tmp_path, paths, ["--compile", *paths], check=False)
    compare(pip_root, pyti_root, exact_installer=False, pyc_header=True)
    pycs = list(pyti_root.rglob("*.pyc"))
    assert len(pycs) > 500


def test_long_path_trampoline_like_pip(tmp_path, wheels):
    """A venv path with a space and over 127 bytes: launchers get distlib's
    /bin/sh trampoline, "#!python" scripts pip's plain (broken) line."""
    _, paths = wheels
    deep = tmp_path / ("x" * 100)
    deep.mkdir()
    demo = [p for p in paths if p.name.startswith(("Demo_Pkg", "Flask", "click"))]
    pip_root, pyti_root = both(deep, ["--no-compile", *demo], demo, check=False,
                               venv_name="my venv")
    compare(pip_root, pyti_root, exact_installer=False)
    launcher = (pyti_root / "bin" / "demo-x").read_bytes()
    assert launcher.startswith(b"#!/bin/sh\n'''exec' \"" + str(deep).encode() + b"/my venv/")
    assert (pyti_root / "bin" / "s1").read_bytes().startswith(
        b"#!" + str(deep).encode() + b"/my venv/bin/python\n")


def test_refusals_leave_venv_untouched(tmp_path, wheels, pyti):
    """A tampered wheel and a conflicting install change nothing."""
    _, paths = wheels
    venv = tmp_path / "venv"
    make_venv(venv)
    flask = next(p for p in paths if p.name.startswith("Flask"))
    import zipfile
    bad = tmp_path / flask.name
    with zipfile.ZipFile(flask) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "flask/app.py":
                data = data.replace(b"Flask", b"Flasq", 1)
            dst.writestr(info, data)
    before = tree(venv)
    cp = pyti("install", "--venv", venv, *paths[:3], bad)
    assert cp.returncode == 2 and "flask/app.py" in cp.stderr and "RECORD" in cp.stderr
    assert tree(venv) == before
    pyti("install", "--venv", venv, flask, check=0)
    before = tree(venv)
    cp = pyti("install", "--venv", venv, flask)
    assert cp.returncode == 2 and "already installed" in cp.stderr
    assert tree(venv) == before
