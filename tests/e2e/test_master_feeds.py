"""End-to-end: the master's feeds against a fake PyPI served by the test
on loopback — PyPI's RSS (updates and new packages), the simple API's
serials (like bandersnatch), and a watched drop directory — with their
cursors surviving a restart of the master (nothing lost, nothing
repeated) and the allow/deny lists."""
import time

import pytest

import distbuild
from masterlib import FakePyPI, Master, start_worker, stop_worker, store_location


@pytest.fixture
def pypi():
    p = FakePyPI()
    yield p
    p.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    with store_location(request.param, tmp_path) as loc:
        yield loc


def release(pypi, tmp_path, name, version, wheel=True, sdist=True, when=None):
    if sdist:
        p = distbuild.write_sdist(tmp_path, name=name, version=version)
        pypi.add(name, version, p.name, p.read_bytes(), when)
    if wheel:
        p = distbuild.write_wheel(tmp_path, name=name.replace("-", "_"), version=version)
        pypi.add(name, version, p.name, p.read_bytes(), when)


def jobs_of(m):
    st, body = m.api("GET", "/api/v1/jobs?limit=1000")
    assert st == 200
    return body["jobs"]


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_rss_feed(tmp_path, env, db, pypi):
    t0 = time.time() - 600
    release(pypi, tmp_path, "alpha-pkg", "1.0", when=t0)
    release(pypi, tmp_path, "beta-pkg", "2.0", sdist=False, when=t0 + 1)
    release(pypi, tmp_path, "evil-pkg", "0.1", when=t0 + 2)
    sections = ("[feeds]\nrecipe = static\ndeny = evil-*\ninterval = 0.5\n"
                f"[feed.rss]\nurls = {pypi.url}/rss/updates.xml\n"
                f"index_url = {pypi.url}/simple/\n")
    m = Master(tmp_path, env, db, sections=sections)
    w = start_worker(env, m.url, m.tokens["worker"], "feeder", tmp_path)
    try:
        jobs = wait_for(lambda: len(jobs_of(m)) >= 2 and jobs_of(m), what="two feed jobs")
        time.sleep(1.5)  # a few more polls: nothing else appears
        jobs = jobs_of(m)
        # Preferred files: the sdist where there is one, else the wheel;
        # evil-pkg is denied.
        assert sorted(j["filename"] for j in jobs) == ["alpha_pkg-1.0.tar.gz",
                                                       "beta_pkg-2.0-py3-none-any.whl"]
        assert all(j["created_by"] == "feed" and j["recipe"] == "static" for j in jobs)
        for j in jobs:
            assert m.wait_state(j["id"])["state"] == "done"
        # A new release comes in; the master restarts in between.
        m.stop()
        release(pypi, tmp_path, "alpha-pkg", "1.1", wheel=False)
        m.start()
        wait_for(lambda: len(jobs_of(m)) == 3, what="the new release's job")
        time.sleep(1.5)
        jobs = jobs_of(m)
        assert len(jobs) == 3, [j["filename"] for j in jobs]
        assert jobs[0]["filename"] == "alpha_pkg-1.1.tar.gz"
        assert m.wait_state(jobs[0]["id"])["state"] == "done"
    finally:
        stop_worker(w)
        m.stop()


def test_rss_new_packages_feed(tmp_path, env, pypi):
    """packages.xml names new projects without versions: the newest
    version of each is tested."""
    release(pypi, tmp_path, "gamma-pkg", "1.0", wheel=False)
    release(pypi, tmp_path, "gamma-pkg", "1.2", wheel=False)
    sections = ("[feeds]\nrecipe = static\ninterval = 0.5\nfiles = all\n"
                f"[feed.rss]\nurls = {pypi.url}/rss/packages.xml\n"
                f"index_url = {pypi.url}/simple/\n")
    m = Master(tmp_path, env, str(tmp_path / "pyti.db"), sections=sections)
    try:
        wait_for(lambda: jobs_of(m), what="a job")
        time.sleep(1)
        assert [j["filename"] for j in jobs_of(m)] == ["gamma_pkg-1.2.tar.gz"]
    finally:
        m.stop()


