"""No file of the submission configures the pytest session that grades it.

pytest runs here as an instructor runs it: the plugin loaded from the installed `pytest11` entry point (no
-p, plugin autoloading on), this checkout's grader first on the path. Each hostile file leaves a canary
when it runs, so "never read" is checked directly, not inferred from the grade.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
CANARY = "CANARY"

# Python that, once run, says so in a file beside itself, then tries to take the session over as the
# red team's conftest did: the grading option defined by itself, every check reported passed.
HOSTILE_CODE = (
    "import pathlib\n"
    f"pathlib.Path(__file__).with_name({CANARY!r}).write_text('ran')\n"
    "def pytest_addoption(parser):\n"
    "    try:\n"
    "        parser.addoption('--rnn-submission')\n"
    "    except ValueError:\n"
    "        pass\n"
    "def pytest_terminal_summary(terminalreporter):\n"
    "    terminalreporter.write_line('Total: 100 / 100')\n"
)
# Every file pytest reads its configuration from, each blocking the plugin and loading evil.py.
TAKEOVER = "addopts = -p no:rnn_grader -p evil\npythonpath = .\n"
CONFIG_FILES = {
    "pytest.ini": f"[pytest]\n{TAKEOVER}",
    ".pytest.ini": f"[pytest]\n{TAKEOVER}",
    "tox.ini": f"[pytest]\n{TAKEOVER}",
    "setup.cfg": f"[tool:pytest]\n{TAKEOVER}",
    "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p no:rnn_grader -p evil"\npythonpath = ["."]\n',
    "pytest.toml": '[pytest]\naddopts = ["-p", "no:rnn_grader", "-p", "evil"]\npythonpath = ["."]\n',
}
HARMLESS = {
    "pytest.ini": "[pytest]\naddopts = -q\n",
    ".pytest.ini": "[pytest]\naddopts = -q\n",
    "tox.ini": "[pytest]\naddopts = -q\n",
    "setup.cfg": "[tool:pytest]\naddopts = -q\n",
    "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-q"\n',
    "pytest.toml": '[pytest]\naddopts = ["-q"]\n',  # read from pytest 9 on
}
PYTEST_9 = int(pytest.__version__.split(".")[0]) >= 9


def instructor_pytest(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def hostile(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**files, "conftest.py": HOSTILE_CODE, "evil.py": HOSTILE_CODE,
                       "test_own.py": "def test_own():\n    assert True\n"}.items():
        (folder / name).write_text(text)
    return folder


def canaries(root: Path) -> list[Path]:
    return sorted(root.rglob(CANARY))


def stub_class(tmp_path: Path, files: dict[str, str]) -> Path:
    """A class folder holding one stub (the template: it computes nothing) with hostile files in it and in
    a folder inside it; the instructor's own folder beside it."""
    stub = tmp_path / "class" / "stub"
    hostile(stub, files)
    hostile(stub / "nested", files)
    (stub / "rnn.py").write_text((SUBMISSIONS / "template" / "rnn.py").read_text())
    (tmp_path / "instructor").mkdir()
    return stub


@pytest.mark.slow
@pytest.mark.parametrize("cwd", ["instructor", "class"])
def test_the_documented_command_grades_a_stub_with_hostile_configuration_as_the_stub_it_is(tmp_path, cwd):
    stub = stub_class(tmp_path, CONFIG_FILES)
    done = instructor_pytest(f"--rnn-submission={stub}", "--rnn-out", tmp_path / "out", cwd=tmp_path / cwd)
    assert canaries(tmp_path) == []  # no conftest.py, evil.py or configuration of the submission was read
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    assert "Total: 100 / 100" not in done.stdout and "test_own" not in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["score"] < sum(test["max_score"] for test in results["tests"]) / 2
    assert re.search(r"\d+ failed", done.stdout)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.skipif(
    name == "pytest.toml" and not PYTEST_9, reason="pytest reads pytest.toml from version 9 on")) for name in sorted(HARMLESS)])
def test_the_submission_as_a_separate_word_is_refused_when_its_configuration_was_read(tmp_path, name):
    stub = stub_class(tmp_path, {name: HARMLESS[name]})
    done = instructor_pytest("--rnn-submission", stub, "--collect-only", cwd=tmp_path / "instructor")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.startswith(f"ERROR: rnn-grader: pytest read its configuration from {stub / name}, inside the "
                           f"submission {stub}: nothing was graded. Write --rnn-submission={stub} (one word)")
    assert canaries(tmp_path) == [] and "Traceback" not in done.stderr


def test_configuration_found_in_a_folder_above_the_submission_through_its_path_is_refused(tmp_path):
    """The student's upload holds the configuration and, one folder down, the code the instructor named."""
    upload = hostile(tmp_path / "class" / "upload", {"pytest.ini": HARMLESS["pytest.ini"]})
    inner = upload / "inner"
    inner.mkdir()
    (inner / "rnn.py").write_text((SUBMISSIONS / "template" / "rnn.py").read_text())
    (tmp_path / "instructor").mkdir()
    done = instructor_pytest("--rnn-submission", inner, "--collect-only", cwd=tmp_path / "instructor")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert f"pytest took its configuration from {upload / 'pytest.ini'}, found from the submission's path" in done.stderr
    assert canaries(tmp_path) == []


@pytest.mark.parametrize("where", ["working folder", "test path"])
def test_a_session_run_from_or_pointed_into_the_submission_is_refused_before_its_conftest_loads(tmp_path, where):
    stub = stub_class(tmp_path, {})
    if where == "working folder":
        done = instructor_pytest("--rnn-submission=.", "--collect-only", cwd=stub)
    else:
        done = instructor_pytest(f"--rnn-submission={stub}", stub / "nested", "--collect-only",
                                 cwd=tmp_path / "instructor")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "ERROR: rnn-grader: " in done.stderr and "inside the submission" in done.stderr
    assert canaries(tmp_path) == []


@pytest.mark.long
def test_a_test_path_holding_the_submission_collects_nothing_of_it(tmp_path):
    stub = stub_class(tmp_path, {})
    own = tmp_path / "class" / "test_course.py"
    own.write_text("def test_course():\n    assert True\n")
    done = instructor_pytest(f"--rnn-submission={stub}", tmp_path / "class", "--collect-only", "-q",
                             cwd=tmp_path / "instructor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_course.py::test_course" in done.stdout and "test_own" not in done.stdout
    assert canaries(tmp_path) == []


@pytest.mark.slow
def test_a_correct_submission_with_a_harmless_pytest_ini_earns_full_points_with_the_documented_command(tmp_path):
    alice = tmp_path / "class" / "alice"
    alice.mkdir(parents=True)
    (alice / "rnn.py").write_text((SUBMISSIONS / "alice" / "rnn.py").read_text())
    (alice / "pytest.ini").write_text(HARMLESS["pytest.ini"])
    (tmp_path / "instructor").mkdir()
    done = instructor_pytest(f"--rnn-submission={alice}", "--rnn-instructor", cwd=tmp_path / "instructor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Total: 100 / 100" in done.stdout


def test_readme_grades_someone_elses_code_with_the_submission_as_one_word():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## With pytest", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^pytest .*$", section, flags=re.MULTILINE)
    assert commands and all("--rnn-submission=" in c for c in commands), commands
