"""Builds distributions for the end-to-end tests, at test time, from local
files only: sdists in every archive format, wheels with a correct RECORD,
and hostile archives. Nothing here runs the code it packs."""
import base64
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello-pyti"

PKG_INFO = """Metadata-Version: 2.1
Name: {name}
Version: {version}
Summary: A test project
Home-page: https://example.invalid/{name}
Author: Tester
Author-email: tester@example.invalid
License: MIT
Classifier: Programming Language :: Python :: 3
Requires-Python: >=3.8
Description-Content-Type: text/plain

A test project built by pyti's tests.
"""


def project_files(name="demo-pkg", version="1.0", pkg_info=None, extra=None):
    """The files of a small healthy project, as {relative path: bytes}."""
    mod = name.replace("-", "_")
    files = {
        "PKG-INFO": (pkg_info or PKG_INFO.format(name=name, version=version)).encode(),
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n').encode(),
        "README.md": b"# demo\n",
        "LICENSE": b"MIT\n",
        f"src/{mod}/__init__.py": b"def answer():\n    return 42\n",
        "tests/test_answer.py": (
            f"from {mod} import answer\n\n\ndef test_answer():\n"
            "    assert answer() == 42\n").encode(),
    }
    files.update(extra or {})
    return files


def write_sdist(out_dir, name="demo-pkg", version="1.0", fmt="tar.gz", files=None,
                top=None):
    """Writes an sdist of files (default: project_files) with one top-level
    directory; fmt is tar.gz, tgz, tar.bz2, tar.xz or zip. Returns its path."""
    files = files if files is not None else project_files(name, version)
    base = top if top is not None else f"{name.replace('-', '_')}-{version}"
    path = Path(out_dir) / f"{name.replace('-', '_')}-{version}.{fmt}"
    if fmt == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, data in sorted(files.items()):
                zf.writestr(f"{base}/{rel}" if base else rel, data)
        return path
    mode = {"tar.gz": "w:gz", "tgz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}[fmt]
    with tarfile.open(path, mode) as tf:
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{base}/{rel}" if base else rel)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def write_wheel(out_dir, name="demo_pkg", version="1.0", tamper=None, metadata=None):
    """Writes a pure-Python wheel with a correct RECORD; tamper(files) may
    change the files after RECORD was computed. Returns its path."""
    di = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"def answer():\n    return 42\n",
        f"{di}/METADATA": (metadata or PKG_INFO.format(name=name.replace("_", "-"),
                                                       version=version)).encode(),
        f"{di}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: pyti-tests\n"
                        b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        f"{di}/top_level.txt": f"{name}\n".encode(),
    }
    lines = [record_line(p, d) for p, d in sorted(files.items())]
    lines.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = ("\n".join(lines) + "\n").encode()
    if tamper:
        tamper(files)
    path = Path(out_dir) / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
    return path


def hostile_tar(out_dir, filename, members):
    """members: list of TarInfo-building dicts {name, type, data, linkname,
    mode}. Returns the path of a .tar.gz containing them, in order."""
    path = Path(out_dir) / filename
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tf:
        for m in members:
            info = tarfile.TarInfo(m["name"])
            info.type = m.get("type", tarfile.REGTYPE)
            info.mode = m.get("mode", 0o644)
            info.linkname = m.get("linkname", "")
            data = m.get("data", b"")
            if info.type == tarfile.REGTYPE:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                if info.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                    info.devmajor, info.devminor = 1, 3
                tf.addfile(info)
    return path
