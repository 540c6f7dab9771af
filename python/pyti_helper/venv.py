"""venv.py --python PY --dest DIR [--system-site-packages] --result FILE

Creates a virtual environment without pip for the interpreter running this
script and reports the interpreter's facts: version, implementation,
PEP 508 marker environment, install scheme paths and supported wheel tags
(from packaging.tags when Debian's python3-packaging is importable)."""
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--system-site-packages", action="store_true")
    a = ap.parse_args()
    result = {"python": sys.executable, "version": platform.python_version(),
              "implementation": sys.implementation.name,
              "markers": marker_environment(), "tags": wheel_tags()}
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
