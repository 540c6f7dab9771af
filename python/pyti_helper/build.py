"""build.py --source DIR --work DIR --wheelhouse DIR [--find-links DIR] --result FILE

A PEP 517 front end: copies the source tree, reads [build-system] from
pyproject.toml (the setuptools legacy backend when there is none), creates
an isolated build environment, installs the build requirements offline
from the wheelhouse (and the job's staged files), asks the backend for
more (get_requires_for_build_wheel), and builds the wheel.

Outcome in the result: "built", "failed" (the package's backend failed)
or "unavailable" (a build requirement is not available offline: pyti's
limitation, not the package's fault)."""
import argparse
import json
import os
import shutil
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import missing_requirement, pip_argv, pip_env, run, tail, write_result  # noqa: E402

LEGACY = {"requires": ["setuptools>=40.8.0", "wheel"],
          "build-backend": "setuptools.build_meta:__legacy__"}

# Runs inside the build environment: calls one hook and prints its JSON
# answer after a marker line, so the backend's own output cannot be taken
# for the answer.
HOOK_RUNNER = r"""
import importlib, json, os, sys
backend_path = json.loads(os.environ["PYTI_BACKEND_PATH"])
sys.path[:0] = backend_path
mod, _, obj = os.environ["PYTI_BACKEND"].partition(":")
backend = importlib.import_module(mod)
for part in filter(None, obj.split(".")):
    backend = getattr(backend, part)
hook = sys.argv[1]
if hook == "get_requires_for_build_wheel":
    fn = getattr(backend, hook, None)
    answer = fn({}) if fn else []
elif hook == "build_wheel":
    answer = backend.build_wheel(sys.argv[2], {})
print("\n@@PYTI-HOOK-RESULT@@" + json.dumps(answer))
"""


def read_build_system(source):
    path = os.path.join(source, "pyproject.toml")
    if not os.path.isfile(path):
        return dict(LEGACY), "none (setuptools legacy)"
    with open(path, "rb") as f:
        data = tomllib.load(f)
    bs = data.get("build-system")
    if bs is None:
        return dict(LEGACY), "pyproject.toml without [build-system] (setuptools legacy)"
    requires = bs.get("requires")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise ValueError("[build-system] requires must be a list of strings")
    backend = bs.get("build-backend") or LEGACY["build-backend"]
    if not isinstance(backend, str):
        raise ValueError("[build-system] build-backend must be a string")
    paths = bs.get("backend-path", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError("[build-system] backend-path must be a list of strings")
    return {"requires": requires, "build-backend": backend, "backend-path": paths}, "pyproject.toml"


def call_hook(python, src, bs, hook, *args):
    env = dict(os.environ, PYTI_BACKEND=bs["build-backend"],
               PYTI_BACKEND_PATH=json.dumps([os.path.join(src, p)
                                             for p in bs.get("backend-path", [])]))
    code, out, secs = run([python, "-c", HOOK_RUNNER, hook, *args], cwd=src, env=env)
    answer = None
    if code == 0 and "@@PYTI-HOOK-RESULT@@" in out:
        try:
            answer = json.loads(out.rsplit("@@PYTI-HOOK-RESULT@@", 1)[1].strip())
        except ValueError:
            code = 1
    return code, out, answer


def install(python, wheelhouse, links, reqs, log):
    if not reqs:
        return True, None
    extra = sum((["--find-links", link] for link in links), [])
    argv = pip_argv(python, wheelhouse, "install", "--no-index", "--no-compile",
                    "--find-links", wheelhouse, *extra, *reqs)
    code, out, _ = run(argv, env=pip_env())
    log.append(out)
    if code == 0:
        return True, None
    return False, missing_requirement(out) or "(see the log)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--wheelhouse", required=True)
    ap.add_argument("--find-links", action="append", default=[])
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    res = {"outcome": "failed"}
    log = []
    src = os.path.join(a.work, "build-src")
    out_dir = os.path.join(a.work, "wheels")
    env_dir = os.path.join(a.work, "build-env")
    try:
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(a.source, src, symlinks=True)
        os.makedirs(out_dir, exist_ok=True)
        try:
            bs, origin = read_build_system(src)
        except (ValueError, tomllib.TOMLDecodeError) as e:
            res.update(reason=f"invalid pyproject.toml: {e}")
            return 1
        res.update(backend=bs["build-backend"], requires=bs["requires"], build_system_from=origin)
        import venv
        venv.EnvBuilder(with_pip=False, system_site_packages=False, clear=True,
                        symlinks=True).create(env_dir)
        python = os.path.join(env_dir, "bin", "python")
        ok, missing = install(python, a.wheelhouse, a.find_links, bs["requires"], log)
        if not ok:
            res.update(outcome="unavailable",
                       reason=f"build requirement {missing} is not available offline")
            return 1
        code, out, extra = call_hook(python, src, bs, "get_requires_for_build_wheel")
        log.append(out)
        if code != 0 or not isinstance(extra, list):
            res.update(reason="the backend's get_requires_for_build_wheel failed")
            return 1
        res["extra_requires"] = extra
        ok, missing = install(python, a.wheelhouse, a.find_links, [str(x) for x in extra], log)
        if not ok:
            res.update(outcome="unavailable",
                       reason=f"build requirement {missing} is not available offline")
            return 1
        code, out, name = call_hook(python, src, bs, "build_wheel", out_dir)
        log.append(out)
        if code != 0 or not isinstance(name, str) or "/" in name or not name.endswith(".whl"):
            res.update(reason="the backend's build_wheel failed")
            return 1
        if not os.path.isfile(os.path.join(out_dir, name)):
            res.update(reason=f"the backend named {name!r} but did not write it")
            return 1
        res.update(outcome="built", wheel=os.path.join(out_dir, name), filename=name)
        return 0
    except Exception as e:  # pyti's own trouble in this helper
        res.update(outcome="error", reason=f"{type(e).__name__}: {e}")
        return 2
    finally:
        res["log_tail"] = tail("\n".join(log), 16 * 1024)
        write_result(a.result, res)


if __name__ == "__main__":
    sys.exit(main())
