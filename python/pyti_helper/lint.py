"""lint.py --source DIR --result FILE

Counts pycodestyle issues and pyflakes warnings over the Python files of
the source tree, with their rates per thousand lines (KLOC): a quality
signal, never a failure. Uses Debian's python3-pycodestyle and
python3-pyflakes; neither imports the code it checks."""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import write_result  # noqa: E402

SKIP_DIRS = {".git", ".hg", ".tox", ".nox", "__pycache__", "build", "dist", ".eggs", "node_modules",
             "venv", ".venv"}
MAX_FILES = 20000


def python_files(root):
    files = []
    for d, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.endswith(".egg-info"))
        for n in sorted(names):
            p = os.path.join(d, n)
            if n.endswith(".py") and os.path.isfile(p) and not os.path.islink(p):
                files.append(p)
                if len(files) >= MAX_FILES:
                    return files
    return files


def count_lines(files):
    total = 0
    for p in files:
        try:
            with open(p, "rb") as f:
                total += sum(1 for _ in f)
        except OSError:
            pass
    return total


def run_tool(module, args, files):
    codes = {}
    n = 0
    for i in range(0, len(files), 200):
        cp = subprocess.run([sys.executable, "-P", "-m", module, *args, *files[i:i + 200]],
                            capture_output=True, text=True, errors="replace", timeout=600)
        for line in cp.stdout.splitlines():
            m = re.match(r"^.+?:\d+:(?:\d+:)? (\w\d+)?", line)
            if m:
                n += 1
                code = m.group(1) or "other"
                codes[code] = codes.get(code, 0) + 1
    return n, codes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    files = python_files(a.source)
    lines = count_lines(files)
    res = {"python_files": len(files), "lines": lines}
    if files:
        kloc = max(lines / 1000.0, 0.001)
        style, style_codes = run_tool("pycodestyle", [], files)
        flakes, _ = run_tool("pyflakes", [], files)
        res.update(pycodestyle_issues=style, pycodestyle_per_kloc=round(style / kloc, 2),
                   pycodestyle_codes=dict(sorted(style_codes.items(), key=lambda x: -x[1])[:20]),
                   pyflakes_warnings=flakes, pyflakes_per_kloc=round(flakes / kloc, 2))
    print(f"{len(files)} Python files, {lines} lines", flush=True)
    write_result(a.result, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
