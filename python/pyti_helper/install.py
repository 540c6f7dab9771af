"""install.py --python VENV_PY --wheelhouse DIR [--find-links DIR] --wheel FILE --result FILE

Installs a wheel and its dependencies into the venv offline with pip (from
the wheelhouse), then reports what was installed: the distribution's name,
version, top-level modules and file count (read back with
importlib.metadata in the venv), and every distribution pip added.

Outcome: "installed", "failed" (the package does not install) or
"unavailable" (a dependency is not available offline: pyti's limitation)."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import missing_requirement, pip_argv, pip_env, run, tail, write_result  # noqa: E402

# Runs in the venv: what did the wheel install?
INSPECT = r"""
import json, sys
from importlib import metadata
name = sys.argv[1]
d = metadata.distribution(name)
files = [str(f) for f in (d.files or [])]
tops = set()
for f in files:
    parts = f.split("/")
    first = parts[0]
    if first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
        continue
    if len(parts) == 1:
        stem = first.split(".")[0]
        if first.endswith((".py", ".so", ".pyd")) and stem.isidentifier():
            tops.add(stem)
    elif first.isidentifier() and parts[-1].endswith((".py", ".so", ".pyd")):
        tops.add(first)
listed = set()
top_txt = d.read_text("top_level.txt")
if top_txt:
    listed = {t.strip().split("/")[0] for t in top_txt.splitlines() if t.strip()}
print(json.dumps({"name": d.metadata["Name"], "version": d.version,
                  "top_level": sorted(tops), "files": len(files),
                  "top_level_txt_not_installed": sorted(listed - tops),
                  "requires": d.requires or []}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--wheelhouse", required=True)
    ap.add_argument("--find-links", action="append", default=[])
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    res = {"outcome": "failed", "wheel": a.wheel}
    try:
        links = sum((["--find-links", link] for link in a.find_links), [])
        base = ["install", "--no-index", "--no-compile", "--find-links", a.wheelhouse, *links]
        # First the wheel itself into the venv, even when the system's
        # site-packages (visible to the venv) has the same version: the
        # package under test must be the one installed. Then its
        # dependencies, which the system may satisfy.
        code, out, secs = run(pip_argv(a.python, a.wheelhouse, *base, "--no-deps",
                                       "--ignore-installed", a.wheel), env=pip_env())
        log = out
        if code == 0:
            code, out, secs2 = run(pip_argv(a.python, a.wheelhouse, *base, "--report",
                                            "/tmp/pip-report.json", a.wheel), env=pip_env())
            log += out
            secs += secs2
        res["log_tail"] = tail(log, 16 * 1024)
        res["pip_seconds"] = round(secs, 3)
        if code != 0:
            missing = missing_requirement(out)
            if missing:
                res.update(outcome="unavailable",
                           reason=f"dependency {missing} is not available offline")
            else:
                res.update(reason="pip could not install the wheel")
            return 1
        try:
            with open("/tmp/pip-report.json", encoding="utf-8") as f:
                report = json.load(f)
            res["installed"] = [{"name": i["metadata"]["name"], "version": i["metadata"]["version"]}
                                for i in report.get("install", [])]
        except (OSError, ValueError, KeyError, TypeError):
            res["installed"] = []
        code, out, _ = run([a.python, "-P", "-c", INSPECT, a.name])
        if code != 0:
            res.update(reason="the installed distribution cannot be found by importlib.metadata")
            return 1
        info = json.loads(out.strip().splitlines()[-1])
        res.update(outcome="installed", distribution=info)
        return 0
    except Exception as e:
        res.update(outcome="error", reason=f"{type(e).__name__}: {e}")
        return 2
    finally:
        write_result(a.result, res)


if __name__ == "__main__":
    sys.exit(main())
