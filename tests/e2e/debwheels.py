"""Real wheels for the installer's tests and benchmark, made at run time
from what Debian installed — never committed.

pack_debian(pkg, out_dir) turns an installed Debian package of a Python
distribution (python3-flask, ...) into the wheel its upstream would have
shipped: the modules under /usr/lib/python3/dist-packages at the wheel's
root, its /usr/bin scripts in <name>-<ver>.data/scripts with their python
shebang turned back into "#!python" (as setuptools writes them into a
wheel), /usr/share files in .data/data, the .egg-info or .dist-info
turned into a .dist-info, and a RECORD with sha256 and size for every
file. A package with compiled extensions becomes a cp311 platform wheel
(Root-Is-Purelib: false).

write_demo_wheel(out_dir) writes a small wheel that uses every corner of
the format pip handles (.data/purelib, platlib, headers, data, scripts
with and without "#!python", an entry-point wrapper pip skips, console
and gui entry points with extras).

Nothing here runs the code it packs."""
import base64
import csv
import hashlib
import io
import os
import re
import stat
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

SITE = "/usr/lib/python3/dist-packages"
DEBIAN_WHEELS = Path("/usr/share/python-wheels")
FLASK_SET = ["python3-flask", "python3-werkzeug", "python3-jinja2", "python3-markupsafe",
             "python3-itsdangerous", "python3-click", "python3-blinker"]
SHEBANG = re.compile(rb"^#!\s*(/usr/bin/env\s+)?/?(usr/bin/)?python[0-9.]*([ \t].*)?$")


def _record_row(arc, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [arc, f"sha256={digest}", str(len(data))]


def write_wheel(path, members, dist_info):
    """members: [(arcname, bytes, executable)]; RECORD is added last."""
    rows = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, data, exe in members:
            info = zipfile.ZipInfo(arc, (2020, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | (0o755 if exe else 0o644)) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            rows.append(_record_row(arc, data))
        rows.append([f"{dist_info}/RECORD", "", ""])
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", (2020, 1, 1, 0, 0, 0))
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        info.create_system = 3
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, text.getvalue())
    return path


def _dpkg_files(pkg):
    out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("/usr/")]


def _read(path):
    """Contents of a regular file (through symlinks), or None."""
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def pack_debian(pkg, out_dir):
    """Packs the Debian package pkg into a wheel in out_dir; returns its path."""
    files = _dpkg_files(pkg)
    info = [f for f in files if os.path.dirname(f) == SITE and
            (f.endswith(".egg-info") or f.endswith(".dist-info"))]
    if len(info) != 1:
        raise ValueError(f"{pkg}: no single .egg-info/.dist-info in {SITE}: {info}")
    info = info[0]
    meta_name = "PKG-INFO" if info.endswith(".egg-info") else "METADATA"
    metadata = _read(os.path.join(info, meta_name))
    fields = dict(re.findall(r"^(Name|Version): (.*)$", metadata.decode(), re.M))
    name, version = fields["Name"].strip(), fields["Version"].strip()
    stem = re.sub(r"[-_.]+", "_", name)
    dist_info = f"{stem}-{version}.dist-info"
    data_dir = f"{stem}-{version}.data"

    members, native = [], False
    for f in sorted(files):
        if f == info or f.startswith(info + "/"):
            continue
        data = _read(f)
        if data is None or "__pycache__" in f or f.endswith(".pyc"):
            continue
        exe = os.access(f, os.X_OK) and not os.path.islink(f)
        if f.startswith(SITE + "/"):
            rel = f[len(SITE) + 1:]
            native = native or f.endswith(".so")
            members.append((rel, data, exe))
        elif f.startswith("/usr/bin/"):
            first, nl, rest = data.partition(b"\n")
            if SHEBANG.match(first):
                data = b"#!python" + nl + rest
            members.append((f"{data_dir}/scripts/{os.path.basename(f)}", data, True))
        elif f.startswith("/usr/share/"):
            members.append((f"{data_dir}/data/{f[len('/usr/'):]}", data, exe))
    for entry in sorted(os.listdir(info)):
        if entry in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "SOURCES.txt",
                     "dependency_links.txt", "requires.txt", "PKG-INFO"):
            continue
        data = _read(os.path.join(info, entry))
        if data is not None:
            members.append((f"{dist_info}/{entry}", data, False))
    if meta_name == "PKG-INFO":
        members.append((f"{dist_info}/METADATA", metadata, False))
    if native:
        tag = (f"cp{sys.version_info[0]}{sys.version_info[1]}-"
               f"cp{sys.version_info[0]}{sys.version_info[1]}-"
               f"{sysconfig.get_platform().replace('-', '_').replace('.', '_')}")
    else:
        tag = "py3-none-any"
    wheel_file = (f"Wheel-Version: 1.0\nGenerator: pyti-tests debwheels\n"
                  f"Root-Is-Purelib: {'false' if native else 'true'}\nTag: {tag}\n").encode()
    members = [m for m in members if m[0] != f"{dist_info}/WHEEL"]
    members.append((f"{dist_info}/WHEEL", wheel_file, False))
    path = Path(out_dir) / f"{stem}-{version}-{tag}.whl"
    return write_wheel(path, members, dist_info)


