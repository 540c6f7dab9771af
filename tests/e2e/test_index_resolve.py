"""End-to-end: `pyti resolve` against `pyti index serve` over loopback and
against other servers: output and --json, the download cache and
--download, SHA-256 mismatches refused, retries on 503 from a flaky
server, offline mode from the cache only, a plain `python3 -m
http.server` directory listing, extra indexes, settings, conflicts and
the needs-a-build outcome, usage errors."""
import hashlib
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import threading
from pathlib import Path

import pytest

import indexlib


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d, real = indexlib.dist_dir(tmp_path_factory)
    with indexlib.Server(d) as s:
        yield s


def lines(cp):
    return cp.stdout.splitlines()


def test_resolve_prints_sorted_pins(pyti, served):
    cp = pyti("resolve", "--index-url", served.index, "syn-app", "Flask<3", check=0)
    assert lines(cp) == ["flask==2.2.2", "syn-app==2.1", "syn-lib==3.0", "syn-util==2.0"]


def test_resolve_json(pyti, served, tmp_path):
    out = tmp_path / "r.json"
    pyti("resolve", "--index-url", served.index, "--json", out, "ext-base[fast]", "tg-pkg",
         check=0)
    data = json.loads(out.read_text())
    assert data["outcome"] == "resolved"
    assert data["algorithm"] == "pip"
    assert data["python"] == "3.11.2"
    assert data["indexes"] == [served.index]
    by = {p["name"]: p for p in data["resolved"]}
    assert set(by) == {"ext-base", "ext-dep", "ext-fast", "tg-pkg"}
    assert by["ext-base"]["extras"] == ["fast"]
    assert by["ext-fast"]["required_by"] == ["ext-base 1.0"] or \
        by["ext-fast"]["required_by"] == ["ext-base 2.0"]
    f = by["tg-pkg"]["file"]
    assert f["filename"] == "tg_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert f["url"].startswith(served.index.replace("/simple", "/files/"))
    assert len(f["hashes"]["sha256"]) == 64
    assert by["tg-pkg"]["metadata_source"] == "pep658"
    assert data["stats"]["metadata_reads"] >= 4
    cp = pyti("resolve", "--index-url", served.index, "--json", "-", "syn-lib", check=0)
    assert json.loads(cp.stdout[cp.stdout.index("{"):])["resolved"][0]["version"] == "3.0"


def test_download_verified_and_cached(pyti, served, tmp_path, env):
    dl = tmp_path / "dl"
    pyti("resolve", "--index-url", served.index, "--download", dl, "Flask", "pip", check=0)
    got = sorted(p.name for p in dl.iterdir())
    assert got == ["Flask-2.2.2-py3-none-any.whl", "pip-23.0.1-py3-none-any.whl"]
    cache = Path(env["XDG_CACHE_HOME"]) / "pyti" / "files" / "sha256"
    for p in dl.iterdir():
        h = hashlib.sha256(p.read_bytes()).hexdigest()
        assert (cache / h[:2] / h).read_bytes() == p.read_bytes()


def test_sha_mismatch_refused(pyti, tmp_path, env):
    d = tmp_path / "dists"
    d.mkdir()
    w = indexlib.synthetic_wheel(d, "victim", "1.0")
    with indexlib.Server(d, "--no-metadata") as s:
        # The index announced the hash of the original; swap the file.
        w.write_bytes(w.read_bytes() + b"evil")
        cp = pyti("resolve", "--index-url", s.index, "victim", check=2)
        assert "hash mismatch" in cp.stderr
        assert "not used" in cp.stderr
        assert cp.stdout == ""
        cache = Path(env["XDG_CACHE_HOME"]) / "pyti" / "files"
        assert not [p for p in cache.rglob("*") if p.is_file()]
        cp = pyti("resolve", "--index-url", s.index, "--download", tmp_path / "dl", "victim",
                  check=2)
        assert not (tmp_path / "dl").exists() or not list((tmp_path / "dl").iterdir())


class Flaky(http.server.SimpleHTTPRequestHandler):
    """Answers 503 to the first `fail` requests of each path."""
    fail = 2
    seen = {}

    def do_GET(self):
        n = Flaky.seen.get(self.path, 0)
        Flaky.seen[self.path] = n + 1
        if n < Flaky.fail:
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *a):
        pass


