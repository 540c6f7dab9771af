"""tests.py --python VENV_PY --source DIR --work DIR [--package NAME...] --result FILE

Finds a package's own tests the way its authors run them and runs them
against the installed package, from a copy of the source tree:

1. pytest, when the venv can import it, with the project's configuration
   (pytest.ini, pyproject.toml [tool.pytest.ini_options], setup.cfg
   [tool:pytest], tox.ini [pytest]) — testpaths and all;
2. when pytest finds nothing (or is absent), unittest discovery with the
   pattern test*.py from the places tests live: the root, tests/, test/,
   src/tests, <package>/tests, src/<package>/tests.

Counts come from pytest's JUnit XML or from the unittest result. No test
found is its own outcome ("none"), never a pass. Collection errors caused
by a missing module that is not the package's own are reported as missing
test dependencies."""
import argparse
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import tail, write_result  # noqa: E402

CANDIDATE_DIRS = ["tests", "test", "testing", os.path.join("src", "tests"),
                  os.path.join("src", "test")]
MISSING_RE = re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '([\w.]+)'")

UNITTEST_RUNNER = r"""
import json, sys, unittest
start_dir, top = sys.argv[1], sys.argv[2]
loader = unittest.TestLoader()
suite = loader.discover(start_dir, pattern="test*.py", top_level_dir=top)
class R(unittest.TextTestResult):
    pass
runner = unittest.TextTestRunner(verbosity=2, resultclass=R, stream=sys.stdout)
res = runner.run(suite)
errors = [{"test": str(t), "message": tb[-2000:]} for t, tb in res.errors + res.failures]
load_errors = [e[-2000:] for e in getattr(loader, "errors", [])]
print("\n@@PYTI-UNITTEST@@" + json.dumps({
    "tests": res.testsRun, "failures": len(res.failures), "errors": len(res.errors),
    "skipped": len(res.skipped), "expected_failures": len(res.expectedFailures),
    "unexpected_successes": len(res.unexpectedSuccesses),
    "error_details": errors[:50], "load_errors": load_errors[:50]}))
"""


def has_pytest(python):
    cp = subprocess.run([python, "-P", "-c", "import pytest"], capture_output=True)
    return cp.returncode == 0


def pytest_config(root):
    """Where the project configures pytest, and its testpaths (or [])."""
    for name in ("pytest.ini", ".pytest.ini"):
        p = os.path.join(root, name)
        if os.path.isfile(p):
            cp = configparser.ConfigParser(interpolation=None)
            try:
                cp.read(p, encoding="utf-8")
                return name, cp.get("pytest", "testpaths", fallback="").split()
            except (configparser.Error, UnicodeDecodeError):
                return name, []
    p = os.path.join(root, "pyproject.toml")
    if os.path.isfile(p):
        try:
            with open(p, "rb") as f:
                opts = tomllib.load(f).get("tool", {}).get("pytest", {}).get("ini_options")
            if isinstance(opts, dict):
                tp = opts.get("testpaths", [])
                return "pyproject.toml", tp.split() if isinstance(tp, str) else list(tp)
        except (OSError, tomllib.TOMLDecodeError):
            pass
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        p = os.path.join(root, name)
        if os.path.isfile(p):
            cp = configparser.ConfigParser(interpolation=None)
            try:
                cp.read(p, encoding="utf-8")
                if cp.has_section(section):
                    return name, cp.get(section, "testpaths", fallback="").split()
            except (configparser.Error, UnicodeDecodeError):
                pass
    return None, []


def parse_junit(path):
    counts = {"tests": 0, "passed": 0, "failures": 0, "errors": 0, "skipped": 0,
              "collection_errors": 0}
    failed, collection = [], []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None, [], []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")
        err, fail, skip = case.find("error"), case.find("failure"), case.find("skipped")
        text = ""
        if err is not None:
            text = (err.get("message") or "") + "\n" + (err.text or "")
            if "collection failure" in (err.get("message") or "") or not case.get("name"):
                counts["collection_errors"] += 1
                collection.append({"where": case.get("classname") or case.get("file") or "",
                                   "message": tail(text, 2000)})
                continue
            counts["errors"] += 1
        elif fail is not None:
            counts["failures"] += 1
            text = (fail.get("message") or "") + "\n" + (fail.text or "")
        elif skip is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
        counts["tests"] += 1
        if text and len(failed) < 50:
            failed.append({"test": name, "message": tail(text, 2000)})
    return counts, failed, collection


def run_pytest(python, root, junit, timeout, targets):
    argv = [python, "-P", "-m", "pytest", "-p", "no:cacheprovider", "-rfE", "-q",
            f"--junitxml={junit}", "-o", "junit_family=xunit1", *targets]
    print("$ " + " ".join(argv), flush=True)
    try:
        cp = subprocess.run(coverage_wrap(argv), cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=timeout)
        out, code = cp.stdout.decode("utf-8", "replace"), cp.returncode
    except subprocess.TimeoutExpired as e:
        out, code = (e.stdout or b"").decode("utf-8", "replace"), None
    sys.stdout.write(tail(out, 32000))
    return code, out


