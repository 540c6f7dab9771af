"""Helpers for the sandbox end-to-end tests: where the attack program is,
and running `pyti sandbox` (as root or as nobody) with a JSON result."""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pyti_bin():
    return os.environ.get("PYTI_BIN", str(ROOT / "build" / "pyti"))

ATTACK_DIR_INSIDE = "/t"


def build_dir():
    d = os.environ.get("PYTI_BUILD_DIR")
    return Path(d) if d else Path(pyti_bin()).resolve().parent


def attack_bin_dir():
    return build_dir() / "tests" / "sandbox"


def is_root():
    return os.geteuid() == 0


def as_nobody_prefix():
    """argv prefix that runs a command as nobody (root only)."""
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


class Run:
    def __init__(self, cp, result):
        self.cp = cp
        self.rc = cp.returncode
        self.out = cp.stdout
        self.err = cp.stderr
        self.result = result

    @property
    def events(self):
        return (self.result or {}).get("events", [])

    def syscalls(self):
        return [e["syscall"] for e in self.events]

    def __repr__(self):
        return (f"<Run rc={self.rc}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n"
                f"{self.err[-3000:]}\n--- result\n{json.dumps(self.result, indent=1)[:3000]}>")


def shared_tmpdir():
    """A temporary directory anyone can use (for runs as nobody)."""
    d = tempfile.mkdtemp(prefix="pyti-sbtest-", dir="/tmp")
    os.chmod(d, 0o777)
    return d


def run_sandbox(env, opts, cmd, nobody=False, timeout=120, input=None, stdin=None):
    """Runs `pyti sandbox --ro-bind <attacks> /t --json R OPTS -- CMD`."""
    tmp = shared_tmpdir()
    try:
        rpath = os.path.join(tmp, "result.json")
        argv = [pyti_bin(), "sandbox", "--ro-bind", str(attack_bin_dir()), ATTACK_DIR_INSIDE,
                "--json", rpath, *map(str, opts), "--", *map(str, cmd)]
        if nobody:
            argv = as_nobody_prefix() + argv
        kw = {}
        if stdin is not None:
            kw["stdin"] = stdin
        elif input is None:
            kw["stdin"] = subprocess.DEVNULL
        cp = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                            input=input, errors="replace", **kw)
        result = None
        if os.path.exists(rpath):
            with open(rpath) as f:
                result = json.load(f)
        return Run(cp, result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def attack(env, name, *args, opts=(), nobody=False, **kw):
    return run_sandbox(env, opts, [f"{ATTACK_DIR_INSIDE}/sbattack", name, *args],
                       nobody=nobody, **kw)
