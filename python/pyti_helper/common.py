"""Shared by the helpers: writing the result, running a command with a
time limit, and bounded text."""
import json
import os
import subprocess
import sys
import time

MAX_TEXT = 64 * 1024


def write_result(path, result):
    """Writes result as JSON to path (atomically, never through a link)."""
    tmp = f"{path}.tmp{os.getpid()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True, default=str)
    os.replace(tmp, path)


def tail(text, limit=MAX_TEXT):
    """The last `limit` characters of text."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def run(argv, cwd=None, env=None, timeout=None):
    """Runs argv, echoing its output to ours; returns (code, output, seconds).
    code is None when it timed out."""
    print("$ " + " ".join(argv), flush=True)
    start = time.monotonic()
    try:
        cp = subprocess.run(argv, cwd=cwd, env=env, timeout=timeout,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        code, out = cp.returncode, cp.stdout
    except subprocess.TimeoutExpired as e:
        code, out = None, e.stdout or b""
    except OSError as e:
        code, out = 127, str(e).encode()
    text = out.decode("utf-8", "replace")
    sys.stdout.write(tail(text))
    sys.stdout.flush()
    return code, text, time.monotonic() - start
