"""Cross-check of pyti's PEP 440/508/503 code against python3-packaging 23.0.

Generates tens of thousands of inputs (pepgen.py: edge cases + seeded random
strings and mutations), asks packaging in this process and pyti's oracle
(tests/crosscheck/pep_oracle, one run for the whole batch) the same
questions, and requires identical answers: parse ok/error, normal forms,
comparison signs, containment, marker results or errors, str() forms.

Differences that are intentional are documented in docs/pep-conformance.md
and proved by test_documented_deviations below; the generators stay clear
of them."""
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pepgen  # noqa: E402

import packaging  # noqa: E402
from packaging.markers import Marker  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402
from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: E402
from packaging.version import Version  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PYTI_BUILD_DIR", ROOT / "build"))
ORACLE = BUILD / "tests" / "crosscheck" / "pep_oracle"

# How many generated cases of each kind (plus the hand-picked ones).
# PYTI_CROSSCHECK_SCALE multiplies them and PYTI_CROSSCHECK_SEED shifts the
# seeds, for longer hunts than the default run (which must stay ~30 s).
SCALE = float(os.environ.get("PYTI_CROSSCHECK_SCALE", "1"))
SEED = int(os.environ.get("PYTI_CROSSCHECK_SEED", "0"))
N_VERSIONS = int(30000 * SCALE)
N_PAIRS = int(20000 * SCALE)
N_SPECS = int(20000 * SCALE)
N_MARKERS = int(15000 * SCALE)
N_REQS = int(15000 * SCALE)
N_WHEELS = int(4000 * SCALE)
N_NAMES = int(4000 * SCALE)

# Inputs beyond these sizes are refused by pyti on purpose (see the docs).
VERSION_MAX = 1024


def test_packaging_is_the_one_we_target():
    assert packaging.__version__ == "23.0", (
        "the cross-check expectations are those of packaging 23.0 "
        f"(found {packaging.__version__} at {packaging.__file__})")


def run_oracle(requests):
    if not ORACLE.exists():
        pytest.fail(f"{ORACLE} not built (run ninja -C {BUILD})")
    data = "".join(json.dumps(r) + "\n" for r in requests)
    cp = subprocess.run([str(ORACLE)], input=data.encode(), capture_output=True, timeout=300)
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")
    # split("\n"), not splitlines(): answers may hold U+2028 and friends
    out = [json.loads(line) for line in cp.stdout.decode().split("\n") if line]
    assert len(out) == len(requests)
    return out


