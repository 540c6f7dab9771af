"""End-to-end: the master (`pyti serve`) and workers (`pyti worker`) over
real HTTP on loopback, on SQLite and on PostgreSQL: submit (upload, URL,
JSON), two workers running jobs and reporting, results through the API
and the command line, auth and bad requests, twine uploads, a master
restart under a running worker, drain on SIGTERM, and the one-command
installation (`pyti serve --workers N`)."""
import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import distbuild
from conftest import pyti_bin
from masterlib import (TOKENS, Master, call, multipart, start_worker, stop_worker,
                       store_location, store_sql, upload)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    with store_location(request.param, tmp_path) as loc:
        yield loc


@pytest.fixture
def master_factory(tmp_path, env):
    made = []

    def make(db, **kw):
        m = Master(tmp_path, env, db, **kw)
        made.append(m)
        return m
    yield make
    for m in made:
        m.stop(timeout=30)


def test_serve_two_workers_submit_and_results(pyti, env, tmp_path, db, master_factory):
    m = master_factory(db)
    workers = [start_worker(env, m.url, m.tokens["worker"], f"w{i}", tmp_path)
               for i in (1, 2)]
    try:
        dists = [distbuild.write_wheel(tmp_path, name=f"pkg{i}", version="1.0")
                 for i in range(8)]
        ids = []
        for d in dists:
            cp = pyti("submit", d, "--master", m.url, "--token-file", m.tokens["submit"],
                      "--recipe", "static", check=0)
            assert "submitted as job" in cp.stdout
            ids.append(int(cp.stdout.split()[-1]))
        # The same file again is the same job.
        cp = pyti("submit", dists[0], "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "static", check=0)
        assert f"already job {ids[0]}" in cp.stdout
        ran_on = set()
        for jid, d in zip(ids, dists):
            job = m.wait_state(jid)
            assert job["state"] == "done", job
            assert job["created_by"] == "api"
            assert job["report_id"]
            [done] = [a for a in job["attempt_history"] if a["outcome"] == "done"]
            ran_on.add(done["worker"])
            st, rep = m.api("GET", f"/api/v1/jobs/{jid}/report")
            assert st == 200 and rep["outcome"] == "passed"
            assert rep["distribution"]["sha256"] == hashlib.sha256(d.read_bytes()).hexdigest()
            st, logs = m.api("GET", f"/api/v1/jobs/{jid}/logs")
            names = {x["name"] for x in logs["logs"]}
            assert "worker" in names and "task.extract" in names
            st, text = m.api("GET", f"/api/v1/jobs/{jid}/logs/1/worker")
            assert st == 200 and "verdict: passed" in text
        # Both workers took part: eight jobs, two idle long polls.
        assert ran_on == {"w1", "w2"}
        # Each stored result's page is rendered and kept beside it
        # (report_pages, docs/web.md) by the request that stored it, which
        # may still be at it when the job shows as done.
        deadline = time.time() + 60
        while True:
            pages = store_sql(db, "SELECT p.report_id, p.renderer FROM report_pages p"
                                  " JOIN reports r ON r.id = p.report_id")
            if len(pages) == 8 or time.time() > deadline:
                break
            time.sleep(0.2)
        # All of this build's renderer (a digest of src/web made at build
        # time: build/src/web/report_renderer.h).
        header = Path(os.environ.get("PYTI_BUILD_DIR", "build")) / "src/web/report_renderer.h"
        renderer = int(header.read_text().split("REPORT_RENDERER")[1].split()[0], 16)
        assert len(pages) == 8 and {int(r) for _, r in pages} == {renderer}
        st, html = m.api("GET", f"/report/{pages[0][0]}")
        assert st == 200 and pages[0][0] in html

        # The catalogue through the API.
        st, projects = m.api("GET", "/api/v1/projects?prefix=pkg")
        assert st == 200 and {p["name"] for p in projects["projects"]} >= {"pkg0", "pkg7"}
        st, rel = m.api("GET", "/api/v1/projects/PKG3")
        assert st == 200 and rel["releases"][0]["version"] == "1.0"
        assert rel["releases"][0]["latest"]["outcome"] == "passed"
        st, rr = m.api("GET", "/api/v1/projects/pkg3/1.0")
        assert st == 200 and len(rr["reports"]) == 1 and rr["files"][0]["filename"].endswith(".whl")
        st, _ = m.api("GET", "/api/v1/projects/nothing-here")
        assert st == 404
        st, wl = m.api("GET", "/api/v1/workers")
        assert {w["id"] for w in wl["workers"]} == {"w1", "w2"}
        w1 = [w for w in wl["workers"] if w["id"] == "w1"][0]
        assert w1["os"] == "linux" and w1["pythons"] and w1["memory_mb"] > 0

        # The command line against the master.
        cp = pyti("jobs", "--master", m.url, "--token-file", m.tokens["admin"], "--json", check=0)
        assert sorted(j["id"] for j in json.loads(cp.stdout)) == sorted(ids)
        cp = pyti("jobs", "--master", m.url, "--token-file", m.tokens["admin"], "--show",
                  ids[0], check=0)
        assert "done" in cp.stdout and "attempt 1" in cp.stdout
        cp = pyti("jobs", "--master", m.url, "--token-file", m.tokens["admin"], "--workers",
                  check=0)
        assert "w1" in cp.stdout and "w2" in cp.stdout
        cp = pyti("jobs", "--master", m.url, "--token-file", m.tokens["admin"], "--metrics",
                  check=0)
        assert 'pyti_jobs{state="done"} 8' in cp.stdout

        # --wait gives pyti test's verdict and exit code.
        extra = distbuild.write_wheel(tmp_path, name="waited", version="2.0")
        cp = pyti("submit", extra, "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "static", "--wait", check=0)
        assert "verdict: passed" in cp.stdout
    finally:
        for w in workers:
            assert stop_worker(w) == 0
    st, wl = m.api("GET", "/api/v1/workers")
    assert {w["state"] for w in wl["workers"]} == {"draining"}


def test_worker_gets_next_job_with_its_result(pyti, env, tmp_path, master_factory):
    """A worker's slot asks for its next job with each result ("next",
    docs/api.md): three jobs queued before a one-slot worker starts take
    one claim; the other two come with the results before them."""
    m = master_factory(str(tmp_path / "pyti.db"))
    ids = []
    for i in range(3):
        d = distbuild.write_wheel(tmp_path, name=f"nxt{i}", version="1.0")
        cp = pyti("submit", d, "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "static", check=0)
        ids.append(int(cp.stdout.split()[-1]))
    w = start_worker(env, m.url, m.tokens["worker"], "wn", tmp_path)
    try:
        for jid in ids:
            assert m.wait_state(jid)["state"] == "done"
    finally:
        stop_worker(w)
    log = (tmp_path / "worker-wn.log").read_text()
    assert log.count("1 job leased with the last result") == 2, log


def test_metrics_and_pages(tmp_path, env, master_factory):
    m = master_factory(str(tmp_path / "pyti.db"))
    st, text = m.api("GET", "/metrics", token=None)
    assert st == 200
    for name in ("pyti_jobs{state=\"queued\"}", "pyti_workers_online", "pyti_jobs_done_per_second",
                 "pyti_job_duration_seconds{quantile=\"0.9\"}", "pyti_oldest_queued_job_seconds"):
        assert name in text
    import urllib.request
    with urllib.request.urlopen(m.url + "/") as r:
        assert r.headers["Content-Type"].startswith("text/html")
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        page = r.read()
        assert b"Overview" in page and b'href="/api/v1"' in page  # the dashboard, not a stub
    st, _ = m.api("GET", "/project/anything", token=None)
    assert st == 404


def test_auth_and_bad_requests(tmp_path, env, master_factory):
    m = master_factory(str(tmp_path / "pyti.db"), extra="public_read = false\nmax_body = 4K")
    spec = {"name": "demo", "version": "1.0", "filename": "demo-1.0.tar.gz",
            "url": "http://127.0.0.1:9/demo-1.0.tar.gz", "sha256": "ab" * 32, "size": 10,
            "recipe": "static"}
    # Reading needs a token when public_read is off; any valid one does.
    assert m.api("GET", "/api/v1/jobs", token=None)[0] == 401
    assert m.api("GET", "/api/v1/jobs", token="not-a-token")[0] == 401
    assert m.api("GET", "/api/v1/jobs", token="worker")[0] == 200
    assert m.api("GET", "/metrics", token=None)[0] == 401
    # Submitting: submit or admin tokens only.
    st, e = m.api("POST", "/api/v1/jobs", spec, token=None)
    assert st == 401 and "needs a submit token" in e["error"]["message"]
    assert m.api("POST", "/api/v1/jobs", spec, token="worker")[0] == 403
    st, j = m.api("POST", "/api/v1/jobs", spec, token="submit")
    assert st == 201 and j["created"] and j["job"]["state"] == "queued"
    assert m.api("POST", "/api/v1/jobs", spec, token="submit")[0] == 200  # the same job
    # Cancel and retry: the admin only.
    jid = j["id"]
    assert m.api("POST", f"/api/v1/jobs/{jid}/cancel", token="submit")[0] == 403
    st, c = m.api("POST", f"/api/v1/jobs/{jid}/cancel")
    assert st == 200 and c["job"]["state"] == "cancelled"
    st, e = m.api("POST", f"/api/v1/jobs/{jid}/cancel")
    assert st == 200 and not e["changed"]
    st, r = m.api("POST", f"/api/v1/jobs/{jid}/retry")
    assert st == 200 and r["job"]["state"] == "queued"
    st, e = m.api("POST", f"/api/v1/jobs/{jid}/retry")
    assert st == 409
    # Worker endpoints need a worker (or admin) token.
    caps = {"arch": "x86_64", "os": "linux", "pythons": ["3.11"]}
    assert m.api("PUT", "/api/v1/workers/w-1", caps, token="submit")[0] == 403
    assert m.api("PUT", "/api/v1/workers/w-1", caps, token="worker")[0] == 200

    # Malformed JSON: 400 naming the line and column.
    st, e = m.api("POST", "/api/v1/jobs", raw=b'{"name": "x",\n "version": }', token="submit",
                  headers={"Content-Type": "application/json"})
    assert st == 400 and "line 2, column" in e["error"]["message"]
    st, e = m.api("POST", "/api/v1/jobs", raw=b"", token="submit")
    assert st == 400 and "empty" in e["error"]["message"]
    # A spec with a bad member names it; paths of the master are refused.
    st, e = m.api("POST", "/api/v1/jobs", dict(spec, sha256="xyz"), token="submit")
    assert st == 400 and "sha256" in e["error"]["message"]
    st, e = m.api("POST", "/api/v1/jobs", dict(spec, path="/etc/passwd"), token="submit")
    assert st == 400 and "path" in e["error"]["message"]
    st, e = m.api("POST", "/api/v1/jobs", [spec, dict(spec, priority="high")], token="submit")
    assert st == 400 and e["error"]["message"].startswith("request body: [1]")
    # Too large: refused before the body is read.
    st, e = m.api("POST", "/api/v1/jobs", raw=b"x" * 5000, token="submit")
    assert st == 413 and "over the limit" in e["error"]["message"]
    # Worker calls with bad bodies.
    st, e = m.api("PUT", "/api/v1/workers/w-1", {"pythons": "3.11"}, token="worker")
    assert st == 400 and "pythons" in e["error"]["message"]
    st, e = m.api("PUT", "/api/v1/workers/w-1", {"id": "other"}, token="worker")
    assert st == 400
    st, e = m.api("POST", "/api/v1/workers/w-1/claim", {"max": 0}, token="worker")
    assert st == 400
    st, e = m.api("POST", "/api/v1/workers/nobody/claim", {"max": 1}, token="worker")
    assert st == 404
    st, lease = m.api("POST", "/api/v1/workers/w-1/claim", {"max": 1, "wait": 2}, token="worker")
    assert st == 200 and len(lease["leases"]) == 1
    a = lease["leases"][0]
    base = f"/api/v1/jobs/{a['job_id']}/attempts/{a['attempt']}"
    st, e = m.api("POST", base + "/result", {"report": {"schema_version": 1}}, token="worker")
    assert st == 400 and e["error"]["message"].startswith("report")
    st, e = m.api("POST", base + "/result", {"logs": {}}, token="worker")
    assert st == 400
    st, e = m.api("POST", base + "/heartbeat", token="worker")
    assert st == 200 and e["state"] == "ok"
    st, e = m.api("POST", base + "/fail", {"retryable": "yes"}, token="worker")
    assert st == 400
    st, e = m.api("POST", base + "/fail", {"retryable": False, "message": "gone"}, token="worker")
    assert st == 200 and e["result"] == "failed"
    st, e = m.api("POST", f"/api/v1/jobs/{a['job_id']}/attempts/9/heartbeat", token="worker")
    assert st == 404
    # Unknown endpoints and methods.
    assert m.api("GET", "/api/v1/nothing", token="admin")[0] == 404
    assert m.api("DELETE", "/api/v1/jobs", token="admin")[0] == 405
    assert m.api("GET", "/api/v1/jobs/abc", token="admin")[0] == 404
    assert m.api("GET", "/legacy/", token="admin")[0] == 405
    # Constant-time comparison still matches exact tokens only.
    assert m.api("GET", "/api/v1/jobs", token=TOKENS["admin"][:-1])[0] == 401
    assert m.api("GET", "/api/v1/jobs", token=TOKENS["admin"] + "x")[0] == 401
    basic = base64.b64encode(b"__token__:" + TOKENS["admin"].encode()).decode()
    assert m.api("GET", "/api/v1/jobs", token=None,
                 headers={"Authorization": "Basic " + basic})[0] == 200


def twine_upload(env, url, files, password):
    return subprocess.run(["twine", "upload", "--disable-progress-bar", "--non-interactive",
                           "--repository-url", url + "/legacy/", "-u", "__token__", "-p",
                           password, *map(str, files)], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(shutil.which("twine") is None, reason="Debian's twine is not installed")
def test_twine_upload_queues_and_runs(pyti, env, tmp_path, master_factory):
    m = master_factory(str(tmp_path / "pyti.db"), workers=1,
                       sections="[feeds]\nrecipe = static\ndeny = evil-*\n")
    sdist = distbuild.write_sdist(tmp_path, name="uploaded-pkg", version="0.3")
    whl = distbuild.write_wheel(tmp_path, name="uploaded_pkg", version="0.3")
    cp = twine_upload(env, m.url, [sdist, whl], TOKENS["submit"])
    assert cp.returncode == 0, cp.stdout + cp.stderr
    st, jobs = m.api("GET", "/api/v1/jobs?project=uploaded-pkg")
    assert len(jobs["jobs"]) == 2
    for j in jobs["jobs"]:
        assert j["created_by"] == "upload" and j["recipe"] == "static"
        done = m.wait_state(j["id"])
        assert done["state"] == "done"
        # The master keeps the file, content-addressed; workers can fetch it.
        st, data = m.api("GET", f"/api/v1/files/{j['sha256']}/{j['filename']}", token="worker")
        assert st == 200
    # A wrong password is refused by twine's first request.
    cp = twine_upload(env, m.url, [sdist], "wrong")
    assert cp.returncode != 0 and "401" in cp.stdout + cp.stderr
    # A denied project.
    evil = distbuild.write_sdist(tmp_path, name="evil-thing", version="1.0")
    cp = twine_upload(env, m.url, [evil], TOKENS["submit"])
    assert cp.returncode != 0 and "403" in cp.stdout + cp.stderr


def test_legacy_upload_checks(tmp_path, env, master_factory):
    """The same endpoint with hand-made multipart bodies: what twine would
    never send is refused with a clear message."""
    m = master_factory(str(tmp_path / "pyti.db"))
    sdist = distbuild.write_sdist(tmp_path, name="form-pkg", version="1.0")
    data = sdist.read_bytes()
    good = {":action": "file_upload", "protocol_version": "1", "name": "form-pkg",
            "version": "1.0", "filetype": "sdist",
            "sha256_digest": hashlib.sha256(data).hexdigest()}

    def post(fields, files, token="submit"):
        ctype, body = multipart(fields, files)
        return m.api("POST", "/legacy/", raw=body, token=token, headers={"Content-Type": ctype})

    st, r = post(good, {"content": (sdist.name, data)})
    assert st == 200 and r["created"]
    st, r = post(good, {"content": (sdist.name, data)})
    assert st == 200 and not r["created"]
    st, e = post(dict(good, sha256_digest="0" * 64), {"content": (sdist.name, data)})
    assert st == 400 and "does not match" in e["error"]["message"]
    st, e = post(dict(good, name="other"), {"content": (sdist.name, data)})
    assert st == 400 and "do not match" in e["error"]["message"]
    st, e = post(dict(good, **{":action": "remove_pkg"}), {"content": (sdist.name, data)})
    assert st == 400 and "file_upload" in e["error"]["message"]
    st, e = post(good, {"content": ("../../etc/x.tar.gz", data)})
    assert st == 400
    st, e = post(good, {"content": ("README.txt", data)})
    assert st == 400
    st, e = post(good, {})
    assert st == 400 and "content" in e["error"]["message"]
    st, e = m.api("POST", "/legacy/", raw=b"--x\r\nbroken", token="submit",
                  headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert st == 400 and "part 1" in e["error"]["message"]
    st, e = m.api("POST", "/legacy/", raw=b"{}", token="submit",
                  headers={"Content-Type": "application/json"})
    assert st == 400 and "multipart/form-data" in e["error"]["message"]
    st, e = post(good, {"content": (sdist.name, data)}, token="worker")
    assert st == 403


def test_master_restart_and_drain(pyti, env, tmp_path, db, master_factory):
    """A worker outlives a restart of its master (its calls are retried),
    and drains on SIGTERM: the job it runs is finished and reported."""
    m = master_factory(db, extra="lease = 10")
    w = start_worker(env, m.url, m.tokens["worker"], "steady", tmp_path)
    try:
        a = distbuild.write_wheel(tmp_path, name="before", version="1.0")
        cp = pyti("submit", a, "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "static", "--wait", check=0)
        assert m.stop() == 0
        time.sleep(2)  # the worker's claims fail meanwhile, and are retried
        m.start()
        b = distbuild.write_wheel(tmp_path, name="after", version="1.0")
        cp = pyti("submit", b, "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "static", "--wait", "--timeout", "120", check=0)
        assert "verdict: passed" in cp.stdout
        # A job of a slow recipe (a sandboxed `sleep 3`) is under way when
        # SIGTERM comes.
        slow_recipe(env, 3)
        c = distbuild.write_wheel(tmp_path, name="drained", version="1.0")
        cp = pyti("submit", c, "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "slow", check=0)
        jid = int(cp.stdout.split()[-1])
        deadline = time.time() + 30
        while m.api("GET", f"/api/v1/jobs/{jid}")[1]["state"] != "running":
            assert time.time() < deadline
            time.sleep(0.05)
    finally:
        rc = stop_worker(w)
    assert rc == 0
    job = m.wait_state(jid, timeout=10)
    assert job["state"] == "done" and job["recipe"] == "slow"
    log = (tmp_path / "worker-steady.log").read_text()
    assert "draining" in log and "drained" in log


def test_one_command_installation(pyti, env, tmp_path):
    """`pyti serve --workers 2` on the default SQLite store, tokens made on
    first start, and `pyti submit` finding the admin token by itself."""
    import re
    proc = subprocess.Popen([pyti_bin(), "serve", "--listen", "127.0.0.1:0", "--workers", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"listening at (\S+)", line).group(1)
        token_line = proc.stdout.readline()
        assert "admin token in" in token_line
        whl = distbuild.write_wheel(tmp_path, name="onecommand_demo", version="1.0")
        cp = pyti("submit", whl, "--master", url, "--recipe", "static", "--wait", check=0)
        assert "verdict: passed" in cp.stdout
        st, wl = call(url, "GET", "/api/v1/workers", token=None)
        assert len(wl["workers"]) == 2 and all(":local-" in w["id"] for w in wl["workers"])
        # The store is the default one.
        assert (Path(env["XDG_DATA_HOME"]) / "pyti" / "pyti.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def slow_recipe(env, seconds):
    recipes = Path(env["XDG_CONFIG_HOME"]) / "pyti" / "recipes"
    recipes.mkdir(parents=True, exist_ok=True)
    (recipes / "slow.ini").write_text("[recipe]\ndescription = naps\n\n"
                                      f"[task nap]\nrun = sleep {seconds}\ntimeout = 120\n")


def test_cancel_stops_a_running_job(pyti, env, tmp_path, master_factory):
    """A worker learns of a cancel at its next heartbeat, stops the run
    and goes on with the next job."""
    m = master_factory(str(tmp_path / "pyti.db"), extra="lease = 6")
    slow_recipe(env, 60)
    w = start_worker(env, m.url, m.tokens["worker"], "canceller", tmp_path)
    try:
        a = distbuild.write_wheel(tmp_path, name="long_runner", version="1.0")
        cp = pyti("submit", a, "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "slow", check=0)
        jid = int(cp.stdout.split()[-1])
        deadline = time.time() + 30
        while m.api("GET", f"/api/v1/jobs/{jid}")[1]["state"] != "running":
            assert time.time() < deadline
            time.sleep(0.1)
        st, c = m.api("POST", f"/api/v1/jobs/{jid}/cancel")
        assert st == 200 and c["changed"]
        t0 = time.time()
        b = distbuild.write_wheel(tmp_path, name="next_one", version="1.0")
        cp = pyti("submit", b, "--master", m.url, "--token-file", m.tokens["submit"],
                  "--recipe", "static", "--wait", "--timeout", "60", check=0)
        assert "verdict: passed" in cp.stdout
        assert time.time() - t0 < 30  # not after the 60 s nap
        assert m.api("GET", f"/api/v1/jobs/{jid}")[1]["state"] == "cancelled"
    finally:
        stop_worker(w)
    assert "the lease is cancelled; stopping the run" in \
        (tmp_path / "worker-canceller.log").read_text()


def test_worker_policy_and_requirements(pyti, env, tmp_path, master_factory):
    """Matching from both sides: a worker takes only the jobs whose
    requirements it meets and that its own policy accepts."""
    m = master_factory(str(tmp_path / "pyti.db"))
    submitted = {}
    for name, recipe, extra in (("plain", "static", {}),
                                ("needs_gpu", "static", {"requirements": {"tags": ["gpu"]}}),
                                ("other_recipe", "default", {}),
                                ("needs_py2", "static", {"python": "2.7"})):
        whl = distbuild.write_wheel(tmp_path, name=name, version="1.0")
        jid = upload(m.url, whl, recipe=recipe)
        if extra:
            # The same file re-submitted as a URL job with requirements.
            st, job = m.api("GET", f"/api/v1/jobs/{jid}")
            st, _ = m.api("POST", f"/api/v1/jobs/{jid}/cancel")
            spec = {"name": name, "version": "1.0", "filename": job["filename"],
                    "url": job["url"], "sha256": job["sha256"], "size": job["size"],
                    "recipe": recipe, **extra}
            st, ans = m.api("POST", "/api/v1/jobs", spec, token="submit")
            assert st == 201, ans
            jid = ans["id"]
        submitted[name] = jid
    w = start_worker(env, m.url, m.tokens["worker"], "picky", tmp_path,
                     extra=["--recipe", "static", "--python", "3.11", "--max-size", "1M"])
    try:
        assert m.wait_state(submitted["plain"])["state"] == "done"
        time.sleep(3)  # long enough for the worker to have taken anything it would
        for name in ("needs_gpu", "other_recipe", "needs_py2"):
            assert m.api("GET", f"/api/v1/jobs/{submitted[name]}")[1]["state"] == "queued", name
        st, wk = m.api("GET", "/api/v1/workers/picky")
        assert wk["recipes"] == ["static"] and wk["max_dist_size"] == 1 << 20
    finally:
        stop_worker(w)
    # A worker with the tag takes the gpu job.
    w = start_worker(env, m.url, m.tokens["worker"], "gpu-box", tmp_path,
                     extra=["--tag", "gpu", "--recipe", "static"])
    try:
        assert m.wait_state(submitted["needs_gpu"])["state"] == "done"
    finally:
        stop_worker(w)


def test_two_masters_share_one_postgresql(pyti, env, tmp_path):
    """Masters keep no state of their own: a worker of master A runs what
    was submitted to master B, and both report the same queue."""
    with store_location("postgresql", tmp_path) as db:
        a = Master(tmp_path, env, db, name="a")
        b = Master(tmp_path, env, db, name="b")
        w = start_worker(env, a.url, a.tokens["worker"], "on-a", tmp_path)
        try:
            whl = distbuild.write_wheel(tmp_path, name="via_b", version="1.0")
            cp = pyti("submit", whl, "--master", b.url, "--token-file", b.tokens["submit"],
                      "--recipe", "static", "--wait", "--timeout", "60", check=0)
            assert "verdict: passed" in cp.stdout
            ja = a.api("GET", "/api/v1/jobs")[1]["jobs"]
            jb = b.api("GET", "/api/v1/jobs")[1]["jobs"]
            assert [j["id"] for j in ja] == [j["id"] for j in jb] and ja[0]["state"] == "done"
            assert 'pyti_jobs{state="done"} 1' in b.api("GET", "/metrics")[1]
        finally:
            stop_worker(w)
            a.stop()
            b.stop()


def test_jobs_command_against_a_master(pyti, tmp_path, env, master_factory):
    """pyti jobs --master: JSON specs, cancel, retry and the listing filters
    over the API; the local mode still refuses --master with --db."""
    m = master_factory(str(tmp_path / "pyti.db"))
    admin = ["--master", m.url, "--token-file", m.tokens["admin"]]
    spec = tmp_path / "specs.json"
    spec.write_text(json.dumps([
        {"name": "remote-a", "version": "1.0", "filename": "remote_a-1.0.tar.gz",
         "url": "http://127.0.0.1:9/remote_a-1.0.tar.gz", "sha256": "ab" * 32, "size": 3},
        {"name": "remote-b", "version": "2.0", "filename": "remote_b-2.0.tar.gz",
         "url": "http://127.0.0.1:9/remote_b-2.0.tar.gz", "sha256": "cd" * 32, "size": 3,
         "priority": 9}]))
    cp = pyti("jobs", *admin, "--submit", spec, check=0)
    assert "job 0: submitted as job 1" in cp.stdout and "job 1: submitted as job 2" in cp.stdout
    cp = pyti("jobs", *admin, "--submit", spec, check=0)
    assert "already job 1" in cp.stdout
    cp = pyti("jobs", *admin, "--project", "Remote_B", "--json", check=0)
    assert [j["id"] for j in json.loads(cp.stdout)] == [2]
    cp = pyti("jobs", *admin, "--cancel", "2", check=0)
    assert "job 2 cancelled" in cp.stdout
    cp = pyti("jobs", *admin, "--state", "cancelled", check=0)
    assert cp.stdout.startswith("2 ")
    cp = pyti("jobs", *admin, "--retry", "2", check=0)
    assert "job 2 queued again" in cp.stdout
    cp = pyti("jobs", *admin, "--retry", "2", check=2)
    assert "conflict" in cp.stderr or "queued" in cp.stderr
    # A submit token may submit but not cancel; the answer says why.
    cp = pyti("jobs", "--master", m.url, "--token-file", m.tokens["submit"], "--cancel", "1",
              check=2)
    assert "needs the admin token" in cp.stderr
    # Paging: --limit 0 reads every page.
    cp = pyti("jobs", *admin, "--limit", "0", "--json", check=0)
    assert len(json.loads(cp.stdout)) == 2
    cp = pyti("jobs", "--master", m.url, "--db", tmp_path / "x.db", check=2)
    assert "not both" in cp.stderr
    # An unreachable master is pyti's failure (3), not a usage error.
    cp = pyti("jobs", "--master", "http://127.0.0.1:9", "--token-file", m.tokens["admin"],
              check=3)


def test_worker_slots_run_jobs_at_once(pyti, env, tmp_path, master_factory):
    m = master_factory(str(tmp_path / "pyti.db"))
    slow_recipe(env, 4)
    w = start_worker(env, m.url, m.tokens["worker"], "wide", tmp_path, slots=2)
    try:
        ids = [upload(m.url, distbuild.write_wheel(tmp_path, name=f"slot{i}", version="1.0"),
                      recipe="slow") for i in range(2)]
        deadline = time.time() + 30
        while True:
            states = [m.api("GET", f"/api/v1/jobs/{i}")[1]["state"] for i in ids]
            if states == ["running", "running"]:
                break
            assert time.time() < deadline, states
            time.sleep(0.1)
        st, wk = m.api("GET", "/api/v1/workers/wide")
        assert wk["leases"] == 2 and wk["info"]["slots"] == 2
        for i in ids:
            assert m.wait_state(i)["state"] == "done"
    finally:
        stop_worker(w)


def test_claim_of_a_dead_worker_takes_nothing(pyti, env, tmp_path, master_factory):
    """A worker killed while its claim waits: the master notices the
    closed connection, so the next job is not leased to the dead worker
    (where it would wait for the lease to expire)."""
    m = master_factory(str(tmp_path / "pyti.db"))
    dead = start_worker(env, m.url, m.tokens["worker"], "doomed", tmp_path)
    deadline = time.time() + 20
    while m.api("GET", "/api/v1/workers/doomed")[0] != 200:
        assert time.time() < deadline
        time.sleep(0.1)
    time.sleep(1)  # its claim is waiting now
    dead.kill()
    dead.wait()
    dead.logfile.close()
    jid = upload(m.url, distbuild.write_wheel(tmp_path, name="orphan_job", version="1.0"))
    time.sleep(1)
    live = start_worker(env, m.url, m.tokens["worker"], "alive", tmp_path)
    try:
        job = m.wait_state(jid, timeout=30)  # far below the 60 s lease
        assert job["state"] == "done"
        assert [a["worker"] for a in job["attempt_history"]] == ["alive"]
    finally:
        stop_worker(live)


def test_waiting_claims_do_not_stall_reads(tmp_path, env, master_factory):
    """The master serves reads on a few event-loop threads and runs each
    write on a thread of its own: 12 claims waiting at once (more than the
    pool has threads) hold none of them, so pages and API reads are
    answered while every claim is still waiting, and each claim still gets
    the job submitted meanwhile or its empty answer."""
    import concurrent.futures
    m = master_factory(str(tmp_path / "pyti.db"))
    caps = {"arch": "x86_64", "os": "linux", "pythons": ["3.11"]}
    n = 12
    for i in range(n):
        assert m.api("PUT", f"/api/v1/workers/w-{i}", caps, token="worker")[0] == 200
    done = []

    def claim(i):
        st, r = m.api("POST", f"/api/v1/workers/w-{i}/claim", {"max": 1, "wait": 8},
                      token="worker")
        done.append(i)
        return st, r

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        futures = [ex.submit(claim, i) for i in range(n)]
        time.sleep(1)  # every claim is waiting now
        for path in ("/", "/workers", "/api/v1/jobs", "/api/v1/workers", "/catalogue"):
            st, _ = m.api("GET", path, token=None)
            assert st == 200, path
        assert done == []  # answered while all claims still wait
        spec = {"name": "demo", "version": "1.0", "filename": "demo-1.0.tar.gz",
                "url": "http://127.0.0.1:9/demo-1.0.tar.gz", "sha256": "ab" * 32, "size": 10,
                "recipe": "static"}
        st, j = m.api("POST", "/api/v1/jobs", spec, token="submit")
        assert st == 201  # a write is answered while they wait, too
        results = [f.result() for f in futures]
    assert all(st == 200 for st, _ in results)
    assert sum(len(r["leases"]) for _, r in results) == 1  # the submit woke them; one won
