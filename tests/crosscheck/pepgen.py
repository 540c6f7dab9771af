"""Deterministic generators of PEP 440 / 508 inputs for the cross-check:
hand-picked edge cases plus seeded random strings from the grammars (with
all the odd spellings packaging accepts) and random mutations of them (so
that near-misses and invalid inputs are well represented).

Everything here is a pure function of the seed; the same cases come out on
every run."""
import random
import re

WS = ["", "", "", "", " ", "  ", "\t", "\n", "\u3000", "\x0c", " \x1f", "\u00a0", "\u2003"]
SEPS = ["", "", "", ".", "-", "_"]

# Letters that Python's re.IGNORECASE matches against ASCII ones.
ODD_LETTERS = {"s": "\u017f", "i": "\u0131", "I": "\u0130", "k": "\u212a"}


def numeral(rng):
    r = rng.random()
    if r < 0.55:
        return str(rng.randint(0, 9))
    if r < 0.75:
        return str(rng.randint(10, 999))
    if r < 0.85:
        return "0" * rng.randint(1, 3) + str(rng.randint(0, 99))
    if r < 0.93:
        return str(rng.randint(0, 10**rng.randint(5, 40)))
    return "0"


def case_variant(rng, word):
    r = rng.random()
    if r < 0.6:
        return word
    if r < 0.75:
        return word.upper()
    if r < 0.9:
        return "".join(c.upper() if rng.random() < 0.5 else c for c in word)
    out = []
    for c in word:
        if c == "i" and rng.random() < 0.5:
            out.append(rng.choice([ODD_LETTERS["i"], ODD_LETTERS["I"]]))
        elif c in ODD_LETTERS and rng.random() < 0.5:
            out.append(ODD_LETTERS[c])
        else:
            out.append(c)
    return "".join(out)


PRE_WORDS = ["a", "b", "c", "rc", "alpha", "beta", "pre", "preview"]
POST_WORDS = ["post", "rev", "r"]


def gen_version(rng, allow_local=True, ws=True, wildcard=False, min_release=1):
    parts = []
    if ws:
        parts.append(rng.choice(WS))
    if rng.random() < 0.1:
        parts.append(rng.choice("vV"))
    if rng.random() < 0.1:
        parts.append(numeral(rng) + "!")
    n = max(min_release, rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5]))
    parts.append(".".join(numeral(rng) for _ in range(n)))
    if wildcard and rng.random() < 0.5:
        parts.append(".*")
    else:
        if rng.random() < 0.35:
            parts.append(rng.choice(SEPS) + case_variant(rng, rng.choice(PRE_WORDS)))
            if rng.random() < 0.8:
                parts.append(rng.choice(SEPS) + numeral(rng))
        if rng.random() < 0.3:
            if rng.random() < 0.3:
                parts.append("-" + numeral(rng))
            else:
                parts.append(rng.choice(SEPS) + case_variant(rng, rng.choice(POST_WORDS)))
                if rng.random() < 0.8:
                    parts.append(rng.choice(SEPS) + numeral(rng))
        if rng.random() < 0.25:
            parts.append(rng.choice(SEPS) + case_variant(rng, "dev"))
            if rng.random() < 0.8:
                parts.append(rng.choice(SEPS) + numeral(rng))
        if allow_local and rng.random() < 0.25:
            segs = []
            for _ in range(rng.randint(1, 4)):
                if rng.random() < 0.5:
                    segs.append(numeral(rng))
                else:
                    segs.append(case_variant(rng, rng.choice(["abc", "ubuntu", "local", "k8s",
                                                              "x", "deadbeef", "g1a2b3"])))
            parts.append("+" + segs[0] + "".join(rng.choice(".-_") + s for s in segs[1:]))
    if ws:
        parts.append(rng.choice(WS))
    return "".join(parts)


MUTATE_ALPHABET = list("0123456789.-_+!*vVabcdeilmoprstvwxyzABCDEPRV ") + [
    "\t", "\n", "\u3000", "\u017f", "\u0131", "\u0130", "\u212a", "\u00e9", "\u0661", "\u00b2",
    "\u2028", "\x0b", "\x1c", "\u00a0", "\u03a3", ";", ")", "(", ",",
    "=", "<", ">", "~", "'", '"', "@", "[", "]", "\\", "/", ":", "#", "?"]


