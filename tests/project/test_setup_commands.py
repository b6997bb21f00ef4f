"""README's set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_gives_exactly_two_setup_commands_an_install_and_grade_and_a_test_run():
    install_and_grade, install_and_test = readme_commands()[:2]
    assert install_and_grade.startswith("pip install . && python -m grader ")
    assert "pytest" in install_and_test and ".[test]" in install_and_test


def test_ci_runs_the_readme_test_command_verbatim():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


def test_the_example_the_readme_grades_exists():
    path = readme_commands()[0].split("python -m grader ", 1)[1].strip()
    assert (ROOT / path / "rnn.py").is_file()
