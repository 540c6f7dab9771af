"""Helpers for the index and resolver end-to-end tests and the
bench/resolve_vs_pip benchmark: building wheels (synthetic ones with chosen
Requires-Dist, and ones packed from the distributions Debian installed),
the synthetic project universe, the resolution cases pyti and pip must
agree on, running `pyti index serve`, `pyti resolve` and pip.

Nothing here runs the code it packs; pip only resolves (--dry-run)."""
import base64
import hashlib
import importlib.metadata
import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = "/usr/bin/python3"  # Debian's interpreter and its pip 23.0.1
SITE = Path("/usr/lib/python3/dist-packages")


def pyti_bin():
    return os.environ.get("PYTI_BIN", str(ROOT / "build" / "pyti"))


# ---- building wheels -------------------------------------------------------

def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _escape(name):
    return re.sub(r"[-_.]+", "_", name)


def pack_wheel(out_dir, name, version, metadata, files, tag="py3-none-any", build=None):
    """Writes a wheel of files ({path: bytes}) plus a .dist-info with
    metadata (text), WHEEL and a correct RECORD. Returns its path."""
    ename, ever = _escape(name), version.replace("-", "_")
    di = f"{ename}-{ever}.dist-info"
    files = dict(files)
    files[f"{di}/METADATA"] = metadata.encode()
    pure = tag.endswith("-none-any")
    files[f"{di}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: pyti-tests\n"
        f"Root-Is-Purelib: {'true' if pure else 'false'}\n"
        + "".join(f"Tag: {t}\n" for t in _expand_tags(tag))
        + (f"Build: {build}\n" if build else "")).encode()
    lines = [_record_line(p, d) for p, d in sorted(files.items())]
    lines.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = ("\n".join(lines) + "\n").encode()
    fname = f"{ename}-{ever}{'-' + build if build else ''}-{tag}.whl"
    path = Path(out_dir) / fname
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in sorted(files.items()):
            zf.writestr(rel, data)
    return path


def _expand_tags(tag):
    py, abi, plat = tag.split("-")
    return [f"{a}-{b}-{c}" for a in py.split(".") for b in abi.split(".") for c in plat.split(".")]


def metadata_text(name, version, requires=(), requires_python=None, extras=(),
                  metadata_version="2.1", dynamic=()):
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}",
             "Summary: synthetic project for pyti's resolver tests"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {e}" for e in extras]
    lines += [f"Requires-Dist: {r}" for r in requires]
    lines += [f"Dynamic: {d}" for d in dynamic]
    return "\n".join(lines) + "\n\n"


def synthetic_wheel(out_dir, name, version, requires=(), requires_python=None, extras=(),
                    tag="py3-none-any", build=None):
    mod = _escape(name).lower()
    md = metadata_text(name, version, requires, requires_python, extras)
    return pack_wheel(out_dir, name, version, md,
                      {f"{mod}/__init__.py": f"__version__ = {version!r}\n".encode()}, tag, build)


