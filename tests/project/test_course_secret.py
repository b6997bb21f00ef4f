"""One course secret per spec, wherever the grader runs from, and every command that writes it says where."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from grader import secret as secret_module
from grader.assignment import load_assignment
from grader.secret import SECRET_ENV, SECRET_FILE, course_secret, secret_path
from grader.specfile import default_spec_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """The user's data folder in tmp, and no secret from the environment (the suite sets one)."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home / "rnn-grader"


def shipped_copy(tmp_path: Path, name: str) -> Path:
    """A copy of the shipped spec folder, as another install (a checkout, a venv) of the grader has it."""
    copy = tmp_path / name / "specs"
    shutil.copytree(default_spec_dir(), copy, ignore=shutil.ignore_patterns(SECRET_FILE, "__pycache__"))
    return copy


def test_a_shipped_spec_keeps_its_secret_in_the_data_folder_keyed_by_its_name(data_home):
    default, variant = course_secret(), course_secret(default_spec_dir() / "variants" / "mean-adam")
    assert default.made and default.path == data_home / "default" / SECRET_FILE
    assert variant.made and variant.path == data_home / "mean-adam" / SECRET_FILE
    assert default.value != variant.value  # one secret per course spec
    assert stat.S_IMODE(default.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(default.path.parent.stat().st_mode) == 0o700
    assert load_assignment("mean-adam").secret == variant and not load_assignment("mean-adam").secret.made
    assert not (default_spec_dir() / SECRET_FILE).exists() or "course-secret" in (ROOT / ".gitignore").read_text()


def test_a_checkout_and_an_installed_package_find_the_same_secret(data_home, tmp_path, monkeypatch):
    checkout, installed = shipped_copy(tmp_path, "checkout"), shipped_copy(tmp_path, "site-packages")
    monkeypatch.setattr(secret_module, "default_spec_dir", lambda: checkout)
    from_checkout = course_secret(checkout)
    monkeypatch.setattr(secret_module, "default_spec_dir", lambda: installed)
    from_installed = course_secret(installed)
    assert from_checkout.made and not from_installed.made
    assert from_checkout.value == from_installed.value and from_installed.path == data_home / "default" / SECRET_FILE


def test_a_secret_an_older_grader_kept_in_the_shipped_folder_is_taken_over(data_home, tmp_path, monkeypatch):
    checkout = shipped_copy(tmp_path, "checkout")
    (checkout / SECRET_FILE).write_text("the course's old secret\n")
    monkeypatch.setattr(secret_module, "default_spec_dir", lambda: checkout)
    found = course_secret(checkout)
    assert found.value == "the course's old secret" and found.path == data_home / "default" / SECRET_FILE
    assert found.taken_over == checkout / SECRET_FILE and str(checkout / SECRET_FILE) in found.made_now


def test_a_courses_own_spec_folder_keeps_its_secret_inside(data_home, tmp_path):
    own = tmp_path / "course" / "spec"
    shutil.copytree(default_spec_dir(), own, ignore=shutil.ignore_patterns(SECRET_FILE, "__pycache__", "variants"))
    assert course_secret(own).path == own / SECRET_FILE == secret_path(own)
    assert not data_home.exists()


def test_the_environment_wins_and_says_so(data_home, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "from a secret store")
    found = course_secret()
    assert found.value == "from a secret store" and found.path is None and SECRET_ENV in found.where
    assert "from a secret store" not in repr(found) and not data_home.exists()


def run_grader(args, data: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    env.update(XDG_DATA_HOME=str(data), PYTHONPATH=str(ROOT))  # this checkout's grader, from any folder
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.long
def test_the_secret_command_prints_the_path_it_writes_for_a_named_spec(tmp_path):
    data = tmp_path / "data"
    made = run_grader(["secret", "--spec", "mean-adam"], data, tmp_path)
    written = data / "rnn-grader" / "mean-adam" / SECRET_FILE
    assert made.returncode == 0, made.stderr
    assert f"Made the course secret {written} (new)" in made.stdout
    again = run_grader(["secret", "--spec", "mean-adam"], data, tmp_path)
    assert f"Course secret: {written} (already there)" in again.stdout
    assert sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file()) == [written.relative_to(data)]


@pytest.mark.long
def test_the_secret_command_installs_the_courses_secret_and_never_replaces_another(tmp_path):
    data, given = tmp_path / "data", tmp_path / "course-secret"
    given.write_text("the course's own secret\n")
    path = run_grader(["secret", "--from", str(given), "--path"], data, tmp_path)
    written = data / "rnn-grader" / "default" / SECRET_FILE
    assert path.returncode == 0 and path.stdout == f"{written}\n"  # only the path: `zip -j x.zip "$(...)"`
    assert f"copied from {given}" in path.stderr and written.read_text() == "the course's own secret\n"
    given.write_text("another secret\n")
    refused = run_grader(["secret", "--from", str(given)], data, tmp_path)
    assert refused.returncode == 2 and "nothing was replaced" in refused.stderr
    assert written.read_text() == "the course's own secret\n"