def run_unittest(python, root, start, timeout):
    argv = [python, "-P", "-c", UNITTEST_RUNNER, start, root]
    print("$ python -m unittest discover -s " + os.path.relpath(start, root) + " -p 'test*.py'",
          flush=True)
    try:
        cp = subprocess.run(coverage_wrap(argv), cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=timeout)
        out = cp.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode("utf-8", "replace")
    sys.stdout.write(tail(out, 32000))
    if "@@PYTI-UNITTEST@@" not in out:
        return None, out
    import json
    return json.loads(out.rsplit("@@PYTI-UNITTEST@@", 1)[1].strip()), out


# ---- coverage (the metrics catalogue's "coverage", docs/metrics.md) ----
#
# The test run itself is measured: the runner's command line
# "python -P -m pytest ..." or "python -P -c CODE ..." becomes
# "python -P -c COVERAGE_RUNNER ... -m pytest ...", which starts coverage.py
# (Debian's python3-coverage, seen through the venv's system site-packages)
# on the package's own top-level modules, runs the same module or code with
# the same sys.path (-P: the installed package is the one imported), and
# writes the totals. The project's own coverage configuration is ignored
# (config_file=False) so every package is measured the same way: line
# coverage of its importable modules.

COVERAGE_RUNNER = r"""
import io, json, runpy, sys
data_file, out, sources, mode, target = sys.argv[1:6]
rest = sys.argv[6:]
import coverage
cov = coverage.Coverage(data_file=data_file, source_pkgs=sources.split(","), config_file=False,
                        messages=False)
cov.start()
code = 0
try:
    if mode == "-m":
        sys.argv = [target] + rest
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c"] + rest
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
except SystemExit as e:
    code = e.code
finally:
    # Silently: the runner's own output must stay the last thing printed
    # (the unittest runner's result line is parsed from the end).
    quiet, sys.stderr = sys.stderr, io.StringIO()
    cov.stop()
    cov.save()
    result = {}
    try:
        cov.json_report(outfile=out + ".full", pretty_print=False)
        with open(out + ".full", encoding="utf-8") as f:
            full = json.load(f)
        t = full.get("totals", {})
        result = {"percent": round(t.get("percent_covered", 0.0), 2),
                  "statements": t.get("num_statements", 0),
                  "covered": t.get("covered_lines", 0),
                  "missing": t.get("missing_lines", 0),
                  "files": len(full.get("files", {})),
                  "tool": "coverage.py " + coverage.__version__}
    except coverage.exceptions.NoDataError:
        result = {"reason": "the tests did not execute any of the package's modules"}
    except Exception as e:
        result = {"reason": "coverage.py could not report: %s" % e}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)
    sys.stderr = quiet
sys.exit(code)
"""

_COVERAGE = {}


def coverage_setup(python, packages, work):
    """Arms coverage for the test runs when the venv has coverage.py and
    the package's modules are known; else records why not."""
    _COVERAGE.clear()
    if not packages:
        _COVERAGE["reason"] = "the package's top-level modules are not known"
        return
    cp = subprocess.run([python, "-P", "-c", "import coverage"], capture_output=True)
    if cp.returncode != 0:
        _COVERAGE["reason"] = "coverage.py is not importable in the venv"
        return
    _COVERAGE.update(data=os.path.join(work, "pyti-coverage.data"),
                     out=os.path.join(work, "pyti-coverage.json"),
                     sources=",".join(sorted(set(packages))))


def coverage_wrap(argv):
    """The runner's argv under coverage ([python, "-P", "-m"|"-c", X, ...])."""
    if "out" not in _COVERAGE or len(argv) < 4 or argv[2] not in ("-m", "-c"):
        return argv
    try:
        os.unlink(_COVERAGE["out"])
    except OSError:
        pass
    return [argv[0], "-P", "-c", COVERAGE_RUNNER, _COVERAGE["data"], _COVERAGE["out"],
            _COVERAGE["sources"], argv[2], argv[3], *argv[4:]]


def coverage_result():
    """What the last measured run found: {"percent", "statements", ...} or
    {"reason"}."""
    if "out" not in _COVERAGE:
        return {"reason": _COVERAGE.get("reason", "coverage was not measured")}
    try:
        with open(_COVERAGE["out"], encoding="utf-8") as f:
            res = json.load(f)
        return res if isinstance(res, dict) else {"reason": "unreadable coverage result"}
    except (OSError, ValueError):
        return {"reason": "the test run ended before coverage.py could report"}


PASSED_TESTS_MAX = 2000


