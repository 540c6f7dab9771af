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
top_txt = d.read_text("top_level.txt")
if top_txt:
    tops.update(t.strip() for t in top_txt.splitlines() if t.strip())
else:
    for f in files:
        parts = f.split("/")
        if parts[0].endswith((".dist-info", ".data")) or parts[0] in ("..", "__pycache__"):
            continue
        if len(parts) == 1 and parts[0].endswith(".py"):
            tops.add(parts[0][:-3])
        elif len(parts) > 1 and parts[-1] == "__init__.py" and len(parts) == 2:
            tops.add(parts[0])
        elif len(parts) == 1 and (parts[0].endswith(".so") or parts[0].endswith(".pyd")):
            tops.add(parts[0].split(".")[0])
print(json.dumps({"name": d.metadata["Name"], "version": d.version,
                  "top_level": sorted(t for t in tops if t), "files": len(files),
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
        argv = pip_argv(a.python, a.wheelhouse, "install", "--no-index", "--no-compile",
                        "--find-links", a.wheelhouse, *links, "--report", "/tmp/pip-report.json",
                        a.wheel)
        code, out, secs = run(argv, env=pip_env())
        res["log_tail"] = tail(out, 16 * 1024)
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
