"""End-to-end: the command-line contract every later issue relies on:
--version, --help, `pyti help COMMAND`, usage errors and their exit codes."""
import re


def test_version(pyti):
    cp = pyti("--version", check=0)
    assert re.fullmatch(r"pyti \d+\.\d+\.\d+\n", cp.stdout)


def test_help_lists_commands(pyti):
    cp = pyti("--help", check=0)
    for cmd in ("test", "recipes", "recipe", "results", "report", "store", "help"):
        assert re.search(rf"^  {cmd} ", cp.stdout, re.M), cmd
    assert "exit codes" in cp.stdout


def test_help_command(pyti):
    cp = pyti("help", "test", check=0)
    assert cp.stdout.startswith("usage: pyti test TARGET")
    for opt in ("--recipe", "--json", "--db", "--keep"):
        assert opt in cp.stdout
    cp = pyti("test", "--help", check=0)
    assert "--recipe" in cp.stdout


def test_help_unknown_command(pyti):
    cp = pyti("help", "frobnicate", check=2)
    assert "frobnicate" in cp.stderr


def test_unknown_command(pyti):
    cp = pyti("frobnicate", check=2)
    assert "unknown command 'frobnicate'" in cp.stderr


def test_no_command(pyti):
    cp = pyti(check=2)
    assert "usage" in cp.stderr


def test_test_needs_a_target(pyti):
    cp = pyti("test", check=2)
    assert "missing TARGET" in cp.stderr


def test_test_missing_file(pyti, tmp_path):
    cp = pyti("test", tmp_path / "nope.tar.gz", check=2)
    assert "nope.tar.gz" in cp.stderr


def test_test_bad_option(pyti):
    cp = pyti("test", "--frobnicate", "x.whl", check=2)
    assert "pyti help test" in cp.stderr


def test_test_not_a_distribution(pyti, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    cp = pyti("test", f, "--no-store", check=2)
    assert "notes.txt" in cp.stdout + cp.stderr