def mutate(rng, s, alphabet=MUTATE_ALPHABET, rounds=None):
    s = list(s)
    for _ in range(rounds or rng.randint(1, 3)):
        r = rng.random()
        pos = rng.randint(0, len(s))
        if r < 0.4:
            s.insert(pos, rng.choice(alphabet))
        elif r < 0.7 and s:
            del s[min(pos, len(s) - 1)]
        elif s:
            s[min(pos, len(s) - 1)] = rng.choice(alphabet)
        if rng.random() < 0.1 and len(s) > 1:  # duplicate a slice
            a = rng.randint(0, len(s) - 1)
            b = rng.randint(a, len(s))
            s[a:a] = s[a:b]
    return "".join(s)


VERSION_EDGE = [
    "", " ", "1", "1.0", "01.02.03", "v1", "V1.0", "1!1.0", "0!0", "1.0a", "1.0a-", "1.0a--1",
    "1.0.post-", "1.0-1", "1.0-", "1.0--1", "1.0.-1", "1.0a.post", "1.0a.-post", "1.0rc.1",
    "1.0preview", "1.0prev", "1.0pre", "1.0c", "1.0rc", "1.0r", "1.0rev", "1.0rdev", "1.0reverse",
    "1.0.dev", "1.0dev-", "1.0.dev-+local", "1.0+", "1.0+abc.", "1.0+abc..1", "1.0+01",
    "1.0+a.01.b", "1.0+K", "1.0+\u0130x", "1.0+\u017f", "1.0po\u017ft1", "1.0prev\u0131ew",
    "1.0prev\u0130ew", " 1.0\u3000", "v1.0\n", "1.0\n\n", "\n1.0", "1.0 a1", "1.0.*",
    "1..0", ".1", "1.", "1.0+-a", "1.0+a_b-c.d", "1!", "!1", "1!!1", "1.0a1b2", "1.0a1.post2.dev3",
    "1.0.post1.post2", "1.0-post1", "1.0_post_1", "1.0.POST1", "1.0ALPHA1", "1.0BeTa2",
    "1.99999999999999999999999999999", "9" * 300 + ".1", "1.0" + ".0" * 200,
    "1.0a0", "1.0.0.0.0", "0", "00", "0.0.0", "1.0dev", "1.0.DEV", "1.0-dev1", "1.0_dev_1",
    "\u0661.0", "1.0+\u00e9", "1.0 ", "1 .0", "1.0+a\u3000", "v", "vv1", "1.0av",
    "2004d", "1.0rc1+" + "a." * 50 + "b",
]


def gen_versions(seed, count):
    rng = random.Random(seed)
    out = list(VERSION_EDGE)
    while len(out) < count:
        v = gen_version(rng)
        if rng.random() < 0.3:
            v = mutate(rng, v)
        out.append(v)
    return out


def gen_version_pairs(seed, count):
    """Pairs of valid-looking versions, mostly close to each other so that
    the fine points of the order (pre/post/dev/local, trailing zeros) show."""
    rng = random.Random(seed)
    pool = [gen_version(rng, ws=False) for _ in range(400)]
    pairs = []
    tweaks = [".0", ".0.0", "a1", "b1", "rc1", ".post1", ".dev1", "a1.dev1", ".post1.dev1",
              "+1", "+a", "+1.a", "+a.1", "+0", "-1", "c1", "pre1", "rev1", "a0", ".post0",
              ".dev0", "+a.b", "+a.b.c", "+abc", "+ABC", "+1.2", "+01"]
    while len(pairs) < count:
        a = rng.choice(pool)
        r = rng.random()
        if r < 0.3:
            b = rng.choice(pool)
        elif r < 0.8:
            base = a.split("+")[0]
            b = base + rng.choice(tweaks)
            if rng.random() < 0.5:
                a = base + rng.choice(tweaks)
        else:
            b = gen_version(rng, ws=False)
        pairs.append((a, b))
    return pairs


