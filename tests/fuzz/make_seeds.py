#!/usr/bin/env python3
"""Writes binary fuzz seeds that are better generated than committed
(archives) into OUTDIR/<target>/. Text seeds live in tests/fuzz/corpus/."""
import io
import os
import sys
import tarfile
import zipfile


def tar_bytes(mode, members):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return bio.getvalue()


def zip_bytes(members):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return bio.getvalue()


def main():
    out = sys.argv[1]
    d = os.path.join(out, "archive")
    os.makedirs(d, exist_ok=True)
    members = [("pkg-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"),
               ("pkg-1.0/pkg/__init__.py", b"x = 1\n")]
    for mode, ext in (("w:gz", "tgz"), ("w:bz2", "tbz"), ("w:xz", "txz"), ("w", "tar")):
        with open(os.path.join(d, "seed." + ext), "wb") as f:
            f.write(tar_bytes(mode, members))
    with open(os.path.join(d, "seed.zip"), "wb") as f:
        f.write(zip_bytes(members))


if __name__ == "__main__":
    main()
