"""testreqs.py --source DIR --result FILE

Finds a project's test requirements in its source tree (untrusted files,
read only here, inside the sandbox), from each kind of source pyti knows:

  dependency-groups   PEP 735 [dependency-groups] in pyproject.toml: the
                      groups test, tests, testing (include-group expanded)
  requirements-files  requirements/test*.txt, test-requirements.txt,
                      requirements-test.txt (-r includes followed inside the
                      tree; -c, -e, options, paths and URLs skipped)
  tox.ini             [testenv] deps (lines with factor conditions,
                      substitutions, paths and options skipped; -r followed)

Reports every source found with its requirements and what was skipped;
pyti (on the host) picks the first one in the order of docs/tasks.md and
resolves it. The package's test extras come from its metadata, which the
host reads itself. Nothing here imports or runs the project."""
import argparse
import configparser
import glob
import os
import re
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import write_result  # noqa: E402

GROUPS = ("test", "tests", "testing")
MAX_REQS = 500
MAX_FILE = 1 << 20
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def valid_requirement(text):
    """True when text is a PEP 508 requirement by name (no URL)."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        return bool(NAME_RE.match(text)) and "://" not in text
    try:
        r = Requirement(text)
    except InvalidRequirement:
        return False
    return r.url is None


def inside(root, path):
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


def read_text(root, path):
    if not inside(root, path) or not os.path.isfile(path) or os.path.getsize(path) > MAX_FILE:
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def parse_requirements(root, path, reqs, skipped, depth=0, seen=None):
    """pip's requirements-file format, the parts that name requirements."""
    seen = seen if seen is not None else set()
    real = os.path.realpath(path)
    if real in seen or depth > 5:
        return
    seen.add(real)
    text = read_text(root, path)
    if text is None:
        skipped.append(f"{os.path.relpath(path, root)}: not a file inside the project")
        return
    text = re.sub(r"\\\r?\n", " ", text)
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        m = re.match(r"^(-r|--requirement)(\s+|=)(\S+)$", line)
        if m:
            parse_requirements(root, os.path.join(os.path.dirname(path), m.group(3)), reqs,
                               skipped, depth + 1, seen)
            continue
        if line.startswith("-"):
            skipped.append(f"{line} (option)")
            continue
        if line.startswith((".", "/")) or "://" in line or " @ " in line:
            skipped.append(f"{line} (a path or URL)")
            continue
        if ";" in line and " ;" not in line and "; " not in line:
            line = line.replace(";", "; ", 1)
        if valid_requirement(line):
            if len(reqs) < MAX_REQS:
                reqs.append(line)
        else:
            skipped.append(f"{line} (not a requirement)")


def dependency_groups(root):
    p = os.path.join(root, "pyproject.toml")
    text = read_text(root, p)
    if text is None:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    groups = data.get("dependency-groups")
    if not isinstance(groups, dict):
        return None
    by_norm = {norm(k): v for k, v in groups.items() if isinstance(k, str)}
    chosen = [g for g in GROUPS if g in by_norm]
    if not chosen:
        return None
    reqs, skipped = [], []

    def expand(name, stack):
        if name in stack:
            skipped.append(f"include-group cycle through {name}")
            return
        entries = by_norm.get(name)
        if not isinstance(entries, list):
            skipped.append(f"dependency group {name} is not a list")
            return
        for e in entries:
            if isinstance(e, str):
                if valid_requirement(e) and len(reqs) < MAX_REQS:
                    reqs.append(e)
                else:
                    skipped.append(f"{e} (not a requirement)")
            elif isinstance(e, dict) and isinstance(e.get("include-group"), str):
                expand(norm(e["include-group"]), stack + [name])
            else:
                skipped.append(f"{e!r} (not a requirement or include-group)")

    for g in chosen:
        expand(g, [])
    return {"source": "dependency-groups", "where": "pyproject.toml [dependency-groups] "
            + ", ".join(chosen), "requirements": reqs, "skipped": skipped}


def requirements_files(root):
    files = sorted(glob.glob(os.path.join(glob.escape(root), "requirements", "test*.txt")))
    for name in ("test-requirements.txt", "requirements-test.txt"):
        p = os.path.join(root, name)
        if os.path.isfile(p):
            files.append(p)
    files = [f for f in files if inside(root, f)]
    if not files:
        return None
    reqs, skipped = [], []
    for f in files:
        parse_requirements(root, f, reqs, skipped)
    return {"source": "requirements-files",
            "where": ", ".join(os.path.relpath(f, root) for f in files),
            "requirements": reqs, "skipped": skipped}


def tox_deps(root):
    p = os.path.join(root, "tox.ini")
    text = read_text(root, p)
    if text is None:
        return None
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read_string(text)
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not cp.has_option("testenv", "deps"):
        return None
    reqs, skipped = [], []
    for line in cp.get("testenv", "deps").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        if re.match(r"^[\w!,{}.-]+:\s", line):
            skipped.append(f"{line} (factor condition)")
            continue
        if "{" in line:
            skipped.append(f"{line} (substitution)")
            continue
        m = re.match(r"^(-r|--requirement)\s*=?\s*(\S+)$", line)
        if m:
            parse_requirements(root, os.path.join(root, m.group(2)), reqs, skipped)
            continue
        if line.startswith("-"):
            skipped.append(f"{line} (option)")
            continue
        if line.startswith((".", "/")) or "://" in line:
            skipped.append(f"{line} (a path or URL)")
            continue
        if valid_requirement(line):
            if len(reqs) < MAX_REQS:
                reqs.append(line)
        else:
            skipped.append(f"{line} (not a requirement)")
    return {"source": "tox.ini", "where": "tox.ini [testenv] deps", "requirements": reqs,
            "skipped": skipped}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    found = []
    res = {"found": found}
    try:
        for finder in (dependency_groups, requirements_files, tox_deps):
            r = finder(a.source)
            if r is not None:
                found.append(r)
    except Exception as e:  # pyti's own trouble: report, never hide
        res["error"] = f"{type(e).__name__}: {e}"
    write_result(a.result, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
