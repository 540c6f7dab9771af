#!/usr/bin/env python3
"""Writes binary fuzz seeds that are better generated than committed
(archives) into OUTDIR/<target>/. Text seeds live in tests/fuzz/corpus/.

For fuzz_archive: well-formed distributions in every supported format and
compression, plus one seed per hostile shape the extractor must refuse
(traversal, links, devices, modes, duplicates, clashes, long names, zip
symlinks and Windows names), so the fuzzer starts next to every rule."""
import bz2
import gzip
import io
import lzma
import os
import stat
import sys
import tarfile
import zipfile

PKG_INFO = b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"


def tar_bytes(mode, members, fmt=tarfile.PAX_FORMAT):
    """members: (name, data) or (name, dict of TarInfo attributes)."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode, format=fmt) as tf:
        for name, what in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1600000000
            if isinstance(what, bytes):
                info.size = len(what)
                tf.addfile(info, io.BytesIO(what))
            else:
                for k, v in what.items():
                    setattr(info, k, v)
                tf.addfile(info)
    return bio.getvalue()


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    """members: (name, data) or (name, data, unix_mode)."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression) as zf:
        for m in members:
            info = zipfile.ZipInfo(m[0], (2020, 1, 1, 0, 0, 0))
            info.compress_type = compression
            if len(m) > 2:
                info.external_attr = m[2] << 16
                info.create_system = 3
            zf.writestr(info, m[1])
    return bio.getvalue()


