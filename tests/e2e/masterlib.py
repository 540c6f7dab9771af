"""Helpers for the end-to-end tests of the master and workers: a real
`pyti serve` on a loopback port with its own settings file and tokens,
real `pyti worker` processes, JSON calls over HTTP (urllib), a store on
SQLite or on the PostgreSQL of $PYTI_TEST_PG (one schema per test), and
a fake PyPI (RSS feeds, the simple API with serials, files) served by
the test itself."""
import contextlib
import hashlib
import http.server
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from conftest import pyti_bin

TOKENS = {"admin": "admin-" + "a" * 40, "worker": "worker-" + "w" * 40,
          "submit": "submit-" + "s" * 40}


def psql(uri, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", uri, "-c", sql], check=True,
                   capture_output=True, text=True)


@contextlib.contextmanager
def store_location(kind, tmp_path):
    """A fresh store: a SQLite file, or a schema of $PYTI_TEST_PG."""
    import pytest
    if kind == "sqlite":
        yield str(tmp_path / "pyti.db")
        return
    base = os.environ.get("PYTI_TEST_PG")
    if not base:
        if os.environ.get("PYTI_ALLOW_NO_PG") == "1":
            pytest.skip("PYTI_TEST_PG is not set")
        pytest.fail("PYTI_TEST_PG is not set: the PostgreSQL cases need a server "
                    "(scripts/test starts one; PYTI_ALLOW_NO_PG=1 skips them)")
    schema = "e2e_" + uuid.uuid4().hex[:12]
    psql(base, f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        psql(base, f"DROP SCHEMA {schema} CASCADE")


def write_tokens(d):
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    files = {}
    for role, tok in TOKENS.items():
        p = d / f"{role}.token"
        p.write_text(tok + "\n")
        p.chmod(0o600)
        files[role] = p
    return files


class Master:
    """`pyti serve` with a settings file of its own. extra is appended to
    the [master] section; sections adds whole sections."""

    def __init__(self, tmp_path, env, db, workers=0, extra="", sections="", listen="127.0.0.1:0",
                 name="master"):
        self.dir = Path(tmp_path) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.db = db
        self.workers = workers
        self.tokens = write_tokens(Path(tmp_path) / "tokens")
        self.config = self.dir / "pyti.ini"
        self.config.write_text(
            f"[store]\npath = {db}\n"
            "[master]\n"
            f"admin_token_file = {self.tokens['admin']}\n"
            f"worker_token_file = {self.tokens['worker']}\n"
            f"submit_token_file = {self.tokens['submit']}\n"
            f"files_dir = {Path(tmp_path) / 'files'}\n"
            f"{extra}\n{sections}\n")
        self.listen = listen
        self.proc = None
        self.url = None
        self.start()

    def start(self, listen=None):
        """Starts (again: on the same port, so workers find it)."""
        if listen is None and self.url:
            listen = "127.0.0.1:" + self.url.rsplit(":", 1)[1]
        listen = listen or self.listen
        self.stderr = open(self.dir / "serve.log", "ab")
        args = [pyti_bin(), "--config", self.config, "serve", "--listen", listen]
        if self.workers:
            args += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(list(map(str, args)), env=self.env, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        if "listening at" not in line:
            self.proc.wait(10)
            raise AssertionError(f"pyti serve did not start: {line!r}\n{self.log()}")
        self.url = line.split("listening at ")[1].split()[0]
        # The rest of stdout is read so the pipe never fills.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return self

    def log(self):
        return (self.dir / "serve.log").read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.stderr.close()
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def api(self, method, path, body=None, token="admin", raw=None, headers=None, timeout=60):
        return call(self.url, method, path, body, token, raw, headers, timeout)

    def wait_state(self, job_id, states=("done", "failed", "cancelled"), timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st, job = self.api("GET", f"/api/v1/jobs/{job_id}")
            if st == 200 and job["state"] in states:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} not in {states} after {timeout}s: {job}\n"
                             f"{self.log()[-4000:]}")


def call(url, method, path, body=None, token="admin", raw=None, headers=None, timeout=60):
    """One API call; returns (status, parsed JSON or text)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + TOKENS.get(token, token))
    if body is not None and raw is None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, text, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    if "json" in ctype:
        return status, json.loads(text)
    return status, text.decode("utf-8", "replace")


def start_worker(env, url, token_file, wid, tmp_path, slots=1, extra=()):
    log = open(Path(tmp_path) / f"worker-{wid}.log", "ab")
    p = subprocess.Popen([pyti_bin(), "worker", "--master", url, "--token-file", str(token_file),
                          "--id", wid, "--slots", str(slots), *map(str, extra)],
                         env=env, stdout=log, stderr=log)
    p.logfile = log
    return p


def stop_worker(p, sig=signal.SIGTERM, timeout=60):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    p.logfile.close()
    return p.returncode


def multipart(fields, files):
    """A multipart/form-data body: fields {name: value or [values]}, files
    {name: (filename, bytes)}. Returns (content_type, body)."""
    boundary = "pyti" + uuid.uuid4().hex
    out = []
    for k, vs in fields.items():
        for v in (vs if isinstance(vs, list) else [vs]):
            out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                       f'{v}\r\n'.encode())
    for k, (fn, data) in files.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                   f'filename="{fn}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                   + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(out)


class FakePyPI:
    """A fake index on loopback: /rss/updates.xml, /rss/packages.xml,
    /simple/ (PEP 691 JSON with _last-serial), /simple/NAME/ and the files.
    Add releases with add(); the feeds change as PyPI's would."""

    def __init__(self):
        self.releases = []  # (name, version, filename, bytes, serial, time)
        self.serial = 100
        self.lock = threading.Lock()
        self.requests = []
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                code, ctype, body = fake.route(self.path)
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, name, version, filename, data, when=None):
        with self.lock:
            self.serial += 1
            self.releases.append((name, version, filename, data, self.serial,
                                  when if when is not None else time.time()))

    def norm(self, n):
        import re
        return re.sub(r"[-_.]+", "-", n).lower()

    def route(self, path):
        with self.lock:
            rel = list(self.releases)
        if path == "/rss/updates.xml":
            items = "".join(
                f"<item><title>{n} {v}</title><link>{self.url}/project/{n}/{v}/</link>"
                f"<description>x</description><pubDate>{rfc822(t)}</pubDate></item>"
                for n, v, _, _, _, t in sorted(rel, key=lambda r: -r[5]))
            return 200, "application/rss+xml", rss(items)
        if path == "/rss/packages.xml":
            first = {}
            for r in rel:
                first.setdefault(self.norm(r[0]), r)
            items = "".join(
                f"<item><title>{n} added to PyPI</title><link>{self.url}/project/{n}/</link>"
                f"<pubDate>{rfc822(t)}</pubDate></item>"
                for n, v, _, _, _, t in sorted(first.values(), key=lambda r: -r[5]))
            return 200, "application/rss+xml", rss(items)
        if path == "/simple/":
            serials = {}
            for n, _, _, _, s, _ in rel:
                serials[self.norm(n)] = max(s, serials.get(self.norm(n), 0))
            doc = {"meta": {"api-version": "1.1", "_last-serial": self.serial},
                   "projects": [{"name": n, "_last-serial": s} for n, s in serials.items()]}
            return 200, "application/vnd.pypi.simple.v1+json", json.dumps(doc).encode()
        if path.startswith("/simple/"):
            name = path.split("/")[2]
            files = [r for r in rel if self.norm(r[0]) == self.norm(name)]
            if not files:
                return 404, "text/plain", b"no such project"
            doc = {"meta": {"api-version": "1.1"}, "name": self.norm(name),
                   "versions": sorted({r[1] for r in files}),
                   "files": [{"filename": fn, "url": f"{self.url}/files/{fn}",
                              "hashes": {"sha256": hashlib.sha256(d).hexdigest()},
                              "size": len(d)} for _, _, fn, d, _, _ in files]}
            return 200, "application/vnd.pypi.simple.v1+json", json.dumps(doc).encode()
        if path.startswith("/files/"):
            fn = path[len("/files/"):]
            for r in rel:
                if r[2] == fn:
                    return 200, "application/octet-stream", r[3]
        return 404, "text/plain", b"not found"