OPS = ["==", "!=", "<=", ">=", "<", ">", "~=", "==="]


def gen_clause(rng):
    op = rng.choice(OPS)
    sp = rng.choice(["", "", "", " ", "  ", "\t", "", "", "", " ", "\n", "\u3000", "\x1f"])
    if op == "===":
        v = rng.choice([gen_version(rng, ws=False), "foo", "1.0.*", "", "1.0-beta", "FOO_bar",
                        "1.0+local", "V1.0", "1.0POST1", "\u00c9x", "a,b"])
    elif op in ("==", "!="):
        v = gen_version(rng, ws=False, wildcard=rng.random() < 0.3)
    elif op == "~=":
        v = gen_version(rng, ws=False, allow_local=rng.random() < 0.1, min_release=rng.choice([1, 2, 2, 2]))
    else:
        v = gen_version(rng, ws=False, allow_local=rng.random() < 0.1)
    return rng.choice(["", "", " "]) + op + sp + v + rng.choice(["", "", " ", "\t"])


SPEC_EDGE = [
    "", ",", " , ", "==1.0", "== 1.0", "==1.0.*", "==1.0.*+local", "==1.0+local.*", "~=1",
    "~=1.0", "~=1.0.*", "~=1!1.4", "~=v1.4", "~=1.4rc1", "~=1.4.RC1", "~=1.4.c1", "~=1.4.5c1",
    "~=1.4.5c1.post1", "~=1.4-1", "~=1.4.post1", "~=1.4_post1", "~=1.4a", "~=1.4pre1", "~=1.4c.5",
    "===", "=== foo", "===foo bar", "===a,b", "===,>=1", "===1.0", "===1.0.0,===1.0",
    "==1.0,==1.0.0", "==v1.0,==1.0", ">=1.0a1", "<1.0", ">1.0", "<=1.0+local", ">=1.0+local",
    "!=1.0.*", "!=1.0+local", "==1.0a1.*", "==1.*.*", "<1.0.*", "=1.0", "1.0", ">=", "==", ">=1.0,",
    ",,>=1,", ">=1;", ">=1)", "==1.0 .*", "== v1.0", "<>1.0", "=<1.0", "~= 1.0", "===1.0a1",
    "===1.0prev\u0130ew", "==1.0prev\u0130ew", ">=1.0po\u017ft1", "==1!1.0.*", ">1.0.post1",
    "<1.0.dev0", "~=0.0", "~=1.0.0", "!=1.0,!=1.0.0", "\u3000==1.0\u3000",
]


def gen_specs(seed, count):
    rng = random.Random(seed)
    out = list(SPEC_EDGE)
    while len(out) < count:
        clauses = [gen_clause(rng) for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4]))]
        s = ",".join(clauses)
        if rng.random() < 0.25:
            s = mutate(rng, s)
        out.append(s)
    return out


