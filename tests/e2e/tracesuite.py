"""Shared by the behaviour-tracing end-to-end tests: builds small wheels and
sdists whose code does something (malicious or a benign look-alike) when
built, installed, imported or tested, runs `pyti test` on them with a lean
recipe (the static checks, venv, build, install, import, test), and reads
the report. Everything is generated at test time; nothing here runs the
code it packs."""
import base64
import hashlib
import json
import textwrap
import zipfile
from pathlib import Path

import distbuild

RECIPE = """\
[recipe]
description = The tracing suite: static checks, then build, install, import, test (traced)
include = static

[task venv]
builtin = venv
requires = extract
produces = venv
timeout = 120

[task build]
builtin = build
needs = source
produces = wheel
timeout = 600

[task install]
builtin = install
needs = venv, wheel
produces = installed
timeout = 600

[task import]
builtin = import
needs = installed
timeout = {import_timeout}

[task test]
builtin = test
needs = installed, source
timeout = 300
"""

def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel(out_dir, name, files, version="1.0"):
    """A pure-Python wheel of files {path: text} plus its dist-info."""
    mod = name.replace("-", "_")
    di = f"{mod}-{version}.dist-info"
    data = {p: textwrap.dedent(t).encode() if isinstance(t, str) else t
            for p, t in files.items()}
    data[f"{di}/METADATA"] = distbuild.PKG_INFO.format(name=name, version=version).encode()
    data[f"{di}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: pyti-tests\n"
                           b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    tops = sorted({p.split("/")[0].removesuffix(".py") for p in files
                   if not p.endswith(".pth")})
    data[f"{di}/top_level.txt"] = ("\n".join(tops) + "\n").encode()
    lines = [_record_line(p, d) for p, d in sorted(data.items())]
    lines.append(f"{di}/RECORD,,")
    data[f"{di}/RECORD"] = ("\n".join(lines) + "\n").encode()
    path = Path(out_dir) / f"{mod}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, d in data.items():
            zf.writestr(rel, d)
    return path


def sdist(out_dir, name, files, version="1.0", setup_py=None):
    """An sdist (setuptools) with src/<mod>/ from files; setup_py replaces
    the pyproject-only build with a setup.py."""
    mod = name.replace("-", "_")
    all_files = distbuild.project_files(name, version)
    del all_files["tests/test_answer.py"]
    for rel, text in files.items():
        all_files[rel] = textwrap.dedent(text).encode()
    if setup_py is not None:
        all_files["setup.py"] = textwrap.dedent(setup_py).encode()
    all_files.setdefault(f"src/{mod}/__init__.py", b"def answer():\n    return 42\n")
    return distbuild.write_sdist(out_dir, name, version, files=all_files)


def run(pyti, tmp_path, dist, import_timeout=60, check=None):
    recipe = tmp_path / "trace-suite.ini"
    recipe.write_text(RECIPE.format(import_timeout=import_timeout))
    out = tmp_path / "report.json"
    cp = pyti("test", dist, "--recipe", recipe, "--json", out, "--no-store", check=check,
              timeout=900)
    assert out.exists(), cp.stdout + cp.stderr
    return json.loads(out.read_text()), cp


def findings(report, prefix=("trace.", "honeytoken.")):
    return [f for f in report["findings"] if f["id"].startswith(prefix)]


def ids(report):
    return {f["id"] for f in findings(report)}


def explain(report):
    """Text for assertion messages: the behaviour findings and task states."""
    lines = [f"safety={report['verdict']['safety']}"]
    lines += [f"{t['name']}: {t['status']} {t.get('reason') or ''}" for t in report["tasks"]]
    lines += [f"{f['severity']} {f['id']} {f.get('where')} {f.get('excerpt')}"
              for f in findings(report)]
    return "\n".join(lines)
