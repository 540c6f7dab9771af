"""End-to-end: recipes — listing, showing the execution order, user
recipes shadowing shipped ones, --recipe PATH, errors with file:line before
anything runs, and skip propagation. (Command tasks: test_execution.py.)"""
import json
from pathlib import Path

import distbuild


def user_recipes(env):
    d = Path(env["XDG_CONFIG_HOME"]) / "pyti" / "recipes"
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_recipes_lists_shipped(pyti):
    cp = pyti("recipes", check=0)
    names = [l.split()[0] for l in cp.stdout.splitlines()]
    assert "default" in names and "static" in names


def test_recipe_show_prints_execution_order(pyti):
    cp = pyti("recipe", "show", "default", check=0)
    order = [l.split()[0] for l in cp.stdout.splitlines()]
    assert order == ["extract", "metadata", "record", "facts", "scan", "venv", "build", "deps",
                     "install", "import", "testdeps", "test", "lint"]
    assert "needs=source" in cp.stdout


def test_user_recipe_shadows_and_orders_by_dependencies(pyti, env):
    (user_recipes(env) / "mine.ini").write_text(
        "[recipe]\ndescription = mine\n"
        "[task facts]\nbuiltin = facts\nneeds = source\n"
        "[task extract]\nbuiltin = extract\nproduces = source\n")
    cp = pyti("recipes", check=0)
    assert any(l.startswith("mine ") for l in cp.stdout.splitlines())
    cp = pyti("recipe", "show", "mine", check=0)
    assert [l.split()[0] for l in cp.stdout.splitlines()] == ["extract", "facts"]
    (user_recipes(env) / "static.ini").write_text(
        "[recipe]\ndescription = shadowed\n[task extract]\nbuiltin = extract\n")
    cp = pyti("recipes", check=0)
    assert any("shadowed" in l for l in cp.stdout.splitlines() if l.startswith("static"))


def test_cycle_is_reported_with_file_and_line(pyti, tmp_path):
    r = tmp_path / "cyc.ini"
    r.write_text("[recipe]\n"
                 "[task a]\nbuiltin = facts\nrequires = b\n"
                 "[task b]\nbuiltin = facts\nrequires = a\n")
    cp = pyti("recipe", "show", r, check=2)
    assert str(r) in cp.stderr and "->" in cp.stderr
    sdist = distbuild.write_sdist(tmp_path)
    cp = pyti("test", sdist, "--recipe", r, "--no-store", check=2)
    assert "cycle" in cp.stderr.lower()


def test_missing_producer_and_unknown_task(pyti, tmp_path):
    r = tmp_path / "bad.ini"
    r.write_text("[recipe]\n[task facts]\nbuiltin = facts\nneeds = source\n")
    cp = pyti("recipe", "show", r, check=2)
    assert f"{r}:2" in cp.stderr and "source" in cp.stderr
    r.write_text("[recipe]\n[task facts]\nbuiltin = facts\nrequires = biuld\n")
    cp = pyti("recipe", "show", r, check=2)
    assert "biuld" in cp.stderr


def test_unknown_recipe(pyti, tmp_path):
    sdist = distbuild.write_sdist(tmp_path)
    cp = pyti("test", sdist, "--recipe", "no-such-recipe", "--no-store", check=2)
    assert "no-such-recipe" in cp.stderr


def test_failure_skips_dependants_transitively(pyti, tmp_path):
    r = tmp_path / "chain.ini"
    r.write_text("[recipe]\n"
                 "[task extract]\nbuiltin = extract\nproduces = source\n"
                 "[task metadata]\nbuiltin = metadata\nneeds = source\nproduces = metadata\n"
                 "[task facts]\nbuiltin = facts\nneeds = source\nrequires = metadata\n"
                 "[task after]\nbuiltin = record\nneeds = source\nrequires = facts\n"
                 "[task independent]\nbuiltin = record\nneeds = source\n")
    files = distbuild.project_files(pkg_info="Metadata-Version: 2.1\nName: demo-pkg\n")
    sdist = distbuild.write_sdist(tmp_path, files=files)
    out = tmp_path / "r.json"
    pyti("test", sdist, "--recipe", r, "--json", out, "--no-store", check=1)
    report = json.loads(out.read_text())
    st = {t["name"]: (t["status"], t["reason"]) for t in report["tasks"]}
    assert st["metadata"][0] == "failed"
    assert st["facts"] == ("skipped", "requires task 'metadata' which failed")
    assert st["after"] == ("skipped", "requires task 'facts' which was skipped")
    assert st["independent"][0] == "neutral"
