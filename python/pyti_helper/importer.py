"""importer.py --python VENV_PY --module NAME... --result FILE

Imports every top-level module, each in a fresh interpreter (so one
module's side effects cannot hide another's failure), and records success,
time and the error (exception type and message, and the traceback's tail)."""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import tail, write_result  # noqa: E402

PROBE = r"""
import importlib, json, sys, time, traceback
t = time.perf_counter()
try:
    importlib.import_module(sys.argv[1])
    r = {"ok": True}
except BaseException as e:
    r = {"ok": False, "error": f"{type(e).__name__}: {e}",
         "exception": type(e).__name__, "traceback": traceback.format_exc()[-4000:]}
r["seconds"] = round(time.perf_counter() - t, 4)
sys.stdout.flush()
print("\n@@PYTI-IMPORT@@" + json.dumps(r))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--module", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    results = []
    for mod in a.module:
        start = time.monotonic()
        entry = {"module": mod}
        try:
            cp = subprocess.run([a.python, "-P", "-c", PROBE, mod], capture_output=True,
                                timeout=a.timeout, cwd="/tmp")
            out = cp.stdout.decode("utf-8", "replace")
            if "@@PYTI-IMPORT@@" in out:
                entry.update(json.loads(out.rsplit("@@PYTI-IMPORT@@", 1)[1].strip()))
            else:
                entry.update(ok=False, error=f"the interpreter exited with {cp.returncode} "
                                             "before reporting")
            entry["stderr_tail"] = tail(cp.stderr, 4000)
        except subprocess.TimeoutExpired:
            entry.update(ok=False, error=f"import did not finish within {a.timeout:g} s")
        entry["wall_seconds"] = round(time.monotonic() - start, 4)
        print(f"import {mod}: {'ok' if entry.get('ok') else entry.get('error')}", flush=True)
        results.append(entry)
    write_result(a.result, {"modules": results,
                            "imported": sum(1 for r in results if r.get("ok")),
                            "failed": sum(1 for r in results if not r.get("ok"))})
    return 0


if __name__ == "__main__":
    sys.exit(main())