def serve_dir(directory, handler):
    h = lambda *a, **k: handler(*a, directory=str(directory), **k)  # noqa: E731
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), h)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def plain_layout(tmp_path):
    """A PEP 503 tree as plain directories: simple/<project>/<files>."""
    root = tmp_path / "plain"
    for name, version, req in (("plain-a", "1.0", ["plain-b>=2"]), ("plain-b", "1.0", []),
                               ("plain-b", "2.0", [])):
        d = root / "simple" / name
        d.mkdir(parents=True, exist_ok=True)
        indexlib.synthetic_wheel(d, name, version, requires=req)
    return root


def test_retries_on_503(pyti, tmp_path):
    root = plain_layout(tmp_path)
    Flaky.seen = {}
    srv, base = serve_dir(root, Flaky)
    try:
        cp = pyti("-v", "resolve", "--index-url", base + "/simple", "plain-a", check=0)
        assert lines(cp) == ["plain-a==1.0", "plain-b==2.0"]
        assert "retries" in cp.stderr
        assert all(n == 3 for n in Flaky.seen.values())  # 2 x 503, then 200
    finally:
        srv.shutdown()


def test_gives_up_after_retries(pyti, tmp_path):
    root = plain_layout(tmp_path)
    Flaky.seen = {}
    Flaky.fail = 1000
    srv, base = serve_dir(root, Flaky)
    try:
        cp = pyti("resolve", "--index-url", base + "/simple", "plain-a", check=3)
        assert "HTTP 503" in cp.stderr and "gave up" in cp.stderr
    finally:
        Flaky.fail = 2
        srv.shutdown()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def test_plain_directory_listing(pyti, tmp_path):
    """python3 -m http.server style: no hashes, no metadata files."""
    root = plain_layout(tmp_path)
    srv, base = serve_dir(root, Quiet)
    try:
        out = tmp_path / "r.json"
        cp = pyti("resolve", "--index-url", base + "/simple", "--json", out, "plain-a", check=0)
        assert lines(cp) == ["plain-a==1.0", "plain-b==2.0"]
        data = json.loads(out.read_text())
        assert {p["metadata_source"] for p in data["resolved"]} == {"wheel"}
        assert all(p["file"]["hashes"] == {} for p in data["resolved"])
    finally:
        srv.shutdown()


def test_offline_uses_cache_only(pyti, tmp_path, env):
    d = tmp_path / "dists"
    d.mkdir()
    indexlib.synthetic_wheel(d, "off-a", "1.0", requires=["off-b"])
    indexlib.synthetic_wheel(d, "off-b", "1.0")
    indexlib.synthetic_wheel(d, "off-c", "1.0")
    s = indexlib.Server(d)
    try:
        pyti("resolve", "--index-url", s.index, "off-a", check=0)
    finally:
        s.stop()
    # The server is gone: only the cache can answer.
    cp = pyti("resolve", "--offline", "--index-url", s.index, "off-a", check=0)
    assert lines(cp) == ["off-a==1.0", "off-b==1.0"]
    cp = pyti("resolve", "--offline", "--index-url", s.index, "off-c", check=2)
    assert "offline" in cp.stderr and "not in the cache" in cp.stderr
    cp = pyti("resolve", "--index-url", s.index, "off-a", check=3)  # online: no server
    cp = pyti("resolve", "--offline", "--no-cache", "--index-url", s.index, "off-a", check=2)


def test_extra_index_and_settings(pyti, tmp_path, env):
    d1, d2 = tmp_path / "one", tmp_path / "two"
    d1.mkdir()
    d2.mkdir()
    indexlib.synthetic_wheel(d1, "multi", "1.0", requires=["only-two"])
    indexlib.synthetic_wheel(d2, "multi", "2.0")
    indexlib.synthetic_wheel(d2, "only-two", "1.0")
    with indexlib.Server(d1) as a, indexlib.Server(d2) as b:
        cp = pyti("resolve", "--index-url", a.index, "--extra-index-url", b.index, "multi",
                  check=0)
        assert lines(cp) == ["multi==2.0"]
        cp = pyti("resolve", "--index-url", a.index, "--extra-index-url", b.index,
                  "multi<2", check=0)
        assert lines(cp) == ["multi==1.0", "only-two==1.0"]
        cp = pyti("resolve", "--index-url", a.index, "multi<2", check=1)
        assert "only-two" in cp.stderr
        cfg = Path(env["XDG_CONFIG_HOME"]) / "pyti"
        cfg.mkdir(parents=True)
        (cfg / "pyti.ini").write_text(f"[index]\nurl = {a.index}\nextra_urls = {b.index}\n")
        cp = pyti("resolve", "multi<2", check=0)
        assert lines(cp) == ["multi==1.0", "only-two==1.0"]
        (cfg / "pyti.ini").write_text("[index]\nurll = x\n")
        cp = pyti("resolve", "multi", check=2)
        assert "unknown setting 'urll'" in cp.stderr


