"""Rerunning a class regrades only what changed (content, grader spec, limits), or everything with force."""

import shutil

import pytest
from shipped_course import shipped

from grader.assignment import load_assignment
from grader.batch.run import grade_class
from grader.sandbox import Limits
from grader.secret import CourseSecret
from grader.specfile import default_spec_dir

from .conftest import make_folder, make_zip
from .fakes import fake_grade

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ASSIGNMENT = shipped()


def _grade(class_dir, out, assignment=ASSIGNMENT, **options):
    return grade_class(class_dir, out, assignment, jobs=1, grade=fake_grade, progress=False, **options)


def _class(class_dir):
    make_folder(class_dir, "alice", "# score: 6\n")
    make_folder(class_dir, "bob", "# score: 3\n")
    make_zip(class_dir, "carol.zip", {"carol/rnn.py": "# score: 1\n"})


def test_a_second_run_regrades_nothing_and_keeps_the_results(class_dir, tmp_path):
    _class(class_dir)
    out = tmp_path / "out"
    first = _grade(class_dir, out)
    assert (first.graded_now, first.reused) == (3, 0)
    second = _grade(class_dir, out)
    assert (second.graded_now, second.reused) == (0, 3)
    assert [(s.name, s.score) for s in second.submissions] == [(s.name, s.score) for s in first.submissions]
    assert all(s.reused for s in second.submissions)


def test_changing_one_submission_regrades_only_that_one(class_dir, tmp_path):
    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out)
    (class_dir / "bob" / "rnn.py").write_text("# score: 5\n")
    (class_dir / "bob" / "helper.py").write_text("")
    again = _grade(class_dir, out)
    assert [s.name for s in again.submissions if not s.reused] == ["bob"]
    assert {s.name: s.score for s in again.submissions}["bob"] == 9


def test_a_new_submission_is_graded_and_a_removed_key_means_regrading(class_dir, tmp_path):
    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out)
    make_folder(class_dir, "dave")
    (out / "alice" / ".grading-key").unlink()  # as an interrupted write would leave it
    again = _grade(class_dir, out)
    assert sorted(s.name for s in again.submissions if not s.reused) == ["alice", "dave"]


def test_a_spec_change_or_new_limits_regrade_everything(class_dir, tmp_path):
    _class(class_dir)
    out = tmp_path / "out"
    spec = tmp_path / "spec"
    shutil.copytree(default_spec_dir(), spec, ignore=shutil.ignore_patterns("__pycache__"))
    _grade(class_dir, out, load_assignment(spec))
    assert _grade(class_dir, out, load_assignment(spec)).graded_now == 0
    grading = spec / "grading.yaml"
    grading.write_text(grading.read_text() + "\n# a threshold was discussed\n")
    assert _grade(class_dir, out, load_assignment(spec)).graded_now == 3
    assert _grade(class_dir, out, load_assignment(spec), limits=Limits(call_seconds=3.0)).graded_now == 3


def test_another_course_secret_or_training_text_regrades_everything(class_dir, tmp_path):
    """Both decide the graded cases or a check's run, though neither is a file of the spec folder."""
    import dataclasses

    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out)
    assert _grade(class_dir, out).graded_now == 0
    assert _grade(class_dir, out, dataclasses.replace(ASSIGNMENT, secret=CourseSecret("another course", None))).graded_now == 3
    text = dataclasses.replace(ASSIGNMENT.text, text=ASSIGNMENT.text.text + " one more sentence.")
    assert _grade(class_dir, out, dataclasses.replace(ASSIGNMENT, text=text)).graded_now == 3


def test_force_regrades_everything(class_dir, tmp_path):
    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out)
    assert _grade(class_dir, out, force=True).graded_now == 3


def test_a_change_to_the_graders_own_code_regrades_everything(class_dir, tmp_path, monkeypatch):
    from grader.batch import keys

    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out)
    monkeypatch.setattr(keys, "code_digest", lambda: "a check was edited")
    assert _grade(class_dir, out).graded_now == 3


def test_results_are_never_written_into_the_class_folder_or_a_submission(class_dir, tmp_path):
    import pytest

    from grader.batch.errors import BatchError

    _class(class_dir)
    for out in (class_dir, class_dir / "alice" / "results"):
        with pytest.raises(BatchError, match="give a separate folder|give a folder outside it"):
            _grade(class_dir, out)
    assert sorted(p.name for p in (class_dir / "alice").iterdir()) == ["rnn.py"]
