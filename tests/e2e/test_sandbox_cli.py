"""End-to-end: `pyti sandbox` as a command — exit codes and signals are
propagated, output is captured, usage is reported, options are checked."""
import json
import os

import pytest

from sandbox_support import attack_bin_dir, run_sandbox, shared_tmpdir


def test_exit_code_is_propagated(env):
    r = run_sandbox(env, [], ["/bin/sh", "-c", "exit 7"])
    assert r.rc == 7, r
    assert r.result["status"] == "exited" and r.result["exit_code"] == 7


def test_signal_gives_128_plus_n(env):
    r = run_sandbox(env, [], ["/bin/sh", "-c", "kill -TERM $$"])
    assert r.rc == 128 + 15, r
    assert r.result["status"] == "signaled" and r.result["signal"] == 15
    assert r.result["exit_code"] is None


def test_command_not_found(env):
    r = run_sandbox(env, [], ["no-such-command-xyz"])
    assert r.rc == 127, r
    assert "cannot run no-such-command-xyz" in r.err


def test_output_is_shown_and_captured(env):
    d = shared_tmpdir()
    try:
        out, err = os.path.join(d, "out.txt"), os.path.join(d, "err.txt")
        r = run_sandbox(env, ["--stdout", out, "--stderr", err],
                        ["/bin/sh", "-c", "echo to-out; echo to-err >&2"])
        assert r.rc == 0, r
        assert r.out == "to-out\n" and "to-err" in r.err
        assert open(out).read() == "to-out\n"
        assert open(err).read() == "to-err\n"
        assert r.result["stdout_bytes"] == 7 and r.result["stderr_bytes"] == 7
        assert r.result["output_truncated"] is False
        assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


def test_usage_is_reported(env):
    py = "x = bytearray(50 * 1024 * 1024); s = sum(range(3000000))"
    r = run_sandbox(env, [], ["/usr/bin/python3", "-c", py])
    assert r.rc == 0, r
    res = r.result
    assert res["wall_s"] > 0
    assert res["user_s"] + res["sys_s"] > 0
    assert res["peak_memory_bytes"] >= 50 * 1024 * 1024
    assert res["accounting"] in ("cgroup v1", "cgroup v2", "rlimits")
    assert res["events"] == [] and res["limit"] is None


def test_python_works_inside(env):
    py = ("import ssl, json, sqlite3, tempfile, subprocess, threading, os;"
          "t = threading.Thread(target=lambda: None); t.start(); t.join();"
          "print(subprocess.run(['true']).returncode, os.getcwd(), os.environ['HOME'])")
    r = run_sandbox(env, [], ["/usr/bin/python3", "-c", py])
    assert r.rc == 0, r
    assert r.out.strip() == "0 /work /home/pyti"
    assert r.events == [], r  # thread creation (clone3 -> ENOSYS) is not reported


def test_mount_options(env):
    d = shared_tmpdir()
    try:
        with open(os.path.join(d, "in.txt"), "w") as f:
            f.write("input\n")
        r = run_sandbox(env, ["--ro-bind", d, "/in", "--tmpfs", "/scratch:1M", "--dir", "/empty",
                              "--chdir", "/scratch"],
                        ["/bin/sh", "-c", "cat /in/in.txt; pwd; ls -d /empty; "
                         "touch /in/x 2>&1 | grep -c Read-only; "
                         "dd if=/dev/zero of=big bs=1k count=2000 2>&1 | grep -c 'No space'"])
        assert r.out.split() == ["input", "/scratch", "/empty", "1", "1"], r
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


def test_bind_is_writable_and_results_visible(env):
    d = shared_tmpdir()
    try:
        r = run_sandbox(env, ["--bind", d, "/out"], ["/bin/sh", "-c", "echo hi > /out/r.txt"])
        assert r.rc == 0, r
        assert open(os.path.join(d, "r.txt")).read() == "hi\n"
        st = os.stat(os.path.join(d, "r.txt"))
        assert st.st_uid != 0  # written by the unprivileged mapped uid
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("args,msg", [
    (["--timeout", "abc"], "invalid duration"),
    (["--memory", "12X"], "invalid size"),
    (["--ro-bind", "/nonexistent-src", "/x"], "/nonexistent-src"),
    (["--tmpfs", "relative"], "absolute"),
    (["--bind", "/tmp", "/proc/x"], "/proc"),
    (["--hostname", "bad name"], "hostname"),
])
def test_bad_options(pyti, args, msg):
    cp = pyti("sandbox", *args, "--", "true")
    assert cp.returncode == 2, cp
    assert msg in cp.stderr, cp.stderr


