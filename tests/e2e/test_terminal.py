"""End-to-end: progress on a terminal, silence when not a TTY or with
--quiet, and NO_COLOR honoured. A pseudo-terminal stands in for the user's
terminal."""
import os
import pty
import subprocess

import distbuild


def pyti_bin():
    return os.environ.get("PYTI_BIN", str(distbuild.ROOT / "build" / "pyti"))


def run_on_pty(args, env):
    """Runs pyti with stdout and stderr on a pty; returns what it printed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([pyti_bin(), *map(str, args)], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


def test_progress_and_colour_on_a_terminal(tmp_path, env):
    whl = distbuild.write_wheel(tmp_path)
    env["TERM"] = "xterm"
    rc, out = run_on_pty(["test", whl, "--recipe", "static", "--no-store"], env)
    assert rc == 0
    assert "[1/5] extract ..." in out
    assert "\033[" in out


def test_no_color(tmp_path, env):
    whl = distbuild.write_wheel(tmp_path)
    env["NO_COLOR"] = "1"
    rc, out = run_on_pty(["test", whl, "--recipe", "static", "--no-store"], env)
    assert rc == 0
    assert "[1/5] extract ..." in out
    assert "\033[" not in out


def test_quiet_on_a_terminal(tmp_path, env):
    whl = distbuild.write_wheel(tmp_path)
    rc, out = run_on_pty(["test", whl, "--recipe", "static", "--no-store", "--quiet"], env)
    assert rc == 0
    assert "[1/5]" not in out
    assert out.strip().splitlines()[-1].startswith("verdict:") or "verdict" in out


def test_no_progress_when_not_a_tty(pyti, tmp_path):
    whl = distbuild.write_wheel(tmp_path)
    cp = pyti("test", whl, "--recipe", "static", "--no-store", check=0)
    assert "[1/5]" not in cp.stderr
    assert "\033[" not in cp.stdout + cp.stderr
