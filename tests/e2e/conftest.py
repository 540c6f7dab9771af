"""Shared fixtures for the end-to-end tests: the real pyti binary, a private
XDG environment per test, and helpers to run pyti and build distributions."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pyti_bin():
    return os.environ.get("PYTI_BIN", str(ROOT / "build" / "pyti"))


@pytest.fixture
def env(tmp_path):
    """An environment with private XDG dirs so tests never touch the user's."""
    e = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        p = tmp_path / var.lower()
        p.mkdir()
        e[var] = str(p)
    e.pop("NO_COLOR", None)
    return e


@pytest.fixture
def pyti(env):
    """Runs pyti with the given arguments; returns CompletedProcess (text)."""
    def run(*args, check=None, input=None, timeout=300):
        cp = subprocess.run([pyti_bin(), *map(str, args)], env=env, input=input,
                            capture_output=True, text=True, timeout=timeout)
        if check is not None and cp.returncode != check:
            raise AssertionError(
                f"pyti {' '.join(map(str, args))} exited {cp.returncode}, expected {check}\n"
                f"--- stdout\n{cp.stdout}\n--- stderr\n{cp.stderr}")
        return cp
    return run
