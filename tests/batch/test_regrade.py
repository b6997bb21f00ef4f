"""Regrading after the grader changed: the diff lists exactly who changes, nothing is overwritten until
accepted; --retry-failed grades only what crashed or timed out."""

import pytest
from shipped_course import shipped

from grader.batch import keys
from grader.batch.regrade import STAGING
from grader.batch.run import grade_class
from grader.batch.workflow import ClassWorkflow

from .conftest import make_folder
from .fakes import fake_grade, fake_grade_v2

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ASSIGNMENT = shipped()


def _grade(class_dir, out, grade=fake_grade, **options):
    return grade_class(class_dir, out, ASSIGNMENT, jobs=2, grade=grade, progress=False,
                       workflow=ClassWorkflow(similarity=False), **options)


def _scores(result):
    return {s.name: s.score for s in result.submissions}


def test_a_regrade_lists_exactly_the_changed_submissions_and_holds_them_until_accepted(class_dir, tmp_path, monkeypatch):
    make_folder(class_dir, "same", "# score: 6\n# v2-score: 6\n")
    make_folder(class_dir, "lower", "# score: 6\n# v2-score: 2\n")
    make_folder(class_dir, "higher", "# score: 3\n# v2-score: 5\n")
    make_folder(class_dir, "untouched", "# score: 6\n")
    out = tmp_path / "out"
    first = _grade(class_dir, out)
    assert first.regrade == ()

    monkeypatch.setattr(keys, "code_digest", lambda: "the grader changed")
    second = _grade(class_dir, out, grade=fake_grade_v2)
    assert second.graded_now == 4
    assert [(c.name, c.before, c.after, c.applied) for c in second.regrade] == [("higher", 7, 9, False), ("lower", 10, 6, False)]
    assert [(k.name, k.before, k.after) for k in second.regrade[1].checks] == [("init_params: shapes", 6, 2)]
    assert "grader" in second.regrade[0].cause
    # Nothing the instructor has seen is overwritten: the old grades stand, the new results wait aside.
    assert _scores(second) == _scores(first)
    assert "held back" in {s.name: s.note for s in second.submissions}["lower"]
    assert sorted(p.name for p in (out / STAGING).iterdir()) == ["higher", "lower"]
    assert '"score": 10' in (out / "lower" / "results.json").read_text()

    # Accepting grades nothing again: the held results are put in place.
    third = _grade(class_dir, out, grade=fake_grade_v2, accept_regrade=True)
    assert third.graded_now == 0
    assert _scores(third) == {"same": 10, "lower": 6, "higher": 9, "untouched": 10}
    assert [(c.name, c.applied) for c in third.regrade] == [("higher", True), ("lower", True)]
    assert not (out / STAGING / "lower").exists()
    assert _grade(class_dir, out, grade=fake_grade_v2).regrade == ()


def test_a_resubmission_is_not_held_back(class_dir, tmp_path):
    make_folder(class_dir, "bob", "# score: 3\n")
    out = tmp_path / "out"
    _grade(class_dir, out)
    (class_dir / "bob" / "rnn.py").write_text("# score: 5\n")
    again = _grade(class_dir, out)
    assert again.regrade == () and _scores(again) == {"bob": 9}


def test_retry_failed_grades_only_the_timed_out_and_keeps_everything_else(class_dir, tmp_path):
    make_folder(class_dir, "fine", "# score: 6\n")
    make_folder(class_dir, "slow", "# timeout\n# v2-score: 6\n")
    out = tmp_path / "out"
    first = _grade(class_dir, out)
    assert {s.name: s.problem for s in first.submissions} == {"fine": "", "slow": "timed out"}
    (class_dir / "fine" / "rnn.py").write_text("# score: 1\n")  # changed, but not a failure: left alone
    retried = _grade(class_dir, out, grade=fake_grade_v2, retry_failed=True)
    assert retried.graded_now == 1
    assert _scores(retried) == {"fine": 10, "slow": 10}
    assert [(c.name, c.before, c.after, c.applied) for c in retried.regrade] == [("slow", 4, 10, True)]
    assert "--retry-failed" in {s.name: s.note for s in retried.submissions}["fine"]
