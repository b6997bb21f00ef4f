"""A class run under per-student cases: each student graded under their own salt, found from a stable identity,
and a stored result reused only under the salt it was graded with."""

import dataclasses
import hashlib

from grader.assignment import load_assignment
from grader.batch.run import grade_class
from grader.batch.store import previous_result
from grader.batch.workflow import ClassWorkflow
from grader.results import StudentIdentity

from .conftest import make_folder, make_zip
from .fakes import fake_grade


def salt_grade(path, assignment, **options):
    """fake_grade, with a digest of the salt the cases would be drawn under as the first check's feedback."""
    result = fake_grade(path, assignment, **options)
    first = dataclasses.replace(result.checks[0], feedback=_digest(assignment.case_salt))
    return dataclasses.replace(result, checks=(first, *result.checks[1:]))


def _digest(salt: str) -> str:
    return hashlib.sha256(salt.encode()).hexdigest()[:16]


def _grade(class_dir, out, assignment, **options):
    return grade_class(class_dir, out, assignment, jobs=1, grade=salt_grade, progress=False,
                       workflow=options.pop("workflow", ClassWorkflow(similarity=False)), **options)


def _salts(out, names) -> dict[str, str]:
    return {name: previous_result(out, name).checks[0].feedback for name in names}


def _class(class_dir):
    make_folder(class_dir, "alice")
    make_folder(class_dir, "bob")
    make_zip(class_dir, "quistrita_1001_54321_rnn.zip", {"rnn.py": "# score: 2\n"})


def test_each_student_is_graded_under_their_own_salt_and_a_rerun_reuses_every_result(class_dir, tmp_path, per_student_spec):
    assignment = load_assignment(per_student_spec)
    _class(class_dir)
    out = tmp_path / "out"
    assert _grade(class_dir, out, assignment).graded_now == 3
    names = ("alice", "bob", "quistrita_1001")
    # The Canvas download is graded for the Canvas user ID in its name, not for the name itself.
    assert _salts(out, names) == {name: _digest(assignment.for_student(who).case_salt)
                                  for name, who in zip(names, ("alice", "bob", "1001"))}
    assert len(set(_salts(out, names).values())) == 3
    assert _grade(class_dir, out, assignment).graded_now == 0


def test_a_re_upload_under_a_new_canvas_file_name_keeps_the_students_cases(class_dir, tmp_path, per_student_spec):
    assignment = load_assignment(per_student_spec)
    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out, assignment)
    before = _salts(out, ["quistrita_1001"])
    (class_dir / "quistrita_1001_54321_rnn.zip").rename(class_dir / "quistrita_late_1001_60000_rnn.zip")
    again = _grade(class_dir, out, assignment)
    # The same student and content: the same results folder, and nothing to grade again.
    assert [s.name for s in again.submissions] == ["alice", "bob", "quistrita_1001"] and again.graded_now == 0
    assert _salts(out, ["quistrita_1001"]) == before


def test_a_student_whose_identity_changes_is_regraded_under_the_new_salt_and_no_one_else(class_dir, tmp_path, per_student_spec):
    assignment = load_assignment(per_student_spec)
    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out, assignment)
    mapped = ClassWorkflow(similarity=False, mapping={"bob": StudentIdentity(student_id="s-7", source="mapping file")})
    again = _grade(class_dir, out, assignment, workflow=mapped, accept_regrade=True)
    assert [s.name for s in again.submissions if not s.reused] == ["bob"]
    assert _salts(out, ["bob"]) == {"bob": _digest(assignment.for_student("s-7").case_salt)}


def test_with_the_default_setting_every_student_gets_the_courses_cases(class_dir, tmp_path):
    assignment = load_assignment()
    _class(class_dir)
    out = tmp_path / "out"
    _grade(class_dir, out, assignment)
    assert set(_salts(out, ("alice", "bob", "quistrita_1001")).values()) == {_digest(assignment.course_secret)}
