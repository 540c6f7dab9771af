"""End-to-end: benign distributions that look like the malicious ones at a
glance (they read their own data files, run subprocesses in their tests,
decode base64 data, ship a .pth, write caches in HOME, use threads and
processes, talk to a server on loopback in their tests, look at the
platform, write and run a script in a test's temporary directory, sleep
a little) stay `clean`: the behaviour policy does not flag what ordinary
packages do. And Debian's own wheels, traced through install and import,
give no behaviour finding of severity medium or above."""
import glob
import textwrap

import pytest

import tracesuite as ts


def benign_data_files(tmp):
    return ts.wheel(tmp, "data-reader", {
        "data_reader/__init__.py": """
            import json, os
            from importlib import resources
            HERE = os.path.dirname(__file__)
            with open(os.path.join(HERE, "table.json")) as f:
                TABLE = json.load(f)
            TEXT = resources.files(__name__).joinpath("notes.txt").read_text()
        """,
        "data_reader/table.json": '{"a": 1, "b": 2}\n',
        "data_reader/notes.txt": "some notes\n",
    })


def benign_subprocess_tests(tmp):
    test = """
        import subprocess, sys

        def test_cli():
            out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True,
                                 text=True, check=True).stdout
            assert out.strip() == "42"

        def test_shell():
            assert subprocess.run("echo hi | tr a-z A-Z", shell=True, capture_output=True,
                                  text=True).stdout == "HI\\n"
    """
    return ts.sdist(tmp, "demo-pkg", {"tests/test_cli.py": test})


def benign_base64_data(tmp):
    import base64
    blob = base64.b64encode(bytes(range(256)) * 4).decode()
    return ts.wheel(tmp, "b64-data", {"b64_data/__init__.py": f"""
        import base64, zlib
        ICON = base64.b64decode("{blob}")
        PACKED = zlib.compress(ICON)
        assert zlib.decompress(PACKED) == ICON
    """})


def benign_pth(tmp):
    # A path entry, the oldest and most common .pth form.
    return ts.wheel(tmp, "pth-path", {
        "pth_path_extra/__init__.py": "VALUE = 1\n",
        "pth_path/__init__.py": "def answer():\n    return 42\n",
        "pth-path.pth": "pth_path_extra_dir\n",
    })


def benign_home_cache(tmp):
    return ts.wheel(tmp, "cache-writer", {"cache_writer/__init__.py": """
        import json, os
        d = os.path.join(os.path.expanduser("~"), ".cache", "cache-writer")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "index.json"), "w") as f:
            json.dump({"v": 1}, f)
        c = os.path.join(os.path.expanduser("~"), ".config", "cache-writer")
        os.makedirs(c, exist_ok=True)
        open(os.path.join(c, "settings.ini"), "a").close()
    """})


def benign_threads_processes(tmp):
    test = """
        import concurrent.futures, multiprocessing, threading

        def square(x):
            return x * x

        def test_pool():
            with multiprocessing.get_context("fork").Pool(2) as p:
                assert p.map(square, range(10))[3] == 9

        def test_threads():
            with concurrent.futures.ThreadPoolExecutor(4) as ex:
                assert sum(ex.map(square, range(10))) == 285
            t = threading.Thread(target=square, args=(3,))
            t.start()
            t.join()
    """
    return ts.sdist(tmp, "demo-pkg", {"tests/test_par.py": test})


def benign_loopback_server_tests(tmp):
    test = """
        import http.server, threading, urllib.request

        def test_local_server():
            srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            t = threading.Thread(target=srv.serve_forever, daemon=True)
            t.start()
            url = "http://127.0.0.1:%d/" % srv.server_address[1]
            assert urllib.request.urlopen(url, timeout=5).status == 200
            srv.shutdown()

        def test_localhost_name():
            import socket
            assert socket.gethostbyname("localhost") == "127.0.0.1"
    """
    return ts.sdist(tmp, "demo-pkg", {"tests/test_net.py": test})


def benign_platform(tmp):
    return ts.wheel(tmp, "platform-info", {"platform_info/__init__.py": """
        import getpass, logging, os, platform, socket, sys
        INFO = {
            "system": platform.system(), "machine": platform.machine(),
            "python": sys.version, "cpus": os.cpu_count(),
            "host": socket.gethostname(), "user": getpass.getuser(),
        }
        try:
            INFO["os"] = platform.freedesktop_os_release().get("ID")
        except OSError:
            pass
        logging.getLogger(__name__).debug("running on %s", INFO)
    """})