def gen_spec_cases(seed, count):
    """(specifier set, version, prereleases) triples."""
    rng = random.Random(seed)
    specs = gen_specs(seed + 1, count // 4)
    cases = []
    for i in range(count):
        s = specs[i % len(specs)]
        # Test versions near the ones the set names.
        r = rng.random()
        if r < 0.5:
            found = re.findall(r"[0-9][0-9.!]*", s)
            base = rng.choice(found).strip(".!") if found else "1.0"
            base = base or "1"
            v = base + rng.choice(["", "", ".0", ".1", "a1", "rc1", ".post1", ".dev0", "+loc",
                                   ".0+1", "a1.dev1", ".post1+x", "b2.post3", ".9", "c1", "-1"])
            if rng.random() < 0.2:
                parts = base.split(".")
                k = rng.randrange(len(parts))
                parts[k] = str(int(parts[k]) + rng.choice([-1, 1])) if parts[k].isdigit() and int(parts[k]) > 0 else parts[k]
                v = ".".join(parts)
        else:
            v = gen_version(rng, ws=False)
        cases.append((s, v, rng.choice([None, None, True, False])))
    return cases


VARIABLES = ["python_version", "python_full_version", "os_name", "os.name", "sys_platform",
             "sys.platform", "platform_release", "platform_system", "platform_version",
             "platform.version", "platform_machine", "platform.machine",
             "platform_python_implementation", "platform.python_implementation",
             "python_implementation", "implementation_name", "implementation_version", "extra"]
MARKER_OPS = ["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in", "not  in", "not\tin"]
VALUES = ["3.8", "3.11", "3.11.2", "2.7", "3", "3.12.0rc1", "posix", "nt", "linux", "win32",
          "darwin", "Linux", "Windows", "x86_64", "aarch64", "CPython", "PyPy", "cpython", "",
          "5.10.0-21-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.69-1", "test", "Test_Extra",
          "test-extra", "TEST.extra", "1.0", "1.0.*", "3.*", " 3.8", "3.8 ", "foo bar", "a,b",
          "os_name", "extra", "python_version", "x86", "l", "1!2.0", "3.11+local", "\u00e9t\u00e9",
          "\u03a3\u03a3", "SS", "3.11a1", "1.0a1", "===", "'", '"']


def quote(rng, value):
    q = rng.choice(["'", '"'])
    if q in value:
        q = "'" if q == '"' else '"'
        if q in value:
            value = value.replace(q, "\\" + q) if rng.random() < 0.5 else value.replace(q, "")
    if rng.random() < 0.1:
        # Python escapes in the literal.
        value = value.replace("s", "\\x73").replace("3", "\\063") + rng.choice(
            ["", "\\t", "\\u00e9", "\\\\", "\\q", "\\U0001F600", "\\n", "\\\n", "\\'", "\\777"])
    return q + value + q


def gen_marker_var(rng):
    if rng.random() < 0.55:
        return rng.choice(VARIABLES)
    return quote(rng, rng.choice(VALUES) if rng.random() < 0.8 else gen_version(rng, ws=False))


def sp(rng):
    return rng.choice(["", " ", " ", " ", "  ", "\t"])


def gen_marker(rng, depth=0):
    atoms = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        if depth < 3 and rng.random() < 0.2:
            inner = gen_marker(rng, depth + 1)
            if rng.random() < 0.15:
                inner = "(" + sp(rng) + inner + sp(rng) + ")"
            atoms.append("(" + sp(rng) + inner + sp(rng) + ")")
        else:
            lhs = gen_marker_var(rng)
            rhs = gen_marker_var(rng)
            if rng.random() < 0.5 and not lhs.startswith(("'", '"')):
                rhs = quote(rng, rng.choice(VALUES))
            op = rng.choice(MARKER_OPS)
            s1 = sp(rng)
            if op.startswith(("in", "not")) and s1 == "" and lhs[-1] not in "'\"":
                s1 = " "
            s2 = sp(rng)
            if op.endswith("in") and s2 == "" and rhs[0] not in "'\"":
                s2 = " "
            atoms.append(lhs + s1 + op + s2 + rhs)
    out = atoms[0]
    for a in atoms[1:]:
        out += rng.choice([" and ", " or ", " and ", " or ", "  and\t", " or"]) + a
    return out


MARKER_EDGE = [
    'os_name == "posix"', "os_name=='posix'", 'os.name == "posix"', 'os_name == "a" garbage',
    'os_name == "a" andx', 'os_name == "a" and', "(os_name=='a')", "((os_name=='a'))",
    'os_name=="x" and ((os_name=="y" or os_name=="z"))', 'extra == extra', 'extra == os_name',
    'extra == "Foo_Bar" and extra == "X_Y"', '"Foo.Bar" == extra', 'os_name == "1.0"',
    '"a" == "b"', '"a" == "os_name"', 'extra == "1.0"', 'platform_release >= "5"',
    'python_version >= "3.8"', 'python_version ~= "3.8"', 'python_version ~= "3"',
    'python_version === "3.11"', 'python_version === "3 11"', 'os_name ~= "posix"',
    'os_name < "posix"', 'python_version in "3.8 3.9 3.11"', 'python_version not in "3.8"',
    'python_version not  in "3.8"', 'python_version notin "3.8"', 'python_version nOt in "3.8"',
    '"3.8" < python_version', 'python_version > "3.8.*"', 'python_version == "3.11.*"',
    'python_full_version >= "3.11.0rc1"', 'implementation_name == "cpython"', "", " ", "(",
    "()", "(os_name == 'a'", "os_name == 'a')", "os_name == 'a\\'", "os_name == '\\x4'",
    "os_name == '\\x41'", "os_name == '\\U00110000'", "os_name == 'a\nb'", "os_name == 'a\\\nb'",
    "os_name == 'a\\\r\nb'", "os_name == 'a\rb'", "os_name == '\\u00e9'", "os_name == '\\8'",
    "os_name == \"it's\"", "os_name == 'say \"hi\"'", "os_name=='a'and os_name=='b'",
    "os_name=='a'or(os_name=='b')", "os_name=='a' or\tos_name=='b'", "os_name\t==\t'a'",
    "os_name is 'a'", "os_name = 'a'", "os_name == a", "os_name == \"a\" and or", "sys_platform",
    "os_nameX == 'a'", "python_versions == '3'", "os_name == 'a' \n and os_name == 'b'",
    "os_name == 'a'\n", "\nos_name == 'a'", "os_name == 'a' and (os_name == 'b' or "
    "(os_name == 'c' and (os_name == 'd')))", "platform_python_implementation == 'CPython'",
    "python_implementation == 'CPython'", "platform.python_implementation == 'CPython'",
    "platform_version == '#1 SMP'", "extra == 'TEST'", "extra != 'test'", "extra > 'a'",
    "extra in 'test-extra'", "'\u03a3' == extra", "extra == '\u0130'", "python_version>'3.8'and'x'in os_name",
]

ENV_CHOICES = {
    "implementation_name": ["cpython", "pypy", "", "CPython"],
    "implementation_version": ["3.11.2", "3.8.0", "7.3.1", "3.12.0rc1", "x"],
    "os_name": ["posix", "nt", "java", "1.0", ""],
    "platform_machine": ["x86_64", "aarch64", "AMD64", "i686", "arm64", "3.8"],
    "platform_release": ["6.1.0-18-amd64", "5.10.0", "10", "22.04", "5", ""],
    "platform_system": ["Linux", "Windows", "Darwin", "linux"],
    "platform_version": ["#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "10.0.19041",
                         "1.0", ""],
    "python_full_version": ["3.11.2", "3.8.10", "3.12.0rc1", "2.7.18", "3.11.2+", "3.10.0b1"],
    "platform_python_implementation": ["CPython", "PyPy", "Jython"],
    "python_version": ["3.11", "3.8", "2.7", "3.12", "3.1", "3.10", "3"],
    "sys_platform": ["linux", "win32", "darwin", "cygwin", "linux2"],
}
EXTRAS = ["", "test", "Test", "TEST_EXTRA", "test-extra", "test.extra", "test__extra", "doc",
          "1.0", "\u0130", "\u03a3", "s\u03a3", "a", "tests"]


def gen_env(rng):
    env = {k: rng.choice(v) for k, v in ENV_CHOICES.items()}
    if rng.random() < 0.7:
        env["extra"] = rng.choice(EXTRAS)
    return env


def gen_marker_cases(seed, count):
    rng = random.Random(seed)
    cases = [(m, gen_env(rng)) for m in MARKER_EDGE]
    while len(cases) < count:
        m = gen_marker(rng)
        if rng.random() < 0.2:
            m = mutate(rng, m)
        cases.append((m, gen_env(rng)))
    return cases


NAMES = ["foo", "Foo", "foo_bar", "foo-bar", "foo.bar", "a", "A1", "zope.interface", "x__y",
         "foo_", "1foo", "Foo-Bar_Baz.qux", "n0", "requests", "py"]
URLS = ["http://example.com/foo.tar.gz", "https://x.org/a.whl#sha256=00", "file:///tmp/x",
        "file:/tmp/x", "file://localhost/x", "file:x", "FILE:///x", "file:///x?", "file:///x#",
        "file:///x?a#b", "file://", "git+https://github.com/a/b.git@v1#egg=b", "http://[::1]/x",
        "http://[::1:80/x", "http://::1]/x", "http://[1.2.3.4]/x", "http://[v1.fe]/x",
        "http://[vz.x]/x", "http://a@[::1]:80/x", "http://[::1]x/", "http://x[::1]/",
        "http://[fe80::1%eth0]/", "http://[fe80::1%]/", "http://[::ffff:1.2.3.4]/",
        "http://[1:2:3:4:5:6:7:8]/", "http://[1:2:3:4:5:6:7:8:9]/", "http://[::1::2]/",
        "http://[:1]/", "http://[12345::]/", "http://h\u2100st/", "http://h\u00e9st/",
        "http://\uff0fx/", "x", "/path/only", "//host/path", "http:", "http://", "a:b",
        "1http://x", "http://x;params", "file:///x;params", "http://x\n", "file:///x\ny",
        "\x01http://x", "https://x.org/a;b?c#d"]


def gen_req(rng):
    name = rng.choice(NAMES)
    s = sp(rng) + name
    if rng.random() < 0.3:
        ex = [rng.choice(["test", "doc", "Dev_Tools", "a.b", "x-y", "test", "s3"]) for _ in range(rng.randint(0, 3))]
        s += sp(rng) + "[" + sp(rng) + (sp(rng) + "," + sp(rng)).join(ex) + sp(rng) + "]"
    r = rng.random()
    if r < 0.2:
        s += sp(rng) + "@" + sp(rng) + rng.choice(URLS)
        if rng.random() < 0.4:
            s += rng.choice([" ", "  ", "\t", ""]) + ";" + sp(rng) + gen_marker(rng)
    else:
        if r < 0.8:
            clauses = [gen_clause(rng).strip() for _ in range(rng.randint(1, 3))]
            spec = (sp(rng) + "," + sp(rng)).join(clauses)
            if rng.random() < 0.3:
                spec = "(" + sp(rng) + spec + sp(rng) + ")"
            s += sp(rng) + spec
        if rng.random() < 0.35:
            s += sp(rng) + ";" + sp(rng) + gen_marker(rng)
    return s + rng.choice(["", "", "", " ", "\n"])


REQ_EDGE = [
    "foo", "foo\n", "foo\n\n", "foo_", "foo-", "foo.", "_foo", "-foo", "foo bar", "foo[]", "foo[ ]",
    "foo[a,]", "foo[a b]", "foo[a,,b]", "foo[a", "foo]", "foo[a]>=1", "foo [a] >=1", "foo>=1,",
    "foo>=1,,<2", "foo(>=1)", "foo (>=1,<2)", "foo (>=1", "foo >=1)", "foo()", "foo ( )",
    "foo===a,b", "foo===,>=1", "foo ===bar; os_name=='a'", "foo===bar)", "foo (===1.0)",
    "foo==1.0abc", "foo==1.0.*+local", "foo~=1", "foo ~=1.0.*", "foo==1.0;os_name=='a'",
    "foo==1.0; os_name=='a' and", "foo; os_name=='a' xyz", "foo;", "foo ;", "foo; ",
    "foo@http://x", "foo @ http://x", "foo @http://x;os_name=='a'", "foo @ http://x ;os_name=='a'",
    "foo @ http://x ; os_name=='a'", "foo@ http://x\t; os_name=='a'", "foo @ http://x ",
    "foo @ http://x  ", "foo @", "foo @ ", "foo[bar] @ file:///x", "foo @ file:/x",
    "foo>=1.0 @ http://x", "foo @ http://x >=1", "fooé", "foo\u00e9>=1", "foo>=1\u00e9",
    "1foo", "foo==\n1.0", "foo== 1.0", "foo == 1.0 ; extra == 'Foo_Bar'", "foo; extra == 'X'",
    "foo[A,a,A]", "foo[b,a]", "foo ; python_version < '3.8' or python_version >= '3.11'",
    "foo>=1.0;python_version<'3'", "name; (os_name == 'a')", "name; ((os_name == 'a'))",
    "name<1.0a1,>=0.9", "name!=1.0.*,==1.*", "Foo.Bar_baz-qux==1", "foo===", "foo === ",
    "foo\t>=1", "\tfoo", "foo>=1\t;\tos_name=='a'", "foo >= 1.0 , < 2.0",
]


def gen_reqs(seed, count):
    rng = random.Random(seed)
    out = list(REQ_EDGE) + ["foo @ " + u for u in URLS] + ["foo@" + u + " ; os_name=='a'" for u in URLS]
    while len(out) < count:
        s = gen_req(rng)
        if rng.random() < 0.2:
            s = mutate(rng, s)
        out.append(s)
    return out


WHEEL_EDGE = [
    "foo-1.0-py3-none-any.whl", "Foo_Bar-1.0-py3-none-any.whl", "foo-1.0-1-py3-none-any.whl",
    "foo-1.0-1abc-py3-none-any.whl", "foo-1.0-abc-py3-none-any.whl",
    "foo-1.0-py2.py3-none-any.whl", "foo-1.0-cp38.cp39-abi3-manylinux1_x86_64.manylinux2010_x86_64.whl",
    "foo-1.0-CP38-NONE-ANY.whl", "foo__bar-1.0-py3-none-any.whl", "foo-bar-1.0-py3-none-any.whl",
    "foo-1.0-py3-none.whl", "foo-1.0.whl", "foo-x-py3-none-any.whl", "foo-1.0-py3-none-any.zip",
    "foo.bar-1.0-py3-none-any.whl", "f\u00f6o-1.0-py3-none-any.whl", "foo-1.0-\u0661-py3-none-any.whl",
    "foo-1.0--py3-none-any.whl", "foo-1.0-py3-none-any-x.whl", "foo-1.0+local-py3-none-any.whl",
    "foo-v1.0-py3-none-any.whl", "foo-1.0-py3.py3-none-any.whl", "foo-1.0-9" + "9" * 30 + "-py3-none-any.whl",
    "foo$-1.0-py3-none-any.whl",
]


def gen_wheels(seed, count):
    rng = random.Random(seed)
    out = list(WHEEL_EDGE)
    tags = ["py3", "py2.py3", "cp311", "cp38.cp39", "pp39", "none", "abi3", "cp311d", "any",
            "manylinux_2_17_x86_64.manylinux2014_x86_64", "win_amd64", "macosx_10_9_universal2",
            "linux_x86_64", "ANY", "Py3"]
    while len(out) < count:
        name = rng.choice(["foo", "Foo_Bar", "foo_bar", "zope.interface", "a1", "x", "F00"])
        ver = gen_version(rng, ws=False, allow_local=rng.random() < 0.2)
        parts = [name, ver]
        if rng.random() < 0.3:
            parts.append(rng.choice(["1", "12", "1a", "0_x", "x1"]))
        parts += [rng.choice(tags), rng.choice(tags), rng.choice(tags)]
        s = "-".join(parts) + ".whl"
        if rng.random() < 0.15:
            s = mutate(rng, s[:-4], alphabet=list("-._0123456789abcxyzABC")) + ".whl"
        out.append(s)
    return out


NAME_EDGE = ["foo", "Foo", "FOO_bar", "foo--bar", "foo-_.bar", "-foo-", "", ".", "a", "A.B",
             "\u0130stanbul", "\u03a3\u03a3", "A\u03a3", "a\u03a3b", "\u212aelvin", "Stra\u00dfe",
             "foo bar", "foo\n", "1", "1-", "_1", "a_b", "x.y-z_w", "\u00c9", "\u01c5", "ab\u0345\u03a3"]


def gen_names(seed, count):
    rng = random.Random(seed)
    out = list(NAME_EDGE)
    alphabet = list("abcXYZ019-_. ") + ["\u03a3", "\u0130", "\u00c9", "\u212a", "\u0345", "\u01c5"]
    while len(out) < count:
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))))
    return out
