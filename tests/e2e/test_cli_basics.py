"""End-to-end: the CLI basics every later issue relies on."""


def test_version(pyti):
    cp = pyti("--version", check=0)
    assert cp.stdout.startswith("pyti ")
