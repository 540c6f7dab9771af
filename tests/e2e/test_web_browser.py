"""The web dashboard in a real browser: Debian's chromium, headless, driven
by playwright-core (tests/browser/browse.mjs), against `pyti serve` on
loopback over a store filled by real jobs:

- hello-pyti 0.1.0 and 0.2.0 (0.2.0 breaks its test: a regression),
  run with the default recipe;
- evil-pkg 1.0, an sdist whose metadata, file names, test output and
  assertion messages carry script payloads, and a stored report of it
  (1.0.1) whose behaviour events carry payloads in the process name and
  the arguments;
- Debian's wheel 0.38.4 submitted to the master and run by its local
  worker (the static recipe), so the queue, throughput and workers have
  something to show.

Pages load, every link works, the charts render, and no payload executes
— with the Content-Security-Policy on, and with it bypassed (so escaping
alone is tested) — while the payloads are shown as text. Screenshots are
kept in build/test-results/web/."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, pyti_bin
from masterlib import Master

BROWSER_DIR = ROOT / "tests" / "browser"
SHOTS = ROOT / "build" / "test-results" / "web"

PAYLOADS = {
    "summary": "<script>alert('summary')</script>",
    "author": "\"><img src=x onerror=alert('author')>",
    "description": "<script>alert('description')</script><svg onload=alert('svg')>",
    "test_output": "<script>alert('log')</script>",
    "assertion": "<img src=x onerror=alert('assert')>",
    "filename": "x\"><svg onload=alert('file')>.py",
    "comm": "<script>alert('comm')</script>",
    "arg": "<img src=x onerror=alert('arg')>",
}


def make_sdist(src, out):
    cp = subprocess.run([str(ROOT / "examples" / "make-sdist"), str(src), str(out)],
                        capture_output=True, text=True, check=True)
    return Path(cp.stdout.strip())


def hello_version(tmp, version, broken):
    """The example project at another version; broken: greet() changed so
    that its test, which passed in 0.1.0, fails."""
    src = tmp / f"hello-{version}"
    shutil.copytree(ROOT / "examples" / "hello-pyti", src)
    for name in ("PKG-INFO", "pyproject.toml", "src/hello_pyti/__init__.py"):
        p = src / name
        p.write_text(p.read_text().replace("0.1.0", version))
    if broken:
        m = src / "src" / "hello_pyti" / "__init__.py"
        m.write_text(m.read_text().replace('f"Hello, {name}!"', 'f"Goodbye, {name}!"'))
    return make_sdist(src, tmp / "dist")


def evil_sdist(tmp):
    src = tmp / "evil"
    pkg = src / "evil_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("VALUE = 1\n")
    # A red flag in a file whose name is a payload: the finding shows both.
    (pkg / PAYLOADS["filename"]).write_text(
        "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n")
    (src / "tests").mkdir()
    (src / "tests" / "test_evil.py").write_text(
        "def test_payload():\n"
        f"    print({PAYLOADS['test_output']!r})\n"
        f"    assert False, {PAYLOADS['assertion']!r}\n")
    (src / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: evil-pkg\nVersion: 1.0\n"
        f"Summary: {PAYLOADS['summary']}\n"
        f"Author: {PAYLOADS['author']}\n"
        "Project-URL: Home, javascript:alert('url')\n"
        "Description-Content-Type: text/markdown\n\n"
        f"{PAYLOADS['description']}\n")
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "evil-pkg"\nversion = "1.0"\n'
        f'description = {json.dumps(PAYLOADS["summary"])}\n'
        '[tool.setuptools]\npackages = ["evil_pkg"]\n')
    return make_sdist(src, tmp / "dist")


def run_browser(plan, tmp):
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail("playwright-core is not installed: run `npm ci` in tests/browser "
                    "(scripts/install-deps and scripts/test do)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    plan = dict(plan, shots=str(SHOTS))
    f = tmp / f"plan-{os.getpid()}-{len(list(tmp.iterdir()))}.json"
    f.write_text(json.dumps(plan))
    cp = subprocess.run(["node", str(BROWSER_DIR / "browse.mjs"), str(f)], capture_output=True,
                        text=True, timeout=600, cwd=BROWSER_DIR)
    if cp.returncode != 0:
        raise AssertionError(f"browse.mjs failed:\n{cp.stderr[-4000:]}")
    return json.loads(cp.stdout)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    env = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        (tmp / var.lower()).mkdir()
        env[var] = str(tmp / var.lower())
    db = tmp / "pyti.db"

    def pyti(*args, ok=(0, 1)):
        cp = subprocess.run([pyti_bin(), *map(str, args)], env=env, capture_output=True,
                            text=True, timeout=900)
        assert cp.returncode in ok, f"pyti {args}: {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
        return cp

    ids = {}
    for key, dist in (("hello1", hello_version(tmp, "0.1.0", False)),
                      ("hello2", hello_version(tmp, "0.2.0", True)),
                      ("evil", evil_sdist(tmp))):
        out = tmp / f"{key}.json"
        pyti("test", dist, "--db", db, "--json", out)
        ids[key] = json.loads(out.read_text())["id"]
    # evil-pkg 1.0.1: the same report with behaviour events carrying payloads,
    # as the sandbox records them, stored from outside (pyti store validates).
    r = json.loads((tmp / "evil.json").read_text())
    r["id"] = "e" * 32
    r["distribution"]["version"] = "1.0.1"
    # The event goes into the report's timeline (the tracer's, which the page
    # shows; tests/unit/test_web.c covers old reports' per-task events).
    r.setdefault("events", []).insert(0, {
        "time": r["created"], "t": 0.25, "task": "install", "phase": "install", "pid": 4242,
        "process": PAYLOADS["comm"], "kind": "net", "syscall": "connect", "action": "denied",
        "object": PAYLOADS["arg"] + ":443"})
    del r["metrics"]  # an old-style report: the store computes them
    (tmp / "evil101.json").write_text(json.dumps(r))
    pyti("store", "--db", db, tmp / "evil101.json", ok=(0,))
    ids["evil101"] = r["id"]

    master = Master(tmp, env, str(db), workers=1)
    try:
        cp = pyti("submit", "/usr/share/python-wheels/wheel-0.38.4-py3-none-any.whl",
                  "--master", master.url, "--token-file", master.tokens["admin"],
                  "--recipe", "static", "--wait", "--timeout", "300", "--json")
        # "...: submitted as job N", then the report
        first, _, rest = cp.stdout.partition("\n")
        ids["job"] = int(first.rsplit(" ", 1)[1])
        ids["wheel"] = json.loads(rest)["id"]
        yield {"url": master.url, "ids": ids, "tmp": tmp, "env": env, "master": master}
    finally:
        master.stop()


def pages(ids):
    return [
        {"path": "/", "name": "overview"},
        {"path": "/project/hello-pyti", "name": "project"},
        {"path": "/project/hello-pyti/0.2.0", "name": "release"},
        {"path": f"/report/{ids['hello1']}", "name": "report"},
        {"path": "/workers", "name": "workers"},
        {"path": f"/job/{ids['job']}", "name": "job"},
        {"path": "/search?q=hello", "name": "search"},
        {"path": "/catalogue", "name": "catalogue"},
    ]


def test_pages_load_and_charts_render(site):
    out = run_browser({"base": site["url"], "pages": pages(site["ids"])}, site["tmp"])
    by = {p["path"]: p for p in out["pages"]}
    for p in out["pages"]:
        assert p["status"] == 200, p["path"]
        assert p["content_type"].startswith("text/html")
        assert "default-src 'none'" in p["csp"]
        assert p["console_errors"] == [], (p["path"], p["console_errors"])
        assert p["foreign_requests"] == [], p["foreign_requests"]
        assert p["scripts"] == 0
    ov = by["/"]
    assert len(ov["svgs"]) >= 3
    assert all(s["width"] > 100 and s["height"] > 50 for s in ov["svgs"])
    assert any(s["shapes"] > 10 for s in ov["svgs"])  # bars and grid drawn
    assert "wheel-0.38.4-py3-none-any.whl" in ov["text"]  # latest jobs
    assert "pyti-local" in ov["text"] or "Workers online" in ov["text"]
    assert "evil-pkg" in ov["text"]  # failing / suspicious releases
    proj = by["/project/hello-pyti"]
    assert "0.1.0" in proj["text"] and "0.2.0" in proj["text"]
    assert "regression" in proj["text"]
    trends = [s for s in proj["svgs"] if s["shapes"] > 0]
    assert len(trends) >= 3
    rel = by["/project/hello-pyti/0.2.0"]
    assert "Since the previous release (0.1.0)" in rel["text"]
    # the test that passed in 0.1.0 and fails now, by name
    assert "tests.test_greet::test_greet" in rel["text"]
    rep = by[f"/report/{site['ids']['hello1']}"]
    gantt = [s for s in rep["svgs"] if "Tasks over time" in s["title"]]
    assert gantt and gantt[0]["shapes"] >= 11  # a bar per task
    assert "Line coverage" in rep["text"] and "100.0 %" in rep["text"]
    assert "Workers" in by["/workers"]["text"]
    assert "hello-pyti" in by["/search?q=hello"]["text"]
    for name in ("overview", "project", "release", "report", "workers"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10000


def test_every_link_works(site):
    out = run_browser({"base": site["url"], "crawl": {"start": "/", "max": 120}}, site["tmp"])
    assert len(out["crawl"]) >= 15
    bad = [c for c in out["crawl"] if c["status"] != 200]
    assert bad == []
    paths = {c["path"] for c in out["crawl"]}
    assert any(p.startswith("/report/") for p in paths)
    assert any(p.startswith("/project/") for p in paths)
    assert any(p.startswith("/job/") for p in paths)


def xss_pages(ids):
    return [{"path": "/project/evil-pkg/1.0", "name": "xss-release"},
            {"path": f"/report/{ids['evil101']}", "name": "xss-events"},
            {"path": "/project/evil-pkg", "name": "xss-project"},
            {"path": "/", "name": "xss-overview"},
            {"path": "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "name": "xss-search"}]


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["csp", "escaping-only"])
def test_xss_payloads_never_execute(site, bypass_csp):
    plan = [dict(p, bypass_csp=bypass_csp, name=p["name"] + ("-nocsp" if bypass_csp else ""))
            for p in xss_pages(site["ids"])]
    out = run_browser({"base": site["url"], "pages": plan}, site["tmp"])
    for p in out["pages"]:
        assert p["status"] == 200, p["path"]
        assert p["dialogs"] == [], (p["path"], p["dialogs"])
        assert p["scripts"] == 0 and p["handlers"] == 0 and p["images"] == 0, p["path"]
        assert not any("javascript:" in (l or "").lower() for l in p["links"])
    text = {p["path"]: p["content"] for p in out["pages"]}
    release = text["/project/evil-pkg/1.0"]
    # shown as text, exactly
    for key in ("summary", "author", "test_output", "assertion"):
        assert PAYLOADS[key] in release, key
    assert "javascript:alert('url')" in release  # a URL shown, never a link
    assert PAYLOADS["filename"] in release  # the finding's file:line
    events = text[f"/report/{site['ids']['evil101']}"]
    assert PAYLOADS["comm"] in events and PAYLOADS["arg"] in events
    assert "<script>alert(1)</script>" in text["/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"]


def test_standalone_report_file(site):
    """pyti test --html: the same page as one file, opened from disk."""
    tmp = site["tmp"]
    html = tmp / "evil.html"
    cp = subprocess.run([pyti_bin(), "test", next((tmp / "dist").glob("evil_pkg-*.tar.gz")),
                         "--recipe", "static", "--no-store", "--html", html], env=site["env"],
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 1, cp.stderr
    dest = SHOTS / "standalone.html"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(html, dest)
    out = run_browser({"base": "file://" + str(SHOTS),
                       "pages": [{"path": "/standalone.html", "name": "standalone",
                                  "bypass_csp": True}]}, tmp)
    p = out["pages"][0]
    assert p["dialogs"] == [] and p["scripts"] == 0 and p["handlers"] == 0
    assert PAYLOADS["summary"] in p["text"]
    assert all(not l.startswith("/") for l in p["links"])  # nothing needs a server
    assert p["svgs"] and p["foreign_requests"] == []