def test_no_command(pyti):
    cp = pyti("sandbox")
    assert cp.returncode == 2
    assert "no command" in cp.stderr


def test_help_documents_every_option(pyti):
    cp = pyti("help", "sandbox", check=0)
    for opt in ["--ro-bind", "--bind", "--tmpfs", "--chdir", "--setenv", "--timeout", "--memory",
                "--pids", "--cpu", "--disk", "--output-limit", "--hostname", "--json",
                "--verbose", "124", "125"]:
        assert opt in cp.stdout, opt
    assert "no-sandbox" not in cp.stdout


def test_verbose_prints_probe_and_usage(pyti):
    cp = pyti("sandbox", "--verbose", "--", "true", check=0)
    assert "sandbox probe (tried" in cp.stderr
    assert "full isolation available" in cp.stderr
    assert "wall" in cp.stderr and "peak memory" in cp.stderr


def test_json_to_stdout(pyti):
    cp = pyti("sandbox", "--json", "-", "--", "true", check=0)
    res = json.loads(cp.stdout)
    assert res["exit_code"] == 0 and res["argv"] == ["true"] and res["pyti_exit_code"] == 0


def test_no_unsandboxed_path(pyti):
    for opt in ["--no-sandbox", "--unsandboxed", "--no-seccomp", "--share-net"]:
        cp = pyti("sandbox", opt, "--", "true")
        assert cp.returncode == 2, opt


def test_sigint_cancels_cleanly(env, tmp_path):
    import glob
    import signal
    import subprocess
    import time
    from sandbox_support import pyti_bin
    res = tmp_path / "r.json"
    p = subprocess.Popen([pyti_bin(), "sandbox", "--json", str(res), "--", "sleep", "30"],
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 130, err
    assert "cancelled" in err
    data = json.loads(res.read_text())
    assert data["status"] == "cancelled" and data["cancelled"] is True
    assert data["limits"]["pids"] == 512
    assert glob.glob(f"/sys/fs/cgroup/*/**/pyti/run-{p.pid}-*", recursive=True) == []


def test_stale_run_cgroups_are_swept(pyti):
    """Run cgroups left by a pyti that died (SIGKILL) are removed by the
    next run (after its clone, while init sets up), whatever its options."""
    import subprocess
    # pyti's bases sit under the cgroups of the process that runs it (ours)
    bases = []
    for line in open("/proc/self/cgroup").read().splitlines():
        _, ctls, path = line.split(":", 2)
        for ctl in ctls.split(","):
            b = os.path.join("/sys/fs/cgroup", ctl or "unified", path.lstrip("/"), "pyti")
            if ctl in ("memory", "pids", "cpuacct", "freezer", "") and os.path.isdir(b) \
                    and os.access(b, os.W_OK) and b not in bases:
                bases.append(b)
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers") and \
            os.path.isdir("/sys/fs/cgroup/pyti"):  # cgroup v2 only, as root
        bases.append("/sys/fs/cgroup/pyti")
    if os.geteuid() != 0 or not bases:
        pytest.skip("needs root and pyti's cgroups (made by an earlier run)")
    p = subprocess.Popen(["true"])  # a pid that has exited
    p.wait()
    stale = [os.path.join(b, f"run-{p.pid}-1") for b in bases]
    for d in stale:
        os.mkdir(d)
    try:
        cp = pyti("-q", "sandbox", "--", "true")
        assert cp.returncode == 0, cp.stderr
        assert [d for d in stale if os.path.exists(d)] == []
    finally:
        for d in stale:
            if os.path.exists(d):
                os.rmdir(d)


def test_missing_isolation_is_named_and_nothing_runs(pyti):
    """Without a probe up front, a host that lacks a namespace makes the
    set-up fail before the command, and the probe then names what is
    missing (exit 3). Simulated inside a user namespace whose own limit
    of user namespaces is 0."""
    import shutil
    import subprocess
    from sandbox_support import pyti_bin
    if not shutil.which("unshare"):
        pytest.skip("no unshare(1)")
    script = ('echo 0 > /proc/sys/user/max_user_namespaces || exit 77; '
              f'exec {pyti_bin()} -q sandbox -- sh -c "echo ran"')
    cp = subprocess.run(["unshare", "-U", "-r", "sh", "-c", script],
                        capture_output=True, text=True, timeout=60)
    if cp.returncode == 77:
        pytest.skip("cannot limit user namespaces here")
    assert cp.returncode == 3, cp.stderr
    assert "ran" not in cp.stdout
    assert "cannot give full isolation" in cp.stderr
    assert "user namespaces" in cp.stderr
