"""End-to-end: `pyti index serve DIR` over real distributions (Debian's
wheels and wheels packed from Debian's installed python3-* packages) and
synthetic ones: the simple API in both formats (PEP 503/691 content
negotiation), hashes, requires-python, PEP 658 metadata files with their
own hashes, PEP 700 fields, yanked files, redirects, ranges, escaping,
and pip installing (--dry-run) from it."""
import hashlib
import html
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import indexlib

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d, real = indexlib.dist_dir(tmp_path_factory)
    with indexlib.Server(d) as s:
        yield s, d, real


def get(url, accept=None, headers=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read(), r.geturl()


def test_banner_and_project_list(served):
    s, d, real = served
    assert s.banner.startswith(f"serving {d} (")
    status, hdr, body, _ = get(s.url, JSON)
    assert status == 200
    assert hdr["Content-Type"] == JSON
    assert "Accept" in hdr.get("Vary", "")
    data = json.loads(body)
    assert data["meta"]["api-version"] == "1.1"
    names = {p["name"] for p in data["projects"]}
    for name in ("Flask", "requests", "pip", "syn-app", "Norm.Name_Pkg"):
        assert name in names
    status, hdr, body, _ = get(s.url)  # no Accept: HTML
    assert hdr["Content-Type"].startswith("text/html")
    assert b'<a href="flask/">Flask</a>' in body
    assert int(hdr["X-PyPI-Last-Serial"]) > 0


def test_project_page_json_matches_files(served):
    s, d, real = served
    status, hdr, body, url = get(s.url + "flask/", JSON)
    data = json.loads(body)
    assert data["name"] == "flask"
    assert data["versions"] == ["2.2.2"]
    (f,) = data["files"]
    path = d / "real" / f["filename"]
    blob = path.read_bytes()
    assert f["hashes"]["sha256"] == hashlib.sha256(blob).hexdigest()
    assert f["size"] == len(blob)
    assert f["requires-python"] == ">=3.7"
    assert f["yanked"] is False
    assert f["upload-time"].endswith("Z")
    # PEP 714: only the new key in JSON (pip 23.0.x crashes on the old).
    assert "dist-info-metadata" not in f
    mhash = f["core-metadata"]["sha256"]
    file_url = urllib.parse.urljoin(url, f["url"])
    _, _, got, _ = get(file_url)
    assert got == blob
    _, _, meta, _ = get(file_url + ".metadata")
    assert hashlib.sha256(meta).hexdigest() == mhash
    assert b"Name: Flask" in meta
    with __import__("zipfile").ZipFile(path) as zf:
        assert zf.read("Flask-2.2.2.dist-info/METADATA") == meta


def test_project_page_html(served):
    s, d, real = served
    status, hdr, body, url = get(s.url + "yk-pkg/", HTML)
    assert hdr["Content-Type"] == HTML
    text = body.decode()
    assert 'data-yanked="broken build"' in text
    assert 'data-requires-python' not in text  # none declared
    assert text.count('data-core-metadata="sha256=') == 2
    assert text.count('data-dist-info-metadata="sha256=') == 2
    assert '<meta name="pypi:repository-version" content="1.1">' in text
    status, hdr, body, url = get(s.url + "rp-pkg/", "text/html")
    assert 'data-requires-python="&gt;=3.12"' in body.decode()
    assert 'data-requires-python="&lt;3"' in body.decode()


def test_negotiation_and_errors(served):
    s, d, real = served
    assert get(s.url + "syn-app/?format=" + JSON)[1]["Content-Type"] == JSON
    assert get(s.url + "syn-app/", "*/*")[1]["Content-Type"].startswith("text/html")
    assert get(s.url + "syn-app/", "text/html;q=0.1, " + JSON)[1]["Content-Type"] == JSON
    with pytest.raises(urllib.error.HTTPError) as e:
        get(s.url + "syn-app/", "application/xml")
    assert e.value.code == 406
    with pytest.raises(urllib.error.HTTPError) as e:
        get(s.url + "no-such-project/")
    assert e.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as e:
        get(s.url.replace("/simple/", "/files/flask/nope.whl"))
    assert e.value.code == 404
    # Other spellings redirect to the normalised page.
    _, _, _, final = get(s.url + "Norm.Name_Pkg")
    assert final.endswith("/simple/norm-name-pkg/")
    req = urllib.request.Request(s.url, method="POST", data=b"x")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 405


def test_ranges_and_head(served):
    s, d, real = served
    data = json.loads(get(s.url + "pip/", JSON)[2])
    f = data["files"][0]
    url = urllib.parse.urljoin(s.url + "pip/", f["url"])
    blob = (d / "real" / f["filename"]).read_bytes()
    status, hdr, body, _ = get(url, headers={"Range": "bytes=-22"})
    assert status == 206
    assert body == blob[-22:]  # the zip's end of central directory
    assert hdr["Content-Range"] == f"bytes {len(blob) - 22}-{len(blob) - 1}/{len(blob)}"
    status, hdr, body, _ = get(url, headers={"Range": "bytes=10-19"})
    assert body == blob[10:20]
    with pytest.raises(urllib.error.HTTPError) as e:
        get(url, headers={"Range": f"bytes={len(blob) + 5}-"})
    assert e.value.code == 416
    req = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert int(r.headers["Content-Length"]) == len(blob)
        assert r.read() == b""


def test_escaping_hostile_names(tmp_path, pyti):
    # A yanked reason and a file name with characters HTML must escape.
    d = tmp_path / "dists"
    d.mkdir()
    w = indexlib.synthetic_wheel(d, "esc-pkg", "1.0", requires_python=">=3.8,<4")
    Path(str(w) + ".yanked").write_text('<script>alert("x")</script> & more')
    with indexlib.Server(d) as s:
        body = get(s.url + "esc-pkg/", "text/html")[2].decode()
        assert "<script>" not in body
        assert 'data-yanked="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more"' in body
        assert 'data-requires-python="&gt;=3.8,&lt;4"' in body
        data = json.loads(get(s.url + "esc-pkg/", JSON)[2])
        assert data["files"][0]["yanked"] == '<script>alert("x")</script> & more'


def test_no_metadata_option_and_rescan(tmp_path):
    d = tmp_path / "dists"
    d.mkdir()
    indexlib.synthetic_wheel(d, "resc", "1.0")
    with indexlib.Server(d, "--no-metadata") as s:
        data = json.loads(get(s.url + "resc/", JSON)[2])
        assert "core-metadata" not in data["files"][0]
        assert "data-core-metadata" not in get(s.url + "resc/", "text/html")[2].decode()
        indexlib.synthetic_wheel(d, "resc", "2.0")
        s.proc.send_signal(__import__("signal").SIGHUP)
        for _ in range(100):
            data = json.loads(get(s.url + "resc/", JSON)[2])
            if len(data["files"]) == 2:
                break
            __import__("time").sleep(0.05)
        assert data["versions"] == ["1.0", "2.0"]


def test_serve_usage_errors(pyti, tmp_path):
    cp = pyti("index", "serve", tmp_path / "missing", "--listen", "127.0.0.1:0", check=2)
    assert "not a directory" in cp.stderr
    cp = pyti("index", "serve", tmp_path, "--listen", "127.0.0.1:99999", check=2)
    assert "invalid port" in cp.stderr
    cp = pyti("index", check=2)
    cp = pyti("index", "frob", check=2)
    assert "unknown subcommand" in cp.stderr
    cp = pyti("help", "index", check=0)
    assert "--listen" in cp.stdout


def test_pip_installs_from_it(served, tmp_path):
    """pip (23.0.1, offline) resolves real projects from the index."""
    s, d, real = served
    report = tmp_path / "report.json"
    got, _, cp = indexlib.run_pip(s.index, ["Flask", "requests", "pytest"], [], report)
    assert got is not None, cp.stderr
    names = {n for n, _ in got}
    assert {"flask", "requests", "pytest", "pluggy", "iniconfig"} <= names
    # and can download (hash-checked by pip) what it chose
    dl = tmp_path / "dl"
    cp = subprocess.run([indexlib.PY, "-m", "pip", "download", "--no-deps", "-d", str(dl),
                         "--index-url", s.index, "Werkzeug"],
                        env=indexlib.pip_env(), capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stderr
    assert (dl / "Werkzeug-2.2.2-py3-none-any.whl").exists()


def test_tags_match_packaging(pyti):
    """pyti's tag list is packaging.tags.sys_tags() for this interpreter."""
    from packaging import tags
    cp = pyti("index", "tags", check=0)
    assert cp.stdout.split() == [str(t) for t in tags.sys_tags()]
    from pip._internal.utils.compatibility_tags import get_supported
    cp = pyti("index", "tags", "--python", "3.9", check=0)
    assert cp.stdout.split() == [str(t) for t in get_supported(version="39")]
    pyti("index", "tags", "--python", "2.7", check=2)