def test_conflicts_explained(pyti, served):
    cp = pyti("resolve", "--index-url", served.index, "cf-a", "cf-b", check=1)
    assert "cf-a 1.0 requires cf-shared<2, but cf-b 1.0 requires cf-shared>=2" in cp.stderr
    cp = pyti("resolve", "--index-url", served.index, "rp-pkg==3.0", check=1)
    assert "3.0 (requires Python >=3.12)" in cp.stderr
    cp = pyti("resolve", "--index-url", served.index, "--python", "3.12", "rp-pkg==3.0",
              check=0)
    assert lines(cp) == ["rp-pkg==3.0"]
    cp = pyti("resolve", "--index-url", served.index, "yk-only", check=1)
    assert "1.0 (yanked)" in cp.stderr


def test_needs_build(pyti, tmp_path):
    d = tmp_path / "dists"
    d.mkdir()
    indexlib.synthetic_sdist(d, "legacy", "1.0", requires=["x"], metadata_version="1.2")
    indexlib.synthetic_sdist(d, "static", "1.0", requires=["legacy"], metadata_version="2.2")
    out = tmp_path / "r.json"
    with indexlib.Server(d) as s:
        cp = pyti("resolve", "--no-build", "--index-url", s.index, "--json", out, "static",
                  check=1)
    assert "needs a PEP 517 metadata build" in cp.stderr or "PEP 517 metadata build" in cp.stderr
    data = json.loads(out.read_text())
    assert data["outcome"] == "needs-build"
    assert data["needs_build"]["name"] == "legacy"
    assert data["needs_build"]["file"]["filename"] == "legacy-1.0.tar.gz"


def test_requirements_file_and_usage(pyti, served, tmp_path):
    rf = tmp_path / "req.txt"
    rf.write_text("# comment\nsyn-util<2  # inline\n\nmk-app\n")
    cp = pyti("resolve", "--index-url", served.index, "-r", rf, check=0)
    assert "syn-util==1.5" in lines(cp)
    rf.write_text("-e .\n")
    cp = pyti("resolve", "--index-url", served.index, "-r", rf, check=2)
    assert "not supported" in cp.stderr
    pyti("resolve", check=2)
    cp = pyti("resolve", "--index-url", served.index, "bad req >=", check=2)
    assert "bad req" in cp.stderr
    cp = pyti("resolve", "--index-url", served.index, "x @ https://example.invalid/x.whl",
              check=2)
    assert "direct references" in cp.stderr
    pyti("resolve", "--python", "two", "x", check=2)
    cp = pyti("help", "resolve", check=0)
    for opt in ("--index-url", "--extra-index-url", "--python", "--json", "--offline"):
        assert opt in cp.stdout


class Proxy(http.server.BaseHTTPRequestHandler):
    """A forwarding HTTP proxy that remembers what it forwarded and the
    User-Agent it was sent."""
    seen = []

    def do_GET(self):
        import urllib.request
        Proxy.seen.append((self.path, self.headers.get("User-Agent")))
        req = urllib.request.Request(self.path, headers={
            k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=30) as r:
                body = r.read()
                self.send_response(r.status)
                for k in ("Content-Type", "X-PyPI-Last-Serial"):
                    if r.headers.get(k):
                        self.send_header(k, r.headers[k])
        except urllib.error.HTTPError as e:
            body = b""
            self.send_response(e.code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_proxy_from_environment_and_user_agent(pyti, served, env):
    import urllib.error  # noqa: F401
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        Proxy.seen = []
        for k in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY",
                  "all_proxy"):
            env.pop(k, None)
        env["http_proxy"] = f"http://127.0.0.1:{srv.server_address[1]}"
        cp = pyti("resolve", "--index-url", served.index, "syn-util", check=0)
        assert lines(cp) == ["syn-util==2.0"]
        paths = [p for p, _ in Proxy.seen]
        assert any(p.endswith("/simple/syn-util/") for p in paths)
        assert any(p.endswith(".metadata") for p in paths)
        ua = {u for _, u in Proxy.seen}
        assert len(ua) == 1 and ua.pop().startswith("pyti/0.1.0 (+https://")
        # no_proxy is honoured too
        Proxy.seen = []
        env["no_proxy"] = "127.0.0.1"
        pyti("resolve", "--index-url", served.index, "syn-lib", check=0)
        assert Proxy.seen == []
    finally:
        srv.shutdown()
