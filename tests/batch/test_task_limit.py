"""The class run's limit per submission: the last line of defence, so one submission costs at most its budget."""

import dataclasses
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.batch.run import grade_class
from grader.results import Problem
from grader.sandbox import Limits

from .conftest import make_folder
from .fakes import fake_grade

ASSIGNMENT = shipped()


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


@pytest.mark.long
def test_a_task_past_its_limit_is_stopped_and_that_is_the_submissions_result(class_dir, tmp_path):
    # `# hang FILE` blocks SIGINT and SIGTERM and sleeps: a grader-side parse that never ends is as deaf.
    make_folder(class_dir, "stuck", f"# hang {tmp_path / 'grading.pid'}\n")
    make_folder(class_dir, "fine", "# score: 6\n")
    limits = dataclasses.replace(ASSIGNMENT.grading.limits, task_seconds=0.5)
    result = grade_class(class_dir, tmp_path / "out", ASSIGNMENT, jobs=2, limits=limits, grade=fake_grade, progress=False)
    rows = {s.name: s for s in result.submissions}
    assert rows["fine"].score == 10 and rows["fine"].problem is Problem.NONE
    assert rows["stuck"].score == 0 and rows["stuck"].problem is Problem.NOT_GRADED
    assert "took longer than the 0.5 s a class run allows one submission" in rows["stuck"].problem_detail
    assert not _running(int((tmp_path / "grading.pid").read_text()))
    again = grade_class(class_dir, tmp_path / "out", ASSIGNMENT, jobs=2, limits=limits, grade=fake_grade, progress=False)
    assert again.graded_now == 0  # the stopped task's result stands, like any other


def test_the_limit_comes_from_the_specs_limits_or_from_the_budgets_it_bounds():
    assert Limits(task_seconds=90).task_wall_seconds() == 90
    default = Limits()
    assert default.task_wall_seconds() > default.wall_factor * 2 * default.total_seconds
    assert Limits(total_seconds=600).task_wall_seconds() > default.task_wall_seconds()