def rfc822(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


def rss(items):
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>PyPI recent updates</title><link>https://pypi.org/</link>"
            f"<description>fake</description>{items}</channel></rss>").encode()


def store_sql(db, query):
    """Rows of a query on the store (SQLite file or PostgreSQL URI)."""
    if db.startswith("postgres"):
        cp = subprocess.run(["psql", "-q", "-At", "-F", "\t", db, "-c", query], check=True,
                            capture_output=True, text=True)
        return [tuple(line.split("\t")) for line in cp.stdout.splitlines() if line]
    import sqlite3
    con = sqlite3.connect(db)
    try:
        return [tuple(str(c) for c in row) for row in con.execute(query)]
    finally:
        con.close()


def upload(url, path, token="submit", recipe="static"):
    ctype, body = multipart({"recipe": recipe}, {"file": (Path(path).name,
                                                          Path(path).read_bytes())})
    st, ans = call(url, "POST", "/api/v1/jobs", raw=body, token=token,
                   headers={"Content-Type": ctype})
    assert st in (200, 201), ans
    return ans["id"]


def run_chaos(tmp_path, env, db, jobs=60, workers=4, kill_every=(0.3, 1.5), restarts=2,
              seed=1, timeout=600, log=print):
    """Submits `jobs` distinct distributions (the static recipe), runs them
    on `workers` worker processes that are killed with SIGKILL at random
    moments (every kill_every seconds, one at random, restarted at once
    under the same id), and restarts the master `restarts` times along
    the way (SIGKILL, then SIGTERM, alternately). Returns figures; raises
    AssertionError if any job is lost or reported other than once."""
    import random
    import distbuild
    rng = random.Random(seed)
    m = Master(tmp_path, env, db,
               extra="lease = 5\nreap_interval = 1\nlong_poll_max = 5\nmax_attempts = 20\n"
               "retry_backoff = 1")
    dist_dir = Path(tmp_path) / "dists"
    dist_dir.mkdir()
    t_submit = time.time()
    ids = []
    for i in range(jobs):
        whl = distbuild.write_wheel(dist_dir, name=f"chaos{i:05d}", version="1.0")
        ids.append(upload(m.url, whl))
    t0 = time.time()
    log(f"submitted {jobs} jobs in {t0 - t_submit:.1f}s")
    procs = {f"c{k}": start_worker(env, m.url, m.tokens["worker"], f"c{k}", tmp_path)
             for k in range(1, workers + 1)}
    kills = master_restarts = 0
    killed_workers = set()
    restart_at = [jobs * (k + 1) // (restarts + 1) for k in range(restarts)]
    next_kill = time.time() + rng.uniform(*kill_every)
    done = 0
    try:
        while True:
            try:
                done = int(store_sql(db, "SELECT COUNT(*) FROM jobs WHERE state = 'done'")[0][0])
                bad = store_sql(db, "SELECT id, error FROM jobs WHERE state = 'failed' OR "
                                "state = 'cancelled'")
            except Exception:  # the store is busy with a restart: ask again
                time.sleep(0.1)
                continue
            assert not bad, f"jobs failed: {bad}"
            if done == jobs:
                break
            assert time.time() - t0 < timeout, f"only {done}/{jobs} done after {timeout}s"
            if restart_at and done >= restart_at[0]:
                restart_at.pop(0)
                how = signal.SIGKILL if master_restarts % 2 == 0 else signal.SIGTERM
                m.stop(sig=how)
                master_restarts += 1
                log(f"master restarted ({how.name}) at {done}/{jobs} done")
                time.sleep(0.5)
                m.start()
            if time.time() >= next_kill:
                wid = rng.choice(sorted(procs))
                p = procs[wid]
                p.kill()
                p.wait()
                p.logfile.close()
                kills += 1
                killed_workers.add(wid)
                procs[wid] = start_worker(env, m.url, m.tokens["worker"], wid, tmp_path)
                next_kill = time.time() + rng.uniform(*kill_every)
            time.sleep(0.05)
        elapsed = time.time() - t0
    finally:
        for p in procs.values():
            stop_worker(p, timeout=30)
        m.stop()

    # Every job done, with exactly one stored result, by one attempt.
    rows = store_sql(db, "SELECT state, COUNT(*) FROM jobs GROUP BY state")
    assert rows == [("done", str(jobs))], rows
    per_job = store_sql(db, "SELECT job_id, COUNT(*) FROM reports WHERE outcome <> 'error' "
                        "GROUP BY job_id HAVING COUNT(*) <> 1")
    assert per_job == [], f"jobs with other than one result: {per_job}"
    n_reports = int(store_sql(db, "SELECT COUNT(*) FROM reports WHERE job_id IS NOT NULL AND "
                              "outcome <> 'error'")[0][0])
    assert n_reports == jobs, (n_reports, jobs)
    wins = store_sql(db, "SELECT job_id, COUNT(*) FROM attempts WHERE outcome = 'done' "
                     "GROUP BY job_id HAVING COUNT(*) <> 1")
    assert wins == [], wins
    linked = store_sql(db, "SELECT COUNT(*) FROM jobs j JOIN reports r ON r.id = j.report_id "
                       "WHERE r.job_id = j.id")
    assert int(linked[0][0]) == jobs
    outcomes = dict(store_sql(db, "SELECT COALESCE(outcome, 'open'), COUNT(*) FROM attempts "
                              "GROUP BY COALESCE(outcome, 'open')"))
    return {"jobs": jobs, "workers": workers, "kills": kills,
            "workers_killed": len(killed_workers), "master_restarts": master_restarts,
            "seconds": elapsed, "jobs_per_s": jobs / elapsed,
            "attempts": {k: int(v) for k, v in outcomes.items()}}
