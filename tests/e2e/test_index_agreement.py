"""Agreement with pip: for every case of indexlib.cases() (synthetic hard
cases and every real Debian project), `pyti resolve` and pip 23.0.1's
`install --dry-run --report` against the same local index must choose the
same set of (project, version), or both fail. Differences that are pip's
bugs would be listed in KNOWN_PIP_BUGS with their proof in docs/index.md;
there are none today. The same cases are timed by bench/resolve_vs_pip,
except indexlib.BUILD_CASES: sdists whose metadata needs a PEP 517 build
(pyti builds it in the sandbox, pip on the host)."""
import os

import pytest

import indexlib

# case id -> why pip is wrong (see docs/index.md, "Differences from pip")
KNOWN_PIP_BUGS = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d, real = indexlib.dist_dir(tmp_path_factory)
    with indexlib.Server(d) as s:
        yield s, real


def all_cases():
    # The real projects are only known once the wheels are built; the
    # names below are those DEBIAN_DISTS and python-wheels give on Debian 12.
    import importlib.metadata
    real = sorted({d.metadata["Name"] for d in importlib.metadata.distributions()
                   if d.metadata["Name"] and d.metadata["Name"].lower()
                   in {x.lower() for x in indexlib.DEBIAN_DISTS}} | {"pip", "setuptools", "wheel"},
                  key=str.lower)
    return indexlib.cases(real)


CASES = all_cases()


def test_enough_cases():
    assert len(CASES) >= 50


@pytest.mark.parametrize("cid,reqs,flags", CASES + indexlib.BUILD_CASES,
                         ids=[c[0] for c in CASES + indexlib.BUILD_CASES])
def test_agrees_with_pip(served, cid, reqs, flags, tmp_path, env):
    s, real = served
    pip_set, _, pcp = indexlib.run_pip(s.index, reqs, flags, tmp_path / "report.json")
    pyti_set, _, ycp = indexlib.run_pyti(s.index, reqs, flags, env)
    if cid in KNOWN_PIP_BUGS:
        pytest.xfail(KNOWN_PIP_BUGS[cid])
    assert pyti_set == pip_set, (
        f"pip: {sorted(pip_set) if pip_set is not None else 'fails: ' + pcp.stderr[-500:]}\n"
        f"pyti: {sorted(pyti_set) if pyti_set is not None else 'fails: ' + ycp.stderr[-500:]}")
    if pyti_set is None:
        assert ycp.returncode == 1, ycp.stderr  # a resolution failure, not a crash


def static_pep658_index(root, dists):
    """A static PEP 503 tree (HTML only, as a CDN would serve it) whose
    links announce PEP 658 metadata files: what pip 23.0.1 reads
    data-dist-info-metadata from. dists: (name, version, requires, extras)."""
    import hashlib
    import zipfile
    from pathlib import Path
    for name, version, requires, extras in dists:
        d = Path(root) / "simple" / indexlib.canon(name)
        d.mkdir(parents=True, exist_ok=True)
        w = indexlib.synthetic_wheel(d, name, version, requires=requires, extras=extras)
        with zipfile.ZipFile(w) as z:
            md = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA")))
        Path(str(w) + ".metadata").write_bytes(md)
        h = hashlib.sha256(w.read_bytes()).hexdigest()
        mh = hashlib.sha256(md).hexdigest()
        with open(d / "index.html", "a") as f:
            f.write(f'<a href="{w.name}#sha256={h}" data-dist-info-metadata="sha256={mh}">'
                    f"{w.name}</a>\n")