def test_serial_feed(tmp_path, env, db, pypi):
    release(pypi, tmp_path, "old-pkg", "1.0")
    sections = ("[feeds]\nrecipe = static\ninterval = 0.5\nfiles = all\n"
                f"[feed.serial]\nindex_url = {pypi.url}/simple/\nstart = now\n")
    m = Master(tmp_path, env, db, sections=sections)
    try:
        # start = now: what was there before is not tested; the cursor
        # records where the index was.
        wait_for(lambda: any(p.startswith("/simple/") for p in pypi.requests), what="a poll")
        time.sleep(1)
        assert jobs_of(m) == []
        release(pypi, tmp_path, "new-pkg", "0.1")
        release(pypi, tmp_path, "old-pkg", "1.1", wheel=False)
        wait_for(lambda: len(jobs_of(m)) == 3, what="three serial jobs")
        m.stop()
        # Restarted: the cursor is in the store, nothing is submitted again.
        m.start()
        n_polls = len(pypi.requests)
        wait_for(lambda: len(pypi.requests) > n_polls + 1, what="polls after the restart")
        time.sleep(1)
        files = sorted(j["filename"] for j in jobs_of(m))
        assert files == ["new_pkg-0.1-py3-none-any.whl", "new_pkg-0.1.tar.gz",
                         "old_pkg-1.1.tar.gz"]
        assert all(j["created_by"] == "feed" for j in jobs_of(m))
    finally:
        m.stop()


def test_serial_feed_from_the_beginning_with_allow_list(tmp_path, env, pypi):
    release(pypi, tmp_path, "keep-me", "1.0", wheel=False)
    release(pypi, tmp_path, "skip-me", "1.0", wheel=False)
    sections = ("[feeds]\nrecipe = static\ninterval = 0.5\nallow = keep-*\n"
                f"[feed.serial]\nindex_url = {pypi.url}/simple/\nstart = beginning\n")
    m = Master(tmp_path, env, str(tmp_path / "pyti.db"), sections=sections)
    try:
        wait_for(lambda: jobs_of(m), what="a job")
        time.sleep(1)
        assert [j["project"] for j in jobs_of(m)] == ["keep-me"]
    finally:
        m.stop()


def test_drop_directory(tmp_path, env, db):
    drop = tmp_path / "drop"
    drop.mkdir()
    sections = f"[feeds]\nrecipe = static\n[feed.dropdir]\npath = {drop}\ninterval = 0.3\n"
    m = Master(tmp_path, env, db, workers=1, sections=sections)
    try:
        good = distbuild.write_wheel(tmp_path, name="dropped", version="1.0")
        (drop / ".incoming").write_bytes(good.read_bytes())
        (drop / ".incoming").rename(drop / good.name)
        (drop / "notes.txt").write_text("not a distribution")
        import os
        old = time.time() - 10
        os.utime(drop / good.name, (old, old))
        os.utime(drop / "notes.txt", (old, old))
        wait_for(lambda: (drop / "done" / good.name).exists(), what="the file taken")
        [job] = jobs_of(m)
        assert job["filename"] == good.name and job["created_by"] == "feed"
        assert m.wait_state(job["id"])["state"] == "done"
        wait_for(lambda: (drop / "rejected" / "notes.txt").exists(), what="the bad file moved")
        # The same file dropped again is the same (done) job.
        (drop / good.name).write_bytes(good.read_bytes())
        os.utime(drop / good.name, (old, old))
        wait_for(lambda: not (drop / good.name).exists(), what="the file taken again")
        assert len(jobs_of(m)) == 1
    finally:
        m.stop()


def test_bad_feed_settings(tmp_path, env, pyti):
    cfg = tmp_path / "bad.ini"
    cfg.write_text(f"[store]\npath = {tmp_path / 'x.db'}\n[feed.serial]\nindex_url = "
                   "http://127.0.0.1:9/simple/\nstart = sometime\n")
    cp = pyti("--config", cfg, "serve", "--listen", "127.0.0.1:0", check=2)
    assert "start = 'sometime'" in cp.stderr
    cfg.write_text(f"[store]\npath = {tmp_path / 'x.db'}\n[feed.rss]\nurl = x\n")
    cp = pyti("--config", cfg, "serve", "--listen", "127.0.0.1:0", check=2)
    assert "unknown setting 'url'" in cp.stderr and "bad.ini:" in cp.stderr
