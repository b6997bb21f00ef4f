"""A class graded in a weak sandbox says so everywhere, and its results are never reused by a strong run."""

import csv
import io
import json

import pytest
from shipped_course import shipped

from grader.batch.keys import grading_key
from grader.batch.run import grade_class
from grader.results import WEAK_SANDBOX
from grader.sandbox import Policy

from .conftest import make_folder
from .fakes import tier_grade

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ASSIGNMENT = shipped()


def _grade(class_dir, out, policy):
    return grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=tier_grade, progress=False, policy=policy)


def test_weak_results_are_marked_in_every_class_output(tmp_path):
    class_dir, out = tmp_path / "class", tmp_path / "out"
    for name in ("alice", "bob"):
        make_folder(class_dir, name, "# score: 6\n")
    result = _grade(class_dir, out, Policy.allow_weak)
    assert result.weak_isolation == ("alice", "bob")
    rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text(), newline="")))
    sandbox = rows[0].index("sandbox")
    assert {row[sandbox] for row in rows[1:]} == {"WEAK plain-process"}
    assert json.loads((out / "summary.json").read_text())["weak_isolation"] == ["alice", "bob"]
    assert WEAK_SANDBOX in (out / "index.html").read_text().replace("&#39;", "'")
    assert WEAK_SANDBOX in (out / "alice" / "report-instructor.html").read_text().replace("&#39;", "'")
    assert "WEAK SANDBOX" not in (out / "alice" / "report.html").read_text()  # the student's copy: nothing to aim at
    assert json.loads((out / "alice" / "results.json").read_text())["extra_data"]["weak_isolation"] is True


def test_the_tier_is_part_of_the_cache_key(tmp_path):
    class_dir, out = tmp_path / "class", tmp_path / "out"
    make_folder(class_dir, "alice", "# score: 6\n")
    make_folder(class_dir, "bob", "# score: 3\n")
    assert _grade(class_dir, out, Policy.allow_weak).graded_now == 2
    assert _grade(class_dir, out, Policy.allow_weak).reused == 2
    strong = _grade(class_dir, out, Policy.strict)
    assert (strong.graded_now, strong.weak_isolation) == (2, ())  # a weak result is never reused
    assert _grade(class_dir, out, Policy.strict).reused == 2
    assert _grade(class_dir, out, Policy.allow_weak).reused == 2  # a strong result is good for a weak run
    assert grading_key("c", "s", "l", "bubblewrap") != grading_key("c", "s", "l", "unprivileged-user")