def write_demo_wheel(out_dir, name="Demo_Pkg", version="1.0"):
    """A wheel using every part of the format; returns its path."""
    di, dd = f"{name}-{version}.dist-info", f"{name}-{version}.data"
    members = [
        ("demo_pkg/__init__.py", b"X = 1\n", False),
        ("demo_pkg/sub/mod.py", b"def main():\n    print('hi')\n\n\nclass Obj:\n"
                                b"    @staticmethod\n    def method():\n        pass\n", False),
        ("demo_pkg/native.bin", b"\x7fELF\x02", True),
        ("demo_pkg/name with space, and comma.txt", b"odd\n", False),
        (f"{dd}/scripts/s1", b"#!python\nprint(1)\n", True),
        (f"{dd}/scripts/s2", b"#!pythonw -u\r\nprint(2)\r\n", False),
        (f"{dd}/scripts/s3", b"#!python3.11 -E\nprint(3)\n", True),
        (f"{dd}/scripts/s4", b"#!/usr/bin/env python\nprint(4)\n", True),
        (f"{dd}/scripts/s5.sh", b"echo hi\n", True),
        (f"{dd}/scripts/s6", b"#!python", True),
        (f"{dd}/scripts/democli", b"#!python\n# a setuptools wrapper pip skips\n", True),
        (f"{dd}/scripts/demogui.exe", b"MZ wrapper\n", False),
        (f"{dd}/data/share/demo/x.txt", b"data\n", False),
        (f"{dd}/data/share/demo/tool.py", b"print('data .py')\n", False),
        (f"{dd}/headers/demo.h", b"int x;\n", False),
        (f"{dd}/purelib/extra_pure.py", b"P = 1\n", False),
        (f"{dd}/platlib/extra_plat.py", b"Q = 1\n", False),
        (f"{di}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
         False),
        (f"{di}/WHEEL", b"Wheel-Version: 1.0\nGenerator: pyti-tests\nRoot-Is-Purelib: true\n"
                        b"Tag: py3-none-any\n", False),
        (f"{di}/entry_points.txt",
         b"[console_scripts]\ndemocli = demo_pkg.sub.mod:main\n"
         b"demo-x = demo_pkg.sub.mod:main [extra1, extra2]\n"
         b"demo.obj = demo_pkg.sub.mod:Obj.method\n"
         b"\n[gui_scripts]\ndemogui = demo_pkg.sub.mod:main\n"
         b"\n[other.group]\nplugin = demo_pkg:X\n", False),
        (f"{di}/top_level.txt", b"demo_pkg\n", False),
    ]
    return write_wheel(Path(out_dir) / f"{name}-{version}-py3-none-any.whl", members, di)


def build_set(out_dir, debian=FLASK_SET, shipped=True, demo=True):
    """The wheels of the equality test and the benchmark: Flask and its
    dependencies repacked from Debian, the wheels Debian ships, the demo."""
    out = []
    for pkg in debian:
        out.append(pack_debian(pkg, out_dir))
    if shipped:
        for whl in sorted(DEBIAN_WHEELS.glob("*.whl")):
            dest = Path(out_dir) / whl.name
            dest.write_bytes(whl.read_bytes())
            out.append(dest)
    if demo:
        out.append(write_demo_wheel(out_dir))
    return out


if __name__ == "__main__":
    for p in build_set(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(p)