def synthetic_sdist(out_dir, name, version, requires=(), requires_python=None,
                    metadata_version="2.2", dynamic=()):
    top = f"{_escape(name)}-{version}"
    md = metadata_text(name, version, requires, requires_python, (), metadata_version, dynamic)
    path = Path(out_dir) / f"{top}.tar.gz"
    files = {f"{top}/PKG-INFO": md.encode(),
             f"{top}/setup.py": b"raise SystemExit('pyti never runs this')\n"}
    with tarfile.open(path, "w:gz") as tf:
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def dynamic_sdist(out_dir, name, version, requires=()):
    """A setuptools sdist whose metadata is not static (PKG-INFO 2.1): its
    dependencies are only known by running setup.py (a metadata build)."""
    top = f"{_escape(name)}-{version}"
    mod = _escape(name).lower()
    setup = (f"from setuptools import setup\n"
             f"setup(name={name!r}, version={version!r}, packages=[{mod!r}],\n"
             f"      install_requires={list(requires)!r})\n")
    files = {f"{top}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n",
             f"{top}/setup.py": setup,
             f"{top}/{mod}/__init__.py": f"__version__ = {version!r}\n"}
    path = Path(out_dir) / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def _installed_metadata(dist):
    """METADATA for an installed distribution: its own for .dist-info; for
    .egg-info, PKG-INFO with Requires-Dist/Provides-Extra from requires.txt
    (importlib.metadata converts the sections to markers)."""
    text = dist.read_text("METADATA")
    if text is not None:
        return text
    pkg_info = dist.read_text("PKG-INFO") or ""
    head, _, body = pkg_info.partition("\n\n")
    keep = [ln for ln in head.splitlines()
            if not ln.lower().startswith(("requires-dist:", "provides-extra:",
                                          "metadata-version:"))]
    reqs = dist.requires or []
    extras = []
    for r in reqs:
        for m in re.finditer(r"""extra == ["']([^"']+)["']""", r):
            if m.group(1) not in extras:
                extras.append(m.group(1))
    out = ["Metadata-Version: 2.1"] + keep
    out += [f"Provides-Extra: {e}" for e in extras]
    out += [f"Requires-Dist: {r}" for r in reqs]
    return "\n".join(out) + "\n\n" + body


def _top_level(dist):
    tl = dist.read_text("top_level.txt")
    if tl:
        return [t.strip() for t in tl.split() if t.strip()]
    names = set()
    for f in dist.files or []:
        part = f.parts[0]
        if not part.endswith((".dist-info", ".egg-info")) and part != "..":
            names.add(part[:-3] if part.endswith(".py") else part)
    return sorted(names)


def wheel_from_installed(dist, out_dir):
    """Packs an installed distribution (its top-level packages and modules
    from dist-packages, and its metadata) into a wheel with a correct
    RECORD. Native code gets a CPython 3.11 manylinux tag."""
    files = {}
    native = False
    for top in _top_level(dist):
        d = SITE / top
        if d.is_dir():
            for p in sorted(d.rglob("*")):
                if p.is_file() and "__pycache__" not in p.parts:
                    files[str(p.relative_to(SITE))] = p.read_bytes()
                    native |= p.suffix == ".so"
        elif (SITE / f"{top}.py").is_file():
            files[f"{top}.py"] = (SITE / f"{top}.py").read_bytes()
        else:
            for so in SITE.glob(f"{top}*.so"):
                files[so.name] = so.read_bytes()
                native = True
    tag = "cp311-cp311-manylinux_2_36_x86_64" if native else "py3-none-any"
    name = dist.metadata["Name"]
    return pack_wheel(out_dir, name, dist.version, _installed_metadata(dist), files, tag)


# Debian packages the tests pack (installed by scripts/install-deps).
DEBIAN_DISTS = [
    "Flask", "Werkzeug", "Jinja2", "MarkupSafe", "itsdangerous", "click", "blinker",
    "requests", "urllib3", "idna", "certifi", "chardet", "charset-normalizer",
    "pytest", "iniconfig", "pluggy", "packaging", "attrs", "py", "six", "pyparsing",
    "toml", "tomli", "distro", "PyYAML", "Pygments", "colorama", "more-itertools",
    "httplib2", "oauthlib", "PyJWT", "cryptography", "docutils", "roman", "pycodestyle",
    "pyflakes", "coverage", "argcomplete", "xmltodict",
]