def passed_test_names(junit):
    """Names of the tests that passed (at most PASSED_TESTS_MAX), so the
    next release's failures can be told apart from old ones (regressions,
    docs/metrics.md). Same naming as failed_tests."""
    names = []
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return names
    for case in root.iter("testcase"):
        if not case.get("name") or any(case.find(k) is not None
                                       for k in ("error", "failure", "skipped")):
            continue
        names.append(f"{case.get('classname', '')}::{case.get('name', '')}".strip(":"))
        if len(names) >= PASSED_TESTS_MAX:
            break
    return names


def missing_modules(texts, own):
    missing = set()
    for t in texts:
        for m in MISSING_RE.findall(t):
            top = m.split(".")[0]
            if top not in own:
                missing.add(top)
    return sorted(missing)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--package", action="append", default=[])
    ap.add_argument("--kind", choices=("sdist", "wheel"), default="sdist")
    ap.add_argument("--timeout", type=float, default=3000)
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    root = os.path.join(a.work, "test-src")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(a.source, root, symlinks=True)
    res = {"outcome": "none", "runner": None, "counts": None}
    config, testpaths = pytest_config(root)
    res["pytest_config"] = config
    res["testpaths"] = testpaths
    own = set(a.package)
    coverage_setup(a.python, a.package, a.work)

    # Where tests may live. A wheel's tree is the package itself (often
    # with vendored code whose tests are not the package's): only its test
    # directories count. An sdist is tested from its root, as its authors
    # do, when pytest is configured there.
    dirs = [d for d in CANDIDATE_DIRS if os.path.isdir(os.path.join(root, d))]
    for pkg in a.package:
        for d in (os.path.join(pkg, "tests"), os.path.join("src", pkg, "tests"),
                  os.path.join(pkg, "test")):
            if os.path.isdir(os.path.join(root, d)):
                dirs.append(d)
    if a.kind == "wheel":
        targets = dirs
    elif config:
        targets = []  # the project's own pytest configuration decides
    elif "tests" in dirs or "test" in dirs:
        targets = ["tests" if "tests" in dirs else "test"]
    else:
        targets = []
    res["targets"] = targets or ["."]

    if a.kind == "wheel" and not targets:
        res.update(outcome="none", reason="the wheel ships no test directory")
        write_result(a.result, res)
        return 0

    if has_pytest(a.python):
        junit = os.path.join(a.work, "pytest-junit.xml")
        code, out = run_pytest(a.python, root, junit, a.timeout, targets)
        res["pytest_exit_code"] = code
        if code is None:
            res.update(outcome="timeout", runner="pytest", reason="the test run timed out")
            write_result(a.result, res)
            return 0
        counts, failed, collection = parse_junit(junit)
        if counts and (counts["tests"] or counts["collection_errors"]):
            res.update(runner="pytest", counts=counts, failed_tests=failed,
                       collection_errors=collection)
            res["passed_tests"] = passed_test_names(junit)
        elif code not in (0, 5) and counts is None:
            res.update(runner="pytest", outcome="error",
                       reason=f"pytest exited {code} without results", log_tail=tail(out, 8000))
            write_result(a.result, res)
            return 0
    else:
        res["pytest_available"] = False

    if res["runner"] is None:
        # Test directories first: discovering from the root imports every
        # package of the tree on the way, vendored code included.
        starts = [os.path.join(root, d) for d in dirs]
        if a.kind == "sdist":
            starts.append(root)
        for start in starts:
            if not os.path.isdir(start):
                continue
            r, out = run_unittest(a.python, root, start, a.timeout)
            if r and (r["tests"] or r["load_errors"]):
                counts = {"tests": r["tests"], "failures": r["failures"], "errors": r["errors"],
                          "skipped": r["skipped"], "collection_errors": len(r["load_errors"]),
                          "passed": r["tests"] - r["failures"] - r["errors"] - r["skipped"]}
                res.update(runner="unittest", start_dir=os.path.relpath(start, root),
                           counts=counts, failed_tests=r["error_details"],
                           collection_errors=[{"where": "", "message": e}
                                              for e in r["load_errors"]])
                break

    c = res["counts"]
    if c is None or (c["tests"] == 0 and c["collection_errors"] == 0):
        res.update(outcome="none", reason="no tests found")
    else:
        texts = [e["message"] for e in res.get("collection_errors", [])]
        texts += [f["message"] for f in res.get("failed_tests", [])]
        missing = missing_modules(texts, own)
        res["missing_test_dependencies"] = missing
        if c["failures"] or c["errors"] or c["collection_errors"]:
            res["outcome"] = "failed"
            only_missing = missing and c["failures"] == 0 and all(
                MISSING_RE.search(t) for t in texts)
            if only_missing:
                res.update(outcome="missing-dependencies",
                           reason="tests need modules that are not installed: "
                           + ", ".join(missing))
        else:
            res["outcome"] = "passed"
    if res.get("counts"):
        res["coverage"] = coverage_result()
    write_result(a.result, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