def test_documented_pip_bugs(tmp_path, env):
    """The proofs behind docs/index.md's "pip 23.0.1 is wrong here" items:
    1. With PEP 658 metadata, pip compares the metadata's Name with the
       requirement's spelling unnormalised ("foo_bar" vs "foo-bar") and
       discards the only candidate.
    2. pip only lowercases extras (setuptools' safe_extra), it does not
       normalise them as PEP 685 says: "foo-bar[fast_mode]" with
       Provides-Extra: fast-mode loses the extra's dependencies.
    pyti normalises both, as the specifications say."""
    import http.server
    import socketserver
    import threading
    static_pep658_index(tmp_path, [
        ("foo-bar", "1.0", ['six; extra == "fast-mode"'], ["fast-mode"]),
        ("six", "1.16.0", [], []),
        ("app-underscore", "1.0", ["foo_bar"], []),
        ("app-extra", "1.0", ["foo-bar[fast_mode]"], []),
    ])

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass
    handler = lambda *a, **k: Quiet(*a, directory=str(tmp_path), **k)  # noqa: E731
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    index = f"http://127.0.0.1:{srv.server_address[1]}/simple"
    try:
        pip_set, _, pcp = indexlib.run_pip(index, ["app-underscore"], [], tmp_path / "r1.json")
        assert pip_set is None
        # 1.0 exists and is compatible; pip discarded it (without --quiet
        # it says: "has inconsistent Name: expected 'foo_bar', but metadata
        # has 'foo-bar'").
        assert "requirement foo_bar (from app-underscore) (from versions: 1.0)" in pcp.stderr
        pyti_set, _, ycp = indexlib.run_pyti(index, ["app-underscore"], [], env)
        assert pyti_set == {("app-underscore", "1.0"), ("foo-bar", "1.0")}, ycp.stderr

        pip_set, _, pcp = indexlib.run_pip(index, ["app-extra"], [], tmp_path / "r2.json")
        assert pip_set == {("app-extra", "1.0"), ("foo-bar", "1.0")}
        assert "does not provide the extra 'fast_mode'" in pcp.stderr
        pyti_set, _, ycp = indexlib.run_pyti(index, ["app-extra"], [], env)
        assert pyti_set == {("app-extra", "1.0"), ("foo-bar", "1.0"), ("six", "1.16.0")}
    finally:
        srv.shutdown()


def test_pip_crashes_on_pep691_metadata_key(tmp_path, env):
    """3. pip 23.0.x reads PEP 691's "dist-info-metadata" but expects a
    string, so any conforming value (a dict of hashes, or true) crashes it
    with a TypeError: the reason PEP 714 renamed the key. `pyti index
    serve` therefore only writes "core-metadata" in JSON; pyti the client
    reads both keys."""
    import hashlib
    import http.server
    import json as js
    import socketserver
    import threading
    import zipfile
    w = indexlib.synthetic_wheel(tmp_path, "jm", "1.0")
    with zipfile.ZipFile(w) as z:
        md = z.read("jm-1.0.dist-info/METADATA")
    page = js.dumps({"meta": {"api-version": "1.0"}, "name": "jm", "files": [{
        "filename": w.name, "url": f"/{w.name}",
        "hashes": {"sha256": hashlib.sha256(w.read_bytes()).hexdigest()},
        "dist-info-metadata": {"sha256": hashlib.sha256(md).hexdigest()}}]}).encode()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/simple/jm"):
                body, ctype = page, "application/vnd.pypi.simple.v1+json"
            elif self.path == f"/{w.name}":
                body, ctype = w.read_bytes(), "application/octet-stream"
            elif self.path == f"/{w.name}.metadata":
                body, ctype = md, "application/octet-stream"
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    index = f"http://127.0.0.1:{srv.server_address[1]}/simple"
    try:
        pip_set, _, pcp = indexlib.run_pip(index, ["jm"], [], tmp_path / "r.json")
        assert pip_set is None
        assert "TypeError: unhashable type: 'dict'" in pcp.stderr
        pyti_set, _, ycp = indexlib.run_pyti(index, ["jm"], ["--json", str(tmp_path / "p.json")],
                                             env)
        assert pyti_set == {("jm", "1.0")}, ycp.stderr
        data = js.loads((tmp_path / "p.json").read_text())
        assert data["resolved"][0]["metadata_source"] == "pep658"
    finally:
        srv.shutdown()