def real_wheels(out_dir):
    """Wheels packed from Debian's installed python3-* distributions, plus
    the wheels Debian ships in /usr/share/python-wheels. Returns the
    project names that made it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    seen = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in seen:
            continue
        if name.lower() not in {d.lower() for d in DEBIAN_DISTS}:
            continue
        seen.add(name.lower())
        wheel_from_installed(dist, out_dir)
        made.append(name)
    for whl in Path("/usr/share/python-wheels").glob("*.whl"):
        target = out_dir / whl.name
        if not target.exists():
            target.write_bytes(whl.read_bytes())
            made.append(whl.name.split("-")[0])
    return sorted(made, key=str.lower)


# ---- the synthetic universe ------------------------------------------------

def W(name, version, *requires, rp=None, extras=(), tag="py3-none-any", build=None,
      yanked=None):
    return dict(kind="wheel", name=name, version=version, requires=list(requires), rp=rp,
                extras=list(extras), tag=tag, build=build, yanked=yanked)


def S(name, version, *requires, rp=None, mv="2.2", dynamic=()):
    return dict(kind="sdist", name=name, version=version, requires=list(requires), rp=rp,
                mv=mv, dynamic=list(dynamic), yanked=None)


def D(name, version, *requires):
    """An sdist-only release with dynamic metadata (needs a metadata build)."""
    return dict(kind="dynamic-sdist", name=name, version=version, requires=list(requires),
                yanked=None)


def universe():
    """Synthetic projects: (spec dicts) for the hard cases."""
    u = []
    # chains and newest-first
    u += [W("syn-app", "1.0", "syn-lib>=1"), W("syn-app", "2.0", "syn-lib>=2,<3"),
          W("syn-app", "2.1", "syn-lib>=2", "syn-util"),
          W("syn-lib", "1.0"), W("syn-lib", "2.0", "syn-util<2"), W("syn-lib", "2.5"),
          W("syn-lib", "3.0"),
          W("syn-util", "1.0"), W("syn-util", "1.5"), W("syn-util", "2.0")]
    # backtracking: newest top needs a mid that conflicts with other
    u += [W("bt-top", "1.0", "bt-mid==1.0"), W("bt-top", "2.0", "bt-mid==2.0"),
          W("bt-top", "3.0", "bt-mid==3.0"),
          W("bt-mid", "1.0"), W("bt-mid", "2.0", "bt-leaf<1"), W("bt-mid", "3.0", "bt-leaf<1"),
          W("bt-other", "1.0", "bt-leaf>=1"),
          W("bt-leaf", "0.5"), W("bt-leaf", "1.5")]
    # deep backtracking: only the oldest x works
    for i in range(1, 16):
        u.append(W("deep-x", f"{i}.0", f"deep-y=={i}.0"))
        u.append(W("deep-y", f"{i}.0", "deep-z>=2" if i == 1 else "deep-z<2"))
    u += [W("deep-z", "1.0"), W("deep-z", "2.0"), W("deep-top", "1.0", "deep-x", "deep-z>=2")]
    # extras
    u += [W("ext-base", "1.0", "ext-dep", 'ext-fast>=2; extra == "fast"',
            "ext-docs; extra == 'docs' or extra == 'all'",
            "ext-fast; extra == 'all'", "ext-never; python_version < '3'",
            extras=["fast", "docs", "all"]),
          W("ext-base", "2.0", "ext-dep", 'ext-fast>=3; extra == "fast"', extras=["fast"]),
          W("ext-dep", "1.0"), W("ext-fast", "1.0"), W("ext-fast", "2.0"),
          W("ext-docs", "1.0"),
          W("ext-user", "1.0", "ext-base[docs]<2"),
          W("ext-self", "1.0", "ext-self[b]; extra == 'a'", "ext-dep; extra == 'b'",
            extras=["a", "b"])]
    # markers
    u += [W("mk-app", "1.0", "mk-win; sys_platform == 'win32'",
            "mk-linux; sys_platform == 'linux'", "mk-old; python_version < '3.8'",
            "mk-new; python_version >= '3.11'", "mk-arm; platform_machine == 'aarch64'",
            "mk-cp; implementation_name == 'cpython' and os_name == 'posix'",
            "mk-pypy; platform_python_implementation == 'PyPy'"),
          W("mk-win", "1.0"), W("mk-linux", "1.0"), W("mk-old", "1.0"), W("mk-new", "1.0"),
          W("mk-arm", "1.0"), W("mk-cp", "1.0"), W("mk-pypy", "1.0")]
    # yanked
    u += [W("yk-pkg", "1.0"), W("yk-pkg", "2.0", yanked="broken build"),
          W("yk-only", "1.0", yanked=""), W("yk-user", "1.0", "yk-pkg==2.0")]
    # pre-releases
    u += [W("pre-pkg", "1.0"), W("pre-pkg", "2.0b1"), W("pre-pkg", "2.0rc1"),
          W("pre-only", "0.1a1"), W("pre-only", "0.1a2"),
          W("pre-user", "1.0", "pre-pkg>=2.0b1"), W("pre-dev", "1.0.dev3")]
    # requires-python
    u += [W("rp-pkg", "1.0", rp=">=3.7"), W("rp-pkg", "2.0", rp=">=3.8"),
          W("rp-pkg", "3.0", rp=">=3.12"), W("rp-pkg", "4.0", rp="<3"),
          W("rp-none", "1.0", rp=">=3.13")]
    # circular
    u += [W("cyc-a", "1.0", "cyc-b"), W("cyc-b", "1.0", "cyc-c"), W("cyc-c", "1.0", "cyc-a"),
          W("cyc-c", "2.0", "cyc-a>1")]
    # many versions
    for i in range(200):
        u.append(W("many-vers", f"{i // 100}.{(i // 10) % 10}.{i % 10}"))
    u.append(W("many-user", "1.0", "many-vers>=1.5,!=1.9.9,<2"))
    # wheel tags and files of one version
    u += [W("tg-pkg", "1.0"), W("tg-pkg", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"),
          W("tg-pkg", "1.0", tag="cp37-abi3-manylinux1_x86_64"),
          W("tg-pkg", "1.0", tag="cp311-cp311-win_amd64"),
          W("tg-pkg", "1.1", tag="cp39-cp39-manylinux1_x86_64"),
          W("tg-build", "1.0"), W("tg-build", "1.0", build="1"), W("tg-build", "1.0", build="2"),
          W("tg-mixed", "1.0"), S("tg-mixed", "1.0")]
    # sdists whose metadata only a PEP 517 build can tell (pyti builds them
    # in the sandbox, pip on the host): BUILD_CASES
    u += [W("dyn-app", "1.0", "dyn-lib"),
          D("dyn-lib", "1.0", "syn-util<2"), D("dyn-lib", "2.0", "syn-util>=9"),
          D("dyn-chain", "1.0", "dyn-lib", "syn-lib>=2")]
    # specifier forms
    u += [W("sp-pkg", v) for v in ("0.9", "1.0", "1.0.post1", "1.1", "1.4.2", "1.5",
                                   "2.0", "2.0.1", "3.0.dev1")]
    # conflicts
    u += [W("cf-a", "1.0", "cf-shared<2"), W("cf-b", "1.0", "cf-shared>=2"),
          W("cf-shared", "1.0"), W("cf-shared", "2.0")]
    # names that need normalising
    u += [W("Norm.Name_Pkg", "1.0", "norm_dep"), W("NORM-DEP", "1.0")]
    # a mid-size graph with a late conflict that backtracking must untangle
    for v in range(1, 7):
        u.append(W("web-framework", f"{v}.0", f"web-template>={v}", f"web-http>={v}",
                   "web-log" if v < 5 else "web-log>=3"))
        u.append(W("web-template", f"{v}.0", f"web-escape>={v // 2}"))
        u.append(W("web-http", f"{v}.0", "web-url", "web-log<3" if v >= 4 else "web-log"))
    u += [W("web-escape", f"{v}.0") for v in range(0, 4)]
    u += [W("web-url", "1.0"), W("web-url", "2.0")]
    u += [W("web-log", f"{v}.0") for v in range(1, 5)]
    u += [W("web-app", "1.0", "web-framework", "web-http>=3")]
    # a real-world shape: depends on real Debian projects
    u += [W("real-webapp", "1.0", "Flask>=2", "requests[socks]", "PyYAML", "Jinja2<4"),
          W("real-tools", "1.0", "pytest>=7", "attrs>=20", "coverage[toml]", "packaging>=21"),
          W("real-old", "1.0", "Flask<2")]
    return u


def build_universe(out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for s in universe():
        if s["kind"] == "wheel":
            p = synthetic_wheel(out_dir, s["name"], s["version"], s["requires"], s["rp"],
                                s["extras"], s["tag"], s["build"])
        elif s["kind"] == "dynamic-sdist":
            p = dynamic_sdist(out_dir, s["name"], s["version"], s["requires"])
        else:
            p = synthetic_sdist(out_dir, s["name"], s["version"], s["requires"], s["rp"],
                                s["mv"], s["dynamic"])
        if s["yanked"] is not None:
            Path(str(p) + ".yanked").write_text(s["yanked"])


# ---- the agreement cases ---------------------------------------------------

def cases(real_projects=()):
    """(id, [requirements], [extra flags]) that pyti and pip must agree on."""
    c = [
        ("newest", ["syn-app"], []),
        ("chain-constrained", ["syn-app<2.1"], []),
        ("chain-pin", ["syn-app==1.0", "syn-lib<2"], []),
        ("two-roots", ["syn-lib", "syn-util<2"], []),
        ("backtrack", ["bt-top", "bt-other"], []),
        ("backtrack-reversed", ["bt-other", "bt-top"], []),
        ("deep-backtrack", ["deep-top"], []),
        ("extras-none", ["ext-base"], []),
        ("extras-one", ["ext-base[fast]"], []),
        ("extras-many", ["ext-base[fast,docs]"], []),
        ("extras-all-old", ["ext-base[all]<2"], []),
        ("extras-transitive", ["ext-user"], []),
        ("extras-self", ["ext-self[a]"], []),
        ("extras-unknown", ["ext-base[nosuch]"], []),
        ("extras-and-plain", ["ext-base", "ext-base[fast]"], []),
        ("markers", ["mk-app"], []),
        ("root-markers", ["mk-win; sys_platform == 'win32'", "mk-linux; os_name == 'posix'"], []),
        ("yanked-skipped", ["yk-pkg"], []),
        ("yanked-pinned", ["yk-pkg==2.0"], []),
        ("yanked-transitive-pin", ["yk-user"], []),
        ("yanked-only-fails", ["yk-only"], []),
        ("yanked-only-pinned", ["yk-only==1.0"], []),
        ("pre-default", ["pre-pkg"], []),
        ("pre-explicit", ["pre-pkg>=2.0b1"], []),
        ("pre-flag", ["pre-pkg"], ["--pre"]),
        ("pre-only", ["pre-only"], []),
        ("pre-transitive", ["pre-user"], []),
        ("pre-dev-only", ["pre-dev"], []),
        ("requires-python", ["rp-pkg"], []),
        ("requires-python-none", ["rp-none"], []),
        ("requires-python-pinned-fails", ["rp-pkg==3.0"], []),
        ("circular", ["cyc-a"], []),
        ("many-versions", ["many-user"], []),
        ("many-versions-range", ["many-vers~=1.4.0"], []),
        ("wheel-tags", ["tg-pkg"], []),
        ("build-tags", ["tg-build"], []),
        ("wheel-over-sdist", ["tg-mixed"], []),
        ("spec-compatible", ["sp-pkg~=1.4"], []),
        ("spec-wildcard", ["sp-pkg==1.*"], []),
        ("spec-not-equal", ["sp-pkg!=2.0.1,!=2.0"], []),
        ("spec-arbitrary", ["sp-pkg===1.0"], []),
        ("spec-post", ["sp-pkg>1.0,<1.1"], []),
        ("spec-exclusive", ["sp-pkg>2.0"], []),
        ("conflict", ["cf-a", "cf-b"], []),
        ("conflict-root", ["cf-shared<2", "cf-shared>=2"], []),
        ("missing-project", ["no-such-project"], []),
        ("no-matching-version", ["syn-lib>9"], []),
        ("names-normalised", ["norm.name-pkg"], []),
        ("web-graph", ["web-app"], []),
        ("web-framework-old", ["web-framework<5"], []),
        ("real-webapp", ["real-webapp"], []),
        ("real-tools", ["real-tools"], []),
        ("real-old-fails", ["real-old"], []),
        ("real-mix", ["Flask", "requests", "pytest", "PyYAML", "pip", "setuptools", "wheel"], []),
    ]
    for name in real_projects:
        c.append((f"real-{name.lower()}", [name], []))
    return c


# Cases that need metadata builds (pyti: in the sandbox; pip: on the host,
# with build isolation, setuptools and wheel from the index's real wheels).
# Kept out of cases() so bench/resolve_vs_pip times resolution alone.
BUILD_CASES = [
    ("sdist-build", ["dyn-app"], []),                  # dyn-lib 2.0 fails, 1.0 chosen
    ("sdist-build-pinned-fails", ["dyn-lib==2.0"], []),
    ("sdist-build-chain", ["dyn-chain"], []),
]


# ---- running the pieces ----------------------------------------------------

class Server:
    """`pyti index serve DIR` on a free loopback port."""

    def __init__(self, directory, *extra, env=None):
        self.proc = subprocess.Popen(
            [pyti_bin(), "index", "serve", str(directory), "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        m = re.search(r" at (http://\S+/simple/)$", line.strip())
        if not m:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.proc.kill()
            raise RuntimeError(f"pyti index serve did not start: {line!r} {err}")
        self.url = m.group(1)
        self.index = self.url.rstrip("/")
        self.banner = line.strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def pip_env(cache_home=None):
    e = dict(os.environ)
    e.pop("PIP_FIND_LINKS", None)
    e["PIP_CONFIG_FILE"] = "/dev/null"
    e["PIP_NO_CACHE_DIR"] = "1"
    e["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    e["PIP_NO_INPUT"] = "1"
    e.pop("PIP_INDEX_URL", None)
    e.pop("PIP_EXTRA_INDEX_URL", None)
    return e


def run_pip(index, reqs, flags, report):
    """pip's resolution: (set of (name, version) or None on failure, seconds,
    completed process)."""
    cmd = [PY, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
           "--report", str(report), "--index-url", index, *flags, *reqs]
    t0 = time.perf_counter()
    cp = subprocess.run(cmd, env=pip_env(), capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if cp.returncode != 0:
        return None, dt, cp
    data = json.loads(Path(report).read_text())
    got = {(canon(i["metadata"]["name"]), norm_version(i["metadata"]["version"]))
           for i in data["install"]}
    return got, dt, cp


def run_pyti(index, reqs, flags, env):
    cmd = [pyti_bin(), "resolve", "--index-url", index, *flags, "--", *reqs]
    t0 = time.perf_counter()
    cp = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if cp.returncode != 0:
        return None, dt, cp
    got = set()
    for line in cp.stdout.splitlines():
        name, _, version = line.partition("==")
        got.add((canon(name), norm_version(version)))
    return got, dt, cp


def canon(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def norm_version(v):
    from packaging.version import Version
    return str(Version(v))


_DIST_DIR = None
_REAL = None


def dist_dir(tmp_path_factory):
    """One directory per test session with the synthetic universe and the
    real wheels (built once, shared by the index test modules)."""
    global _DIST_DIR, _REAL
    if _DIST_DIR is None:
        d = tmp_path_factory.mktemp("index-dists")
        build_universe(d / "synthetic")
        _REAL = real_wheels(d / "real")
        _DIST_DIR = d
    return _DIST_DIR, _REAL
