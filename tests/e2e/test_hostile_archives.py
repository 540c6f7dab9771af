"""End-to-end: hostile archives are refused as a whole with exit code 2, a
clear message naming the entry, nothing written outside the job, and a
stored report whose outcome is `rejected`."""
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

import distbuild

OK = {"name": "evil-1.0/PKG-INFO", "data": b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"}

CASES = {
    "absolute": [OK, {"name": "/tmp/pyti-e2e-absolute", "data": b"x"}],
    "dotdot": [OK, {"name": "evil-1.0/../../pyti-e2e-dotdot", "data": b"x"}],
    "symlink-out": [OK, {"name": "evil-1.0/link", "type": tarfile.SYMTYPE, "linkname": "/etc"}],
    "symlink-up": [OK, {"name": "evil-1.0/link", "type": tarfile.SYMTYPE,
                        "linkname": "../../../.."}],
    "symlink-write-through": [
        OK, {"name": "evil-1.0/d", "type": tarfile.SYMTYPE, "linkname": "/tmp"},
        {"name": "evil-1.0/d/pyti-e2e-through", "data": b"x"}],
    "hardlink-out": [OK, {"name": "evil-1.0/h", "type": tarfile.LNKTYPE,
                          "linkname": "/etc/passwd"}],
    "char-device": [OK, {"name": "evil-1.0/null", "type": tarfile.CHRTYPE}],
    "block-device": [OK, {"name": "evil-1.0/sda", "type": tarfile.BLKTYPE}],
    "fifo": [OK, {"name": "evil-1.0/fifo", "type": tarfile.FIFOTYPE}],
    "setuid": [OK, {"name": "evil-1.0/suid", "data": b"#!/bin/sh\n", "mode": 0o4755}],
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_hostile_tar_is_rejected(pyti, tmp_path, kind):
    arch = distbuild.hostile_tar(tmp_path, "evil-1.0.tar.gz", CASES[kind])
    out = tmp_path / "r.json"
    db = tmp_path / "db.sqlite"
    cp = pyti("test", arch, "--json", out, "--db", db, check=2)
    assert "refused" in cp.stdout or "rejected" in cp.stdout
    report = json.loads(out.read_text())
    assert report["outcome"] == "rejected"
    extract = report["tasks"][0]
    assert extract["name"] == "extract" and extract["status"] == "failed"
    assert any(f["id"].startswith("archive.") for f in report["findings"])
    # everything after it depends on it: skipped, with the reason
    for t in report["tasks"][1:]:
        assert t["status"] == "skipped", t["name"]
        assert "extract" in t["reason"] or "was skipped" in t["reason"]
    # nothing escaped
    assert not list(Path("/tmp").glob("pyti-e2e-*"))
    # the refusal is stored too
    listed = json.loads(pyti("results", "--db", db, "--json", check=0).stdout)
    assert listed[0]["outcome"] == "rejected"


def test_zip_traversal_is_rejected(pyti, tmp_path):
    path = tmp_path / "evil-1.0.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("evil-1.0/PKG-INFO", OK["data"])
        zf.writestr("../../pyti-e2e-zip", b"x")
    cp = pyti("test", path, "--no-store", check=2)
    assert "pyti-e2e-zip" in cp.stdout + cp.stderr
    assert not list(Path("/tmp").glob("pyti-e2e-*"))


def test_zip_bomb_is_rejected(pyti, tmp_path):
    path = tmp_path / "bomb-1.0.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb-1.0/PKG-INFO", OK["data"])
        zf.writestr("bomb-1.0/zeros", b"\0" * (64 << 20))
    cp = pyti("test", path, "--no-store", check=2)
    assert "ratio" in (cp.stdout + cp.stderr).lower()


def test_limits_come_from_the_config(pyti, tmp_path, env):
    cfg = Path(env["XDG_CONFIG_HOME"]) / "pyti"
    cfg.mkdir(parents=True)
    (cfg / "pyti.ini").write_text("[limits]\nextract_max_entries = 3\n")
    sdist = distbuild.write_sdist(tmp_path)
    cp = pyti("test", sdist, "--no-store", check=2)
    assert "entries" in (cp.stdout + cp.stderr)


def test_bad_config_is_a_usage_error(pyti, tmp_path, env):
    cfg = tmp_path / "bad.ini"
    cfg.write_text("[limits]\nextract_max_entries = lots\n")
    sdist = distbuild.write_sdist(tmp_path)
    cp = pyti("--config", cfg, "test", sdist, "--no-store", check=2)
    assert f"{cfg}:2" in cp.stderr
    cfg.write_text("[limits]\nno_such_limit = 1\n")
    cp = pyti("test", "--config", cfg, sdist, "--no-store", check=2)
    assert "no_such_limit" in cp.stderr


def test_corrupt_archive_is_rejected(pyti, tmp_path):
    sdist = distbuild.write_sdist(tmp_path)
    data = sdist.read_bytes()
    sdist.write_bytes(data[: len(data) // 2])
    cp = pyti("test", sdist, "--no-store", check=2)
    assert sdist.name in cp.stdout + cp.stderr
