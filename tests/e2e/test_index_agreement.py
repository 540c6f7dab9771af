"""Agreement with pip: for every case of indexlib.cases() (synthetic hard
cases and every real Debian project), `pyti resolve` and pip 23.0.1's
`install --dry-run --report` against the same local index must choose the
same set of (project, version), or both fail. Differences that are pip's
bugs would be listed in KNOWN_PIP_BUGS with their proof in docs/index.md;
there are none today. The same cases are timed by bench/resolve_vs_pip."""
import os

import pytest

import indexlib

# case id -> why pip is wrong (see docs/index.md, "Differences from pip")
KNOWN_PIP_BUGS = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d, real = indexlib.dist_dir(tmp_path_factory)
    with indexlib.Server(d) as s:
        yield s, real


def all_cases():
    # The real projects are only known once the wheels are built; the
    # names below are those DEBIAN_DISTS and python-wheels give on Debian 12.
    import importlib.metadata
    real = sorted({d.metadata["Name"] for d in importlib.metadata.distributions()
                   if d.metadata["Name"] and d.metadata["Name"].lower()
                   in {x.lower() for x in indexlib.DEBIAN_DISTS}} | {"pip", "setuptools", "wheel"},
                  key=str.lower)
    return indexlib.cases(real)


CASES = all_cases()


def test_enough_cases():
    assert len(CASES) >= 50


@pytest.mark.parametrize("cid,reqs,flags", CASES, ids=[c[0] for c in CASES])
def test_agrees_with_pip(served, cid, reqs, flags, tmp_path, env):
    s, real = served
    pip_set, _, pcp = indexlib.run_pip(s.index, reqs, flags, tmp_path / "report.json")
    pyti_set, _, ycp = indexlib.run_pyti(s.index, reqs, flags, env)
    if cid in KNOWN_PIP_BUGS:
        pytest.xfail(KNOWN_PIP_BUGS[cid])
    assert pyti_set == pip_set, (
        f"pip: {sorted(pip_set) if pip_set is not None else 'fails: ' + pcp.stderr[-500:]}\n"
        f"pyti: {sorted(pyti_set) if pyti_set is not None else 'fails: ' + ycp.stderr[-500:]}")
    if pyti_set is None:
        assert ycp.returncode == 1, ycp.stderr  # a resolution failure, not a crash