def gnu_sparse():
    """An old-style GNU sparse file ('S'): 1 MiB apparent size, two 512-byte
    data blocks at 0 and 512 KiB (tarfile reads these but cannot write them)."""
    def octal(n, width):
        return ("%0*o" % (width - 1, n)).encode() + b"\0"
    h = bytearray(512)
    h[0:10] = b"sparse.bin"
    h[100:108] = octal(0o644, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = octal(1024, 12)             # bytes stored
    h[136:148] = octal(1600000000, 12)
    h[156:157] = b"S"
    h[257:265] = b"ustar  \0"                # GNU magic
    for i, (off, n) in enumerate(((0, 512), (512 << 10, 512))):
        base = 386 + 24 * i
        h[base:base + 12] = octal(off, 12)
        h[base + 12:base + 24] = octal(n, 12)
    h[482] = 0                                # no extension headers
    h[483:495] = octal(1 << 20, 12)           # real size
    h[148:156] = b" " * 8
    h[148:156] = ("%06o" % sum(h)).encode() + b"\0 "
    return bytes(h) + b"A" * 512 + b"B" * 512 + bytes(1024)


def main():
    out = sys.argv[1]
    d = os.path.join(out, "archive")
    os.makedirs(d, exist_ok=True)

    def put(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    members = [("pkg-1.0/PKG-INFO", PKG_INFO),
               ("pkg-1.0/pkg/__init__.py", b"x = 1\n")]
    for mode, ext in (("w:gz", "tgz"), ("w:bz2", "tbz"), ("w:xz", "txz"), ("w", "tar")):
        put("seed." + ext, tar_bytes(mode, members))
    put("seed.ustar.tar", tar_bytes("w", members, tarfile.USTAR_FORMAT))
    put("seed.gnu.tar", tar_bytes("w", members, tarfile.GNU_FORMAT))
    put("seed.zip", zip_bytes(members))
    put("seed.stored.zip", zip_bytes(members, zipfile.ZIP_STORED))
    put("seed.bz2.zip", zip_bytes(members, zipfile.ZIP_BZIP2))
    put("seed.lzma.zip", zip_bytes(members, zipfile.ZIP_LZMA))

    # a fuller sdist: directories, exec bits, internal links, unicode
    rich = [
        ("pkg-1.0/", {"type": tarfile.DIRTYPE, "mode": 0o755}),
        ("pkg-1.0/PKG-INFO", PKG_INFO),
        ("pkg-1.0/bin/run", b"#!/bin/sh\n"),
        ("pkg-1.0/README", {"type": tarfile.SYMTYPE, "linkname": "PKG-INFO"}),
        ("pkg-1.0/docs/up", {"type": tarfile.SYMTYPE, "linkname": "../PKG-INFO"}),
        ("pkg-1.0/copy", {"type": tarfile.LNKTYPE, "linkname": "pkg-1.0/PKG-INFO"}),
        ("pkg-1.0/caf\u00e9/\u65e5\u672c.py", b"u = 1\n"),
        ("pkg-1.0/empty/", {"type": tarfile.DIRTYPE, "mode": 0o755}),
        ("pkg-1.0/" + "d/" * 20 + "deep.txt", b"deep\n"),
        ("pkg-1.0/" + "n" * 120 + "/" + "m" * 120, b"long names (pax)\n"),
    ]
    put("rich.tar.gz", tar_bytes("w:gz", rich))
    put("rich.gnu.tar", tar_bytes("w", rich, tarfile.GNU_FORMAT))

    hostile = {
        "dotdot": [("pkg/../../x", b"evil")],
        "absolute": [("/tmp/x", b"evil")],
        "symlink-abs": [("l", {"type": tarfile.SYMTYPE, "linkname": "/etc"})],
        "symlink-up": [("a/l", {"type": tarfile.SYMTYPE, "linkname": "../.."})],
        "symlink-through": [("d/", {"type": tarfile.DIRTYPE}),
                            ("l", {"type": tarfile.SYMTYPE, "linkname": "d"}),
                            ("l/x", b"through")],
        "symlink-chain": [("a/b/l2", {"type": tarfile.SYMTYPE, "linkname": "../.."}),
                          ("a/b/l1", {"type": tarfile.SYMTYPE, "linkname": "l2/../x"})],
        "hardlink-abs": [("h", {"type": tarfile.LNKTYPE, "linkname": "/etc/passwd"})],
        "hardlink-up": [("h", {"type": tarfile.LNKTYPE, "linkname": "../outside/secret"})],
        "hardlink-sym": [("f", b"f"), ("l", {"type": tarfile.SYMTYPE, "linkname": "f"}),
                         ("h", {"type": tarfile.LNKTYPE, "linkname": "l"})],
        "chardev": [("c", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3})],
        "blockdev": [("b", {"type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 0})],
        "fifo": [("p", {"type": tarfile.FIFOTYPE})],
        "setuid": [("su", {"size": 0, "mode": 0o4755})],
        "setgid-dir": [("g/", {"type": tarfile.DIRTYPE, "mode": 0o2755})],
        "duplicate": [("a", b"1"), ("./a", b"2")],
        "file-then-dir": [("a", b"1"), ("a/b", b"2")],
        "dir-then-file": [("a/b", b"1"), ("a", b"2")],
        "control-char": [("a\x1bb", b"1")],
        "backslash": [("a\\..\\..\\x", b"1")],
        "dot-root-ok": [("./", {"type": tarfile.DIRTYPE}), (".", {"type": tarfile.DIRTYPE})],
    }
    for name, ms in hostile.items():
        put("bad-%s.tar" % name, tar_bytes("w", ms))
    put("bad-nonutf8.tar", tar_bytes("w", [("caf\udce9.py", b"x")], tarfile.GNU_FORMAT))

    put("bad-zip-symlink.zip", zip_bytes([("l", b"../../etc", 0o120777),
                                          ("l/x", b"through", 0o100644)]))
    put("bad-zip-windows.zip", zip_bytes([("..\\..\\x", b"evil"), ("C:\\x", b"evil")]))
    put("bad-zip-modes.zip", zip_bytes([("su", b"x", 0o104755), ("s", b"", 0o140644),
                                        ("d/", b"", 0o042755)]))
    put("bad-zip-dup.zip", zip_bytes([("a", b"1"), ("a/", b""), ("a/b", b"2")]))

    # shapes that reach the limits and the node table's growth
    many = [("pkg-1.0/m%03d/f%03d.py" % (i % 40, i), b"") for i in range(300)]
    put("many.tar.gz", tar_bytes("w:gz", many))
    put("many.zip", zip_bytes(many))
    put("too-many.tar.gz", tar_bytes("w:gz", [("f%04d" % i, b"") for i in range(2100)]))
    put("deep.tar", tar_bytes("w", [("/".join(["d"] * 40) + "/f", b"deep")]))
    put("longname.tar", tar_bytes("w", [("pkg/" + "n" * 300, b"long")]))
    put("longpath.zip", zip_bytes([("/".join(["p" * 100] * 11), b"long")]))
    put("sparse.gnu.tar", gnu_sparse())

    # bombs, small enough for seeds: deflate and gzip of zeros
    put("bomb.zip", zip_bytes([("zeros", bytes(2 << 20))]))
    put("bomb.tar.gz", gzip.compress(tar_bytes("w", [("zeros", bytes(2 << 20))]), 9))
    put("double.tar.gz.gz", gzip.compress(gzip.compress(tar_bytes("w", members))))
    put("bz2-of-tar.tar.bz2", bz2.compress(tar_bytes("w", members, tarfile.USTAR_FORMAT)))
    put("xz-of-tar.tar.xz", lzma.compress(tar_bytes("w", members, tarfile.GNU_FORMAT)))

    install_seeds(out)


def install_seeds(out):
    """Seeds for fuzz_install: real-shaped wheels (raw mode) and the
    structured form ('S', flags, then name NUL content NUL ...)."""
    import base64
    import hashlib
    d = os.path.join(out, "install")
    os.makedirs(d, exist_ok=True)

    def put(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    def wheel(members):
        rows = []
        for m in members:
            h = base64.urlsafe_b64encode(hashlib.sha256(m[1]).digest()).rstrip(b"=").decode()
            rows.append("%s,sha256=%s,%d" % (m[0], h, len(m[1])))
        rows.append("fuzz-1.0.dist-info/RECORD,,")
        return zip_bytes(list(members) + [("fuzz-1.0.dist-info/RECORD",
                                           ("\n".join(rows) + "\n").encode())])

    md = ("fuzz-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: fuzz\nVersion: 1.0\n")
    wh = ("fuzz-1.0.dist-info/WHEEL",
          b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    ep = ("fuzz-1.0.dist-info/entry_points.txt",
          b"[console_scripts]\nfz = fuzz.cli:main [x]\npip = fuzz:m\n[gui_scripts]\ng = fuzz:g\n")
    base = [md, wh, ("fuzz/__init__.py", b"x = 1\n")]
    put("raw-minimal.whl", wheel(base))
    put("raw-full.whl", wheel(base + [
        ep,
        ("fuzz-1.0.data/scripts/run", b"#!python\nprint(1)\n", 0o100755),
        ("fuzz-1.0.data/scripts/fz", b"#!python\n", 0o100755),
        ("fuzz-1.0.data/headers/f.h", b"int f;\n"),
        ("fuzz-1.0.data/data/share/f.txt", b"f\n"),
        ("fuzz-1.0.data/purelib/fp.py", b"p = 1\n"),
        ("fuzz-1.0.data/platlib/fq.py", b"q = 1\n"),
    ]))
    put("raw-conflict.whl", wheel(base + [("existing.py", b"mine\n")]))
    put("raw-escape.whl", wheel(base + [("escape/x.py", b"out\n")]))

    def structured(flags, members):
        out = b"S" + bytes([flags])
        for name, content in members:
            out += name.encode() + b"\0" + content + b"\0"
        return out

    full = [("fuzz/__init__.py", b"x = 1\n"), (ep[0], ep[1]),
            ("!fuzz-1.0.data/scripts/run", b"#!pythonw -E\r\nx\r\n"),
            ("fuzz-1.0.data/scripts/g.exe", b"MZ"),
            ("fuzz-1.0.data/headers/f.h", b"int f;\n"),
            ("fuzz-1.0.data/data/share/f.txt", b"f\n"),
            ("fuzz-1.0.data/purelib/fuzz/p.py", b"p = 1\n")]
    put("s-full", structured(1 | 4, full))
    put("s-full-split", structured(1 | 8, full))
    put("s-full-instage", structured(1 | 4 | 16, full))
    put("s-dirs-instage", structured(1 | 16, [
        ("a/h.py", b"h"), ("a/x/f.py", b"f"), ("a-b/g.py", b"g"), ("a/empty/", b""),
        ("fuzz-1.0.data/data/share/doc/fuzz/README", b"r")]))
    put("s-overwrite", structured(1 | 2, [("existing.py", b"mine\n")]))
    put("s-norecord", structured(0, [("fuzz/__init__.py", b"")]))
    put("s-badkey", structured(1, [("fuzz-1.0.data/bin/x", b"")]))
    put("s-eps", structured(1, [(ep[0], b"[console_scripts]\nmy tool = a.b:c.d [e-f, g]\n"
                                       b"x = m\n[gui_scripts]\n.. = a:b\n")]))
    put("s-platlib", structured(1 | 8, [
        (wh[0], b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"),
        ("native/__init__.py", b""), ("fuzz-1.0.data/purelib/pure.py", b"")]))


if __name__ == "__main__":
    main()
