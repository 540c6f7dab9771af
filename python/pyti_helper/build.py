"""build.py --phase prepare|build --work DIR [--source DIR] [--install WHEEL...]
          [--no-get-requires] [--hook wheel|metadata] --result FILE

A PEP 517 front end in rounds, so that pyti can resolve and stage build
requirements on the host between them (the sandbox has no network):

  prepare  copies the source tree to DIR/build-src, reads [build-system]
           from pyproject.toml (the setuptools legacy backend when there is
           none; untrusted TOML is read only here, in the sandbox) and
           creates the empty, isolated build environment DIR/build-env.
           Outcome "prepared" with backend, requires, backend-path.
  build    installs the wheels pyti staged (--install, with pyti's native
           installer) into the build environment, asks the backend
           get_requires_for_build_wheel (package code) unless
           --no-get-requires, and when everything it asks for is installed
           builds the wheel (outcome "built"); otherwise outcome
           "needs-more" with the requirements to stage, and pyti calls
           this phase again with them and --no-get-requires.
           With --hook metadata it calls prepare_metadata_for_build_wheel
           instead (outcome "metadata" with the METADATA file's path);
           a backend without that hook builds the wheel (outcome "built",
           whose METADATA pyti reads). Used for dependencies that are
           only sdists (src/exec/depbuild.c).

Outcome "failed" is the package's (invalid pyproject.toml, the backend
failed); "error" is pyti's own trouble in this helper."""
import argparse
import json
import os
import shutil
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import run, tail, write_result  # noqa: E402

LEGACY = {"requires": ["setuptools>=40.8.0", "wheel"],
          "build-backend": "setuptools.build_meta:__legacy__"}
CORE = "/pyti/bin/pyti-core"

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
elif hook == "prepare_metadata_for_build_wheel":
    fn = getattr(backend, hook, None)
    answer = fn(sys.argv[2], {}) if fn else None
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


def install(env_dir, wheels, log):
    """Installs the staged wheels into the build environment natively."""
    if not wheels:
        return True, None
    argv = [CORE, "install", "--venv", env_dir, "--staging-dir", "/tmp", "--no-requested",
            "--no-direct-url", "--overwrite", *wheels]
    code, out, _ = run(argv)
    log.append(out)
    return code == 0, out.strip().splitlines()[-1] if out.strip() else f"exit status {code}"


def unsatisfied(env_dir, reqs):
    """The requirements of reqs the build environment does not satisfy, or
    None when they cannot be checked here (then the host decides). Raises
    ValueError for a requirement that does not parse."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        return None
    from importlib import metadata
    site = [os.path.join(env_dir, "lib", d, "site-packages")
            for d in os.listdir(os.path.join(env_dir, "lib"))]
    have = {}
    for d in metadata.distributions(path=site):
        name = (d.metadata["Name"] or "").lower().replace("_", "-").replace(".", "-")
        have.setdefault(name, d.version)
    missing = []
    for text in reqs:
        try:
            r = Requirement(text)
        except InvalidRequirement as e:
            raise ValueError(f"the backend asked for an invalid requirement {text!r}: {e}")
        if r.marker is not None and not r.marker.evaluate({"extra": ""}):
            continue
        name = r.name.lower().replace("_", "-").replace(".", "-")
        v = have.get(name)
        if v is None or (r.specifier and not r.specifier.contains(v, prereleases=True)) or r.extras:
            missing.append(text)
    return missing


def prepare(a, res, log):
    src = os.path.join(a.work, "build-src")
    env_dir = os.path.join(a.work, "build-env")
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(a.source, src, symlinks=True)
    try:
        bs, origin = read_build_system(src)
    except (ValueError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        res.update(reason=f"invalid pyproject.toml: {e}")
        return 1
    res.update(backend=bs["build-backend"], requires=bs["requires"], build_system_from=origin,
               backend_path=bs.get("backend-path", []))
    import venv
    venv.EnvBuilder(with_pip=False, system_site_packages=False, clear=True,
                    symlinks=True).create(env_dir)
    with open(os.path.join(a.work, "build-state.json"), "w", encoding="utf-8") as f:
        json.dump(bs, f)
    res["outcome"] = "prepared"
    return 0


def build(a, res, log):
    src = os.path.join(a.work, "build-src")
    env_dir = os.path.join(a.work, "build-env")
    out_dir = os.path.join(a.work, "wheels")
    with open(os.path.join(a.work, "build-state.json"), encoding="utf-8") as f:
        bs = json.load(f)
    res.update(backend=bs["build-backend"])
    ok, why = install(env_dir, a.install, log)
    if not ok:
        res.update(outcome="error", reason=f"installing the staged build requirements: {why}")
        return 2
    python = os.path.join(env_dir, "bin", "python")
    if not a.no_get_requires:
        code, out, extra = call_hook(python, src, bs, "get_requires_for_build_wheel")
        log.append(out)
        if code != 0 or not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
            res.update(reason="the backend's get_requires_for_build_wheel failed")
            return 1
        res["extra_requires"] = extra
        try:
            missing = unsatisfied(env_dir, extra)
        except ValueError as e:
            res.update(reason=str(e))
            return 1
        if missing is None:
            missing = extra
        if missing:
            res.update(outcome="needs-more", missing=missing)
            return 0
    if a.hook == "metadata":
        meta_dir = os.path.join(a.work, "metadata")
        shutil.rmtree(meta_dir, ignore_errors=True)
        os.makedirs(meta_dir)
        code, out, name = call_hook(python, src, bs, "prepare_metadata_for_build_wheel", meta_dir)
        log.append(out)
        if code != 0:
            res.update(reason="the backend's prepare_metadata_for_build_wheel failed")
            return 1
        if name is not None:
            if not isinstance(name, str) or "/" in name or not name.endswith(".dist-info"):
                res.update(reason=f"prepare_metadata_for_build_wheel returned {name!r}")
                return 1
            res.update(outcome="metadata", metadata=os.path.join(meta_dir, name, "METADATA"))
            return 0
        # no such hook: build the wheel (PEP 517's fallback)
    os.makedirs(out_dir, exist_ok=True)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--phase", choices=("prepare", "build"), required=True)
    ap.add_argument("--source")
    ap.add_argument("--work", required=True)
    ap.add_argument("--install", action="append", default=[])
    ap.add_argument("--no-get-requires", action="store_true")
    ap.add_argument("--hook", choices=("wheel", "metadata"), default="wheel")
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    res = {"outcome": "failed", "phase": a.phase}
    log = []
    try:
        return prepare(a, res, log) if a.phase == "prepare" else build(a, res, log)
    except Exception as e:  # pyti's own trouble in this helper
        res.update(outcome="error", reason=f"{type(e).__name__}: {e}")
        return 2
    finally:
        res["log_tail"] = tail("\n".join(log), 16 * 1024)
        write_result(a.result, res)


if __name__ == "__main__":
    sys.exit(main())
