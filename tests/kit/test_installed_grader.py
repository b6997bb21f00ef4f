"""An installed grader (pip install ., not editable, run away from the source checkout) has its specs, the
other years' spec folders and the templates as package data, so it grades under any of them and builds the kit."""

import subprocess
from pathlib import Path

import pytest
from venvs import pip, venv_with

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("installed-grader")  # one worker builds the module's fixtures


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory, grader_wheel):
    """A venv with the grader installed from this checkout (its wheel); its dependencies are the packages this
    interpreter sees."""
    return venv_with(grader_wheel, tmp_path_factory.mktemp("installed") / "env")


def _run(python, *args, cwd):
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
def test_the_installed_grader_ships_every_spec_folder_and_template(installed_python, tmp_path):
    done = _run(installed_python, "-c", (
        "import grader, pathlib; from grader.assignment import load_assignment, shipped_specs\n"
        "print(grader.__file__)\n"
        "for name in shipped_specs():\n"
        "    a = load_assignment(name)\n"
        "    print(name, a.template.is_file(), len(a.text.text), a.conventions.optimizer.title)\n"
    ), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert Path(lines[0]).is_relative_to(installed_python.parents[1])  # the venv's own copy, not the checkout
    assert lines[1:] == ["default True 400000 AdaGrad", "mean-adam True 400000 Adam"]


@pytest.fixture(scope="module")
def installed_kit(installed_python, tmp_path_factory):
    """The kit, built by the installed grader (`python -m grader kit`) away from the checkout."""
    where = tmp_path_factory.mktemp("installed-kit")
    done = _run(installed_python, "-m", "grader", "kit", "--out", "kit", cwd=where)
    assert done.returncode == 0, done.stdout + done.stderr
    return where / "kit"


@pytest.mark.slow
def test_the_installed_grader_builds_the_kit_with_the_specs_template(installed_kit):
    assert (installed_kit / "template" / "rnn.py").read_text() == (ROOT / "specs" / "template" / "rnn.py").read_text()
    assert (installed_kit / "specs" / "texts" / "prose.txt").is_file()


@pytest.mark.slow
def test_installing_and_uninstalling_the_kit_leaves_an_installed_grader_whole(installed_python, installed_kit, tmp_path):
    """The kit installs under rnn_grader_kit/ (found through a .pth where no grader is installed): it shares
    no file with the full grader, so pip uninstalling it removes none of the grader's."""
    pip(installed_python, "install", "-q", "--no-deps", str(installed_kit), cwd=tmp_path)
    files = _run(installed_python, "-c", (
        "import importlib.metadata as m\n"
        "kit, full = ({str(f) for f in m.files(d)} for d in ('rnn-grader-kit', 'rnn-grader'))\n"
        "print(sorted(kit & full), sorted({f.split('/')[0] for f in kit}))\n"), cwd=tmp_path)
    assert files.stdout.startswith("[] "), files.stdout + files.stderr  # no file in common
    assert {"'grader'", "'specs'"}.isdisjoint(files.stdout.split("] [", 1)[1].strip("]\n").split(", "))
    assert "'rnn_grader_kit.pth'" in files.stdout
    pip(installed_python, "uninstall", "-y", "-q", "rnn-grader-kit", cwd=tmp_path)
    after = _run(installed_python, "-m", "grader", "kit", "--out", "kit-again", cwd=tmp_path)  # the full grader's
    assert after.returncode == 0, after.stdout + after.stderr
    assert (tmp_path / "kit-again" / "setup.py").is_file()