def benign_script_in_tmp_path(tmp):
    test = """
        import os, subprocess

        def test_script(tmp_path):
            script = tmp_path / "hello.sh"
            script.write_text("#!/bin/sh\\necho hello\\n")
            os.chmod(script, 0o755)
            assert subprocess.run([str(script)], capture_output=True, text=True).stdout == "hello\\n"
    """
    return ts.sdist(tmp, "demo-pkg", {"tests/test_script.py": test})


def benign_build_hook(tmp):
    setup = """
        from setuptools import setup
        from setuptools.command.build_py import build_py
        import os

        class BuildPy(build_py):
            def run(self):
                build_py.run(self)
                target = os.path.join(self.build_lib, "demo_pkg", "_version.py")
                with open(target, "w") as f:
                    f.write("version = '1.0'\\n")

        setup(name="demo-pkg", version="1.0", package_dir={"": "src"}, packages=["demo_pkg"],
              cmdclass={"build_py": BuildPy})
    """
    return ts.sdist(tmp, "demo-pkg", {}, setup_py=setup)


def benign_short_sleep_tests(tmp):
    test = """
        import time

        def test_wait():
            t = time.monotonic()
            time.sleep(1.5)
            assert time.monotonic() - t >= 1.4
    """
    return ts.sdist(tmp, "demo-pkg", {"tests/test_wait.py": test})


def benign_tempfiles(tmp):
    return ts.wheel(tmp, "temp-user", {"temp_user/__init__.py": """
        import os, shutil, tempfile
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "x.txt"), "w") as f:
            f.write("x")
        os.rename(os.path.join(d, "x.txt"), os.path.join(d, "y.txt"))
        os.symlink(os.path.join(d, "y.txt"), os.path.join(d, "z.txt"))
        shutil.rmtree(d)
    """})


BENIGN = [
    ("own-data-files", benign_data_files),
    ("subprocess-in-tests", benign_subprocess_tests),
    ("base64-data", benign_base64_data),
    ("path-pth", benign_pth),
    ("home-cache", benign_home_cache),
    ("threads-processes", benign_threads_processes),
    ("loopback-server-tests", benign_loopback_server_tests),
    ("platform-info", benign_platform),
    ("script-in-tmp-path", benign_script_in_tmp_path),
    ("build-hook", benign_build_hook),
    ("short-sleep", benign_short_sleep_tests),
    ("tempfiles", benign_tempfiles),
]


@pytest.mark.parametrize("name,build", BENIGN, ids=[b[0] for b in BENIGN])
def test_benign_stays_clean(pyti, tmp_path, name, build):
    report, cp = ts.run(pyti, tmp_path, build(tmp_path))
    why = ts.explain(report)
    statuses = {t["name"]: t["status"] for t in report["tasks"]}
    assert all(s in ("passed", "neutral") for s in statuses.values()), why
    assert report["verdict"]["safety"] == "clean", why
    assert not [f for f in ts.findings(report) if f["severity"] not in ("info", "low")], why
    assert cp.returncode == 0, why
    # the tracer did look: traced calls in every sandboxed task that ran
    traced = [t["data"]["trace"]["traced_calls"] for t in report["tasks"]
              if "trace" in t.get("data", {})]
    assert traced and all(n > 0 for n in traced), why


DEBIAN_WHEELS = sorted(glob.glob("/usr/share/python-wheels/*.whl"))


@pytest.mark.skipif(not DEBIAN_WHEELS, reason="Debian's python3-*-whl packages not installed")
@pytest.mark.parametrize("wheel", DEBIAN_WHEELS, ids=lambda p: p.split("/")[-1].split("-")[0])
def test_debian_wheels_have_no_behaviour_findings(pyti, tmp_path, wheel):
    report, _ = ts.run(pyti, tmp_path, wheel)
    why = ts.explain(report)
    assert report["verdict"]["safety"] == "clean", why
    assert not [f for f in ts.findings(report) if f["severity"] not in ("info", "low")], why
