"""venv.py --dest DIR [--system-site-packages] [--no-facts] --result FILE

Creates a virtual environment without pip for the interpreter running this
script and reports the interpreter's facts: version, implementation,
PEP 508 marker environment, install scheme paths, supported wheel tags
(from packaging.tags when Debian's python3-packaging is importable), the
system site directories and the distributions installed there (what a venv
with system site-packages sees, as pip would). With --no-facts (pyti has
them cached) only the cheap ones are reported: no tags, no installed
distributions."""
import argparse
import os
import platform
import sys
import sysconfig
import venv

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyti_helper.common import write_result  # noqa: E402


def marker_environment():
    impl = sys.implementation
    iver = "{0.major}.{0.minor}.{0.micro}".format(impl.version)
    if impl.version.releaselevel != "final":
        iver += impl.version.releaselevel[0] + str(impl.version.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": iver,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def wheel_tags():
    try:
        from packaging import tags
    except ImportError:
        return []
    return [str(t) for t in tags.sys_tags()]


def site_dirs():
    """The interpreter's site directories (what a venv with system
    site-packages adds to its own), in sys.path order."""
    return [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))
            and os.path.isdir(p)]


def installed(dirs):
    """The distributions found in dirs, the first of a name winning (as
    importlib.metadata and pip see them): name, version, Requires-Dist,
    Provides-Extra."""
    from importlib import metadata
    seen = {}
    for d in metadata.distributions(path=dirs):
        try:
            name = d.metadata["Name"]
            if not name:
                continue
            key = name.lower().replace("_", "-").replace(".", "-")
            if key in seen:
                continue
            seen[key] = {"name": name, "version": d.version,
                         "requires_dist": list(d.requires or []),
                         "provides_extra": list(d.metadata.get_all("Provides-Extra") or [])}
        except Exception:  # a broken installed distribution is not ours to judge
            continue
    return sorted(seen.values(), key=lambda e: e["name"].lower())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--system-site-packages", action="store_true")
    ap.add_argument("--no-facts", action="store_true")
    a = ap.parse_args()
    result = {"python": sys.executable, "version": platform.python_version(),
              "implementation": sys.implementation.name,
              "markers": marker_environment(), "site_dirs": site_dirs()}
    if not a.no_facts:
        result["tags"] = wheel_tags()
        result["installed"] = installed(result["site_dirs"])
    try:
        venv.EnvBuilder(with_pip=False, system_site_packages=a.system_site_packages,
                        symlinks=True, clear=True).create(a.dest)
    except Exception as e:  # report, never hide
        result["error"] = f"{type(e).__name__}: {e}"
        write_result(a.result, result)
        return 1
    scheme = sysconfig.get_paths(vars={"base": a.dest, "platbase": a.dest})
    result.update(venv=a.dest, venv_python=os.path.join(a.dest, "bin", "python"),
                  system_site_packages=a.system_site_packages,
                  paths={k: scheme[k]
                         for k in ("purelib", "platlib", "scripts", "include", "data")})
    write_result(a.result, result)
    print(f"created {a.dest} for Python {result['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
