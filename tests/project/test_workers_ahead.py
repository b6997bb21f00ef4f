"""The command line and Gradescope's autograder start a single grading's first sandbox workers before they import
the checks and read the submission (grader.boxes), and a class run does not keep them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import grader.cli
from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]

WATCHED = """
import sys
from grader.boxes import GradingSandboxes
from {module} import main

started = GradingSandboxes.start
def start(self, diagnostics=True):
    print("suite imported when the workers started:", "grader.checks.suite" in sys.modules)
    return started(self, diagnostics)
GradingSandboxes.start = start
assert main([{submission!r}, {out!r}] if {module!r} == "grader.autograder" else [{submission!r}, "--out", {out!r}]) == 0
"""


@pytest.mark.parametrize("module", ["grader.cli", "grader.autograder"])
def test_a_single_grading_starts_its_first_workers_before_the_checks_are_imported(tmp_path, module):
    """In a fresh interpreter: the checks (Hypothesis, the suite) are imported while the workers start up."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rnn.py").write_text("def forward(:\n")  # fails to load: every check runs, quickly
    done = subprocess.run([sys.executable, "-c", WATCHED.format(module=module, submission=str(tmp_path / "sub"),
                                                                out=str(tmp_path / "out"))],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "suite imported when the workers started: False" in done.stdout
    assert (tmp_path / "out" / "results.json").is_file()


def _children() -> list[int]:
    """This process's child processes (a sandbox's worker, or the bwrap above it, is one)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            found.append(int(entry))
    return found


def test_a_class_folder_closes_the_workers_started_for_a_single_grading_before_the_class_run(tmp_path,
                                                                                              monkeypatch):
    for name in ("ada", "bo"):
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / "rnn.py").write_text("def forward(:\n")
    seen = []
    before = set(_children())  # an xdist worker may have children of its own already
    monkeypatch.setattr(grader.cli, "_grade_class",
                        lambda args, assignment, console: seen.append(set(_children()) - before) or 0)
    assert main([str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 0
    assert seen == [set()]