def py_quiet(fn, *args):
    """Calls fn, returning (True, value) or (False, exception)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return True, fn(*args)
        except Exception as e:  # packaging raises several kinds
            return False, e


# ---- what packaging says -------------------------------------------------

def py_version(s):
    ok, v = py_quiet(Version, s)
    if not ok:
        return {"ok": False}
    return {"ok": True, "str": str(v), "public": v.public, "base": v.base_version,
            "epoch": str(v.epoch), "release": [str(x) for x in v.release],
            "pre": v.is_prerelease, "post": v.is_postrelease, "dev": v.is_devrelease,
            "local": v.local is not None}


def py_compare(a, b):
    va, vb = Version(a), Version(b)
    c = (va > vb) - (va < vb)
    assert (c == 0) == (va == vb) and (c <= 0) == (va <= vb) and (c >= 0) == (va >= vb)
    return {"cmp": c}


def clause_results(ss, v, pre):
    """SpecifierSet.contains computed clause by clause, so that the answer
    does not depend on frozenset iteration order (packaging's does when a
    clause raises; docs/pep-conformance.md)."""
    specs = list(ss._specs)
    raised = False
    if pre is None:
        if not specs:
            p = None
        else:
            vals = []
            for s in specs:
                ok, val = py_quiet(lambda s=s: s.prereleases)
                vals.append(val if ok else "error")
                raised |= not ok
            if True in vals:
                p = True
            elif "error" in vals:
                return "error", True
            else:
                p = False
    else:
        p = pre
    if not p and v.is_prerelease:
        return False, raised
    res = []
    for s in specs:
        ok, val = py_quiet(s.contains, v, p)
        res.append(val if ok else "error")
        raised |= not ok
    if False in res:
        return False, raised
    if "error" in res:
        return "error", raised
    return True, raised


def py_spec(s, v, pre):
    ok, ss = py_quiet(SpecifierSet, s)
    if not ok:
        return {"ok": False}
    out = {"ok": True, "str": str(ss), "len": len(ss)}
    if v is not None:
        okv, pv = py_quiet(Version, v)
        if not okv:
            out["contains"] = "invalid-version"
        else:
            expected, raised = clause_results(ss, pv, pre)
            okc, direct = py_quiet(ss.contains, pv, pre)
            if not raised:
                # The clause-by-clause answer must be packaging's own.
                assert okc and direct == expected, (s, v, pre, direct, expected)
            out["contains"] = expected
    return out


def py_marker(s, env):
    ok, m = py_quiet(Marker, s)
    if not ok:
        return {"ok": False}
    out = {"ok": True, "str": str(m)}
    if env is not None:
        ok, r = py_quiet(m.evaluate, env)
        out["eval"] = r if ok else "error"
    return out


def py_req(s):
    ok, r = py_quiet(Requirement, s)
    if not ok:
        return {"ok": False}
    return {"ok": True, "str": str(r), "name": r.name, "normalized": canonicalize_name(r.name),
            "extras": sorted(r.extras), "spec": str(r.specifier), "url": r.url,
            "marker": str(r.marker) if r.marker is not None else None}


NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE | re.ASCII)


def py_name(s):
    return {"norm": canonicalize_name(s), "valid": NAME_RE.match(s) is not None}


# ---- comparison ----------------------------------------------------------

def has_nul_or_surrogate(text):
    return text is not None and any(c == "\x00" or 0xD800 <= ord(c) < 0xE000 for c in text)


def marker_deviation(inp, e, g):
    """The documented deviations a marker or requirement case can hit
    (docs/pep-conformance.md): string escapes that make NUL or lone
    surrogates, and \\N{...} escapes. packaging accepts them, pyti refuses
    them with a message saying so."""
    text = inp[0] if isinstance(inp, tuple) else inp
    if not e.get("ok") or g.get("ok"):
        return None
    err = g.get("error", "")
    if has_nul_or_surrogate(e.get("str")) and ("NUL" in err or "surrogate" in err):
        return "NUL or surrogate escape"
    if "\\N" in text and "\\N{...} escapes are not supported" in err:
        return "\\N{...} escape"
    return None


DEVIATIONS = {}


def compare(kind, inputs, expected, got, keys, deviation=None):
    bad = []
    for inp, e, g in zip(inputs, expected, got):
        why = deviation(inp, e, g) if deviation else None
        if why:
            DEVIATIONS.setdefault((kind, why), []).append(inp)
            continue
        ge = {k: g.get(k) for k in keys if k in e or k in g}
        ee = {k: e.get(k) for k in keys if k in e or k in g}
        if not e.get("ok", True):
            ge = {"ok": g.get("ok")}
            ee = {"ok": False}
        if ge != ee:
            bad.append((inp, ee, ge, g.get("error") or g.get("eval_error")))
    if bad:
        lines = [f"{len(bad)} of {len(inputs)} {kind} cases differ from packaging:"]
        for inp, e, g, msg in bad[:25]:
            lines.append(f"  input {inp!r}\n    packaging: {e}\n    pyti:      {g}"
                         + (f"\n    pyti says: {msg}" if msg else ""))
        pytest.fail("\n".join(lines))


@pytest.fixture(scope="module")
def cases():
    versions = [v for v in pepgen.gen_versions(SEED + 440, N_VERSIONS) if len(v.encode()) <= VERSION_MAX]
    pairs = [(a, b) for a, b in pepgen.gen_version_pairs(SEED + 441, N_PAIRS)
             if py_version(a)["ok"] and py_version(b)["ok"]]
    specs = pepgen.gen_spec_cases(SEED + 442, N_SPECS)
    markers = pepgen.gen_marker_cases(SEED + 508, N_MARKERS)
    reqs = pepgen.gen_reqs(SEED + 509, N_REQS)
    wheels = pepgen.gen_wheels(SEED + 427, N_WHEELS)
    names = pepgen.gen_names(SEED + 503, N_NAMES)
    requests = ([{"op": "version", "s": v} for v in versions]
                + [{"op": "compare", "a": a, "b": b} for a, b in pairs]
                + [{"op": "spec", "s": s, "v": v, "pre": p} for s, v, p in specs]
                + [{"op": "marker", "s": m, "env": e} for m, e in markers]
                + [{"op": "req", "s": r} for r in reqs]
                + [{"op": "dist", "s": w} for w in wheels]
                + [{"op": "name", "s": n} for n in names])
    answers = iter(run_oracle(requests))
    take = lambda n: [next(answers) for _ in range(n)]  # noqa: E731
    return {
        "versions": (versions, take(len(versions))),
        "pairs": (pairs, take(len(pairs))),
        "specs": (specs, take(len(specs))),
        "markers": (markers, take(len(markers))),
        "reqs": (reqs, take(len(reqs))),
        "wheels": (wheels, take(len(wheels))),
        "names": (names, take(len(names))),
    }


def test_versions(cases):
    inputs, got = cases["versions"]
    expected = [py_version(v) for v in inputs]
    assert sum(e["ok"] for e in expected) > len(inputs) // 3, "too few valid versions generated"
    assert sum(not e["ok"] for e in expected) > len(inputs) // 10, "too few invalid versions"
    compare("version", inputs, expected, got,
            ["ok", "str", "public", "base", "epoch", "release", "pre", "post", "dev", "local"])


def test_version_order(cases):
    inputs, got = cases["pairs"]
    expected = [py_compare(a, b) for a, b in inputs]
    assert {e["cmp"] for e in expected} == {-1, 0, 1}
    compare("comparison", inputs, expected, got, ["cmp"])


def test_specifiers(cases):
    inputs, got = cases["specs"]
    expected = [py_spec(*c) for c in inputs]
    contains = [e.get("contains") for e in expected]
    assert contains.count(True) > 1000 and contains.count(False) > 1000
    compare("specifier", inputs, expected, got, ["ok", "str", "len", "contains"])
    assert not any(g.get("inconsistent") for g in got)


def test_markers(cases):
    inputs, got = cases["markers"]
    expected = [py_marker(m, e) for m, e in inputs]
    evals = [e.get("eval") for e in expected]
    assert evals.count(True) > 500 and evals.count(False) > 500 and evals.count("error") > 100
    compare("marker", inputs, expected, got, ["ok", "str", "eval"], marker_deviation)


def test_requirements(cases):
    inputs, got = cases["reqs"]
    expected = [py_req(r) for r in inputs]
    assert sum(e["ok"] for e in expected) > len(inputs) // 3
    compare("requirement", inputs, expected, got,
            ["ok", "str", "name", "normalized", "extras", "spec", "url", "marker"],
            marker_deviation)


def py_wheel(s):
    ok, r = py_quiet(parse_wheel_filename, s)
    if not ok:
        return {"ok": False}
    name, version, build, tags = r
    return {"ok": True, "name": name, "version": str(version),
            "build": [build[0], build[1]] if build else None,
            "tags": sorted((t.interpreter, t.abi, t.platform) for t in tags)}


def test_wheel_filenames(cases):
    inputs, got = cases["wheels"]
    expected = [py_wheel(w) for w in inputs]
    mine = []
    for g in got:
        if not g["ok"] or g["kind"] != "wheel":
            mine.append({"ok": False, "error": g.get("error", "not a wheel")})
            continue
        b = g["build"]
        build = None
        if b is not None:
            m = re.match(r"(\d+)(.*)", b)
            build = [int(m.group(1)), m.group(2)]
        mine.append({"ok": True, "name": canonicalize_name(g["name"]),
                     "version": str(Version(g["version"])), "build": build,
                     "tags": sorted((i, a, p) for i in g["python"] for a in g["abi"]
                                    for p in g["platform"])})
    assert sum(e["ok"] for e in expected) > len(inputs) // 2
    compare("wheel file name", inputs, expected, mine, ["ok", "name", "version", "build", "tags"],
            wheel_deviation)


def wheel_deviation(inp, e, g):
    """pyti refuses wheel names with an empty tag ("py3..cp39") or an empty
    project name, which packaging lets through (docs/pep-conformance.md)."""
    if not e.get("ok") or g.get("ok"):
        return None
    if any(not t for tag in e["tags"] for t in tag) and "empty python, abi or platform tag" in g["error"]:
        return "empty tag"
    if e["name"] == "" and "invalid project name" in g["error"]:
        return "empty name"
    return None


def test_names(cases):
    inputs, got = cases["names"]
    expected = [py_name(n) for n in inputs]
    compare("name", inputs, expected, got, ["norm", "valid"])


def test_unicode_tables_are_current():
    """src/pkg/pyunicode_tables.h is what gen_pyunicode.py makes from this
    interpreter."""
    gen = Path(__file__).resolve().parent / "gen_pyunicode.py"
    cp = subprocess.run([sys.executable, str(gen)], capture_output=True, text=True, check=True)
    committed = (ROOT / "src" / "pkg" / "pyunicode_tables.h").read_text()
    assert cp.stdout == committed, "regenerate src/pkg/pyunicode_tables.h with gen_pyunicode.py"


def test_documented_deviations():
    """Each deliberate difference in docs/pep-conformance.md, shown: what
    packaging does, and that pyti answers as documented."""
    long_version = "1" * 1025
    deep = "(" * 101 + "os_name == 'a'" + ")" * 101
    wheel_cases = ["foo-1.0-py3..py2-none-any.whl", "foo-1.0-py3-none-.whl",
                   "-1.0-py3-none-any.whl", "foo\n-1.0-py3-none-any.whl"]
    marker_cases = ["os_name == '\\x00'", "os_name == '\\0'", "os_name == '\\ud800'",
                    "os_name == '\\N{LATIN SMALL LETTER A}'"]
    requests = ([{"op": "version", "s": long_version}, {"op": "marker", "s": deep}]
                + [{"op": "marker", "s": m} for m in marker_cases]
                + [{"op": "dist", "s": w} for w in wheel_cases]
                + [{"op": "spec", "s": "===foo,>=1.0a1", "v": "1.0", "pre": None}])
    got = run_oracle(requests)

    # 1. size limit
    assert py_version(long_version)["ok"]
    assert not got[0]["ok"] and "too long (1025 bytes, at most 1024)" in got[0]["error"]
    # 2. nesting limit
    assert py_marker(deep, None)["ok"]
    assert not got[1]["ok"] and "nested more than 100 deep" in got[1]["error"]
    # 3. escapes pyti cannot represent
    for m, g in zip(marker_cases, got[2:6]):
        assert py_marker(m, None)["ok"], m
        assert not g["ok"] and ("NUL" in g["error"] or "surrogate" in g["error"]
                                or "\\N{...}" in g["error"]), (m, g)
    # 5. wheel names packaging lets through
    for w, g in zip(wheel_cases, got[6:10]):
        assert py_wheel(w)["ok"], w
        assert not g["ok"], (w, g)
    # 4. order-dependent SpecifierSet.contains: packaging's answer changes
    #    with PYTHONHASHSEED, pyti's does not.
    outcomes = set()
    probe = ("from packaging.specifiers import SpecifierSet\n"
             "try: print(SpecifierSet('===foo,>=1.0a1').contains('1.0'))\n"
             "except Exception as e: print(type(e).__name__)\n")
    for seed in range(12):
        cp = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env={**os.environ, "PYTHONHASHSEED": str(seed)}, check=True)
        outcomes.add(cp.stdout.strip())
    assert outcomes == {"False", "InvalidVersion"}, outcomes
    assert got[10]["contains"] is False


def test_exhaustive_small_inputs():
    """Every short string over small alphabets of the grammars' own
    characters and tokens: versions up to 4 characters, specifier clauses,
    requirements up to 3 characters (plus a sample of 4), markers up to 4
    tokens. Random generation rarely hits all such corners."""
    import itertools
    import random

    def all_strings(alphabet, max_len):
        return ["".join(c) for n in range(max_len + 1) for c in itertools.product(alphabet, repeat=n)]

    versions = all_strings(list("10.-_a+rv!c* post"), 4)
    clauses = [(op + s, "1.0", None) for op in ("==", "~=", "<", "===") for s in versions[::7]]
    req_alpha = list("a1_-.[],= ><~!();@\n'")
    rng = random.Random(SEED + 4)
    reqs = all_strings(req_alpha, 3) + ["".join(rng.choice(req_alpha) for _ in range(4))
                                       for _ in range(20000)]
    toks = ["os_name", "'a'", "'1.0'", "==", ">=", "~=", "in", "not", " ", "(", ")", "and", "or",
            "extra", "\t", "'1'", "==="]
    markers = ["".join(c) for n in range(1, 5) for c in itertools.product(toks, repeat=n)]
    envs = [pepgen.gen_env(rng) for _ in markers]
    got = iter(run_oracle([{"op": "version", "s": v} for v in versions]
                          + [{"op": "spec", "s": s, "v": v, "pre": p} for s, v, p in clauses]
                          + [{"op": "req", "s": r} for r in reqs]
                          + [{"op": "marker", "s": m, "env": e} for m, e in zip(markers, envs)]))
    take = lambda n: [next(got) for _ in range(n)]  # noqa: E731
    compare("short version", versions, [py_version(v) for v in versions], take(len(versions)),
            ["ok", "str", "public", "base", "epoch", "release", "pre", "post", "dev", "local"])
    compare("short specifier", clauses, [py_spec(*c) for c in clauses], take(len(clauses)),
            ["ok", "str", "len", "contains"])
    compare("short requirement", reqs, [py_req(r) for r in reqs], take(len(reqs)),
            ["ok", "str", "name", "normalized", "extras", "spec", "url", "marker"])
    inputs = list(zip(markers, envs))
    compare("token marker", inputs, [py_marker(m, e) for m, e in inputs], take(len(inputs)),
            ["ok", "str", "eval"])
