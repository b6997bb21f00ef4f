"""Per-student cases (grading.yaml `cases: per_student`): each student's own, the same on every run, off by default."""

import json
import shutil
from pathlib import Path

import pytest

from grader import autograder, cli
from grader.assignment import load_assignment
from grader.grading import grade_submission
from grader.kit.overlap import call_inputs
from grader.lms.identity import case_identity
from grader.results import StudentIdentity
from grader.scoring import PER_COURSE, PER_STUDENT
from grader.specfile import SpecError

ROOT = Path(__file__).resolve().parents[2]
SHARED_AT_MOST = 0.05  # of one student's call inputs, sent by another student's grading too


def test_the_shipped_specs_draw_the_courses_cases_for_everyone():
    for spec in (None, "mean-adam"):
        assignment = load_assignment(spec)
        assert assignment.grading.cases == PER_COURSE and not assignment.per_student
        assert assignment.for_student("alice") is assignment
        assert assignment.case_salt == assignment.course_secret


def test_an_unknown_cases_setting_is_one_clear_error(per_student_spec):
    grading = per_student_spec / "grading.yaml"
    grading.write_text(grading.read_text().replace("cases: per_student", "cases: per_group"))
    with pytest.raises(SpecError, match=r"grading.yaml: field 'cases': must be one of per_course, per_student, not 'per_group'"):
        load_assignment(per_student_spec)


def test_each_student_has_a_salt_of_their_own_that_reveals_neither_the_secret_nor_the_name(per_student_spec):
    assignment = load_assignment(per_student_spec)
    assert assignment.grading.cases == PER_STUDENT
    alice, bob = assignment.for_student("Alice Smith"), assignment.for_student("bob")
    assert alice.case_salt == assignment.for_student("  alice   SMITH ").case_salt  # one student, however typed
    assert len({alice.case_salt, bob.case_salt, assignment.course_secret}) == 3
    for salt in (alice.case_salt, bob.case_salt):
        assert assignment.course_secret not in salt and "alice" not in salt.lower()
    assert assignment.for_student("").case_salt == assignment.course_secret  # nobody named: the course's


def test_the_class_runs_identity_is_the_lms_id_not_the_download_name_which_changes_on_every_upload():
    canvas = StudentIdentity(name="quistrita", student_id="1001", source="canvas")
    assert case_identity(canvas, "quistrita_1001_54321_rnn") == case_identity(canvas, "quistrita_late_1001_60000_rnn") == "1001"
    group = StudentIdentity(student_id="s2 & s1", source="gradescope")
    assert case_identity(group, "submission_1") == case_identity(StudentIdentity(student_id="s1 & s2"), "x") == "s1 & s2"
    assert case_identity(StudentIdentity(email="rq@example.org"), "folder") == "rq@example.org"
    assert case_identity(StudentIdentity(name="alice"), "alice") == "alice"  # nothing else known: the entry's name


def _graded(submission: Path, assignment) -> tuple[set[str], list[tuple]]:
    """The digests of the calls a grading sent, and what it told the student (scores, reasons, feedback, hints)."""
    with call_inputs() as sent:
        result = grade_submission(submission, assignment, diagnostics=False)
    return sent, [(c.name, c.score, c.reason, c.feedback, c.hint) for c in result.checks]


@pytest.mark.slow  # three whole gradings
def test_two_students_get_different_cases_and_one_student_the_same_cases_and_messages_every_time(per_student_spec):
    assignment = load_assignment(per_student_spec)
    submission = ROOT / "submissions" / "bug_no_bptt"  # fails checks, so the messages quote the cases
    alice_sent, alice_told = _graded(submission, assignment.for_student("alice"))
    again_sent, again_told = _graded(submission, assignment.for_student("alice"))
    bob_sent, bob_told = _graded(submission, assignment.for_student("bob"))
    assert alice_sent == again_sent and alice_told == again_told
    assert len(alice_sent & bob_sent) <= SHARED_AT_MOST * len(alice_sent), f"{len(alice_sent & bob_sent)} of {len(alice_sent)}"
    assert [t[3] for t in alice_told] != [t[3] for t in bob_told]  # the smallest failing cases differ
    assert [t[1] for t in alice_told] == [t[1] for t in bob_told]  # the same bug loses the same points


@pytest.mark.slow  # reads the session's grading of alice (graded_example)
def test_with_the_default_setting_alice_scores_100_whoever_she_is_said_to_be(graded_example):
    """Under per-course cases for_student leaves the course's assignment as it is, so alice's grading is the
    course's grading of her (the session's, tests/conftest.py graded_example) whoever she is said to be."""
    assignment = load_assignment()
    assert not assignment.per_student
    assert all(assignment.for_student(who) is assignment for who in ("", "alice", "bob"))
    assert graded_example("alice").score == 100


def _metadata(root: Path, users) -> Path:
    (root / "submission").mkdir(parents=True)
    shutil.copyfile(ROOT / "submissions" / "alice" / "rnn.py", root / "submission" / "rnn.py")
    if users is not None:
        (root / autograder.METADATA).write_text(json.dumps({"id": 123456, "users": users}))
    return root / "submission"


@pytest.fixture
def salts_graded(monkeypatch):
    """The case salt each grading ran under (the grading itself is not needed to know whose cases they are)."""
    salts = []

    def grade(path, assignment, **options):
        salts.append(assignment.case_salt)
        raise RuntimeError("stop here: the salt is what this test is about")

    monkeypatch.setattr("grader.grading.grade_submission", grade)
    return salts


def test_the_autograder_draws_the_submitters_cases_from_gradescopes_metadata(tmp_path, per_student_spec, monkeypatch,
                                                                              salts_graded, capsys):
    assignment = load_assignment(per_student_spec)
    monkeypatch.setattr(autograder, "read_assignment", lambda: assignment)
    alone = _metadata(tmp_path / "a", [{"email": "s@example.org", "id": 1234, "name": "Student User"}])
    group = _metadata(tmp_path / "b", [{"id": 99}, {"id": 1234}])
    regrouped = _metadata(tmp_path / "c", [{"id": 1234}, {"id": 99}])
    nobody = _metadata(tmp_path / "d", None)
    for submission in (alone, group, regrouped, nobody):
        autograder.main([str(submission), str(submission.parent / "results")])
    assert salts_graded == [assignment.for_student("1234").case_salt, assignment.for_student("1234 & 99").case_salt,
                            assignment.for_student("1234 & 99").case_salt, assignment.course_secret]
    log = capsys.readouterr().out  # run_autograder's stdout: instructors only
    assert "grading with the cases of Gradescope user 1234." in log
    assert f"there is no {tmp_path / 'd' / autograder.METADATA}; graded with the course's cases instead." in log


def test_gradescopes_metadata_without_users_names_nobody(tmp_path):
    path = tmp_path / autograder.METADATA
    for document in ("{}", '{"users": []}', '{"users": [{"name": "no id"}]}', "[1, 2]"):
        path.write_text(document)
        with pytest.raises(ValueError, match="names no user"):
            autograder.gradescope_submitters(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot be read as Gradescope's metadata"):
        autograder.gradescope_submitters(path)


def test_the_command_line_grades_one_student_with_student_and_says_once_when_it_is_missing(
        tmp_path, per_student_spec, salts_graded, capsys):
    assignment = load_assignment(per_student_spec)
    submission = ROOT / "submissions" / "alice"
    common = [str(submission), "--spec", str(per_student_spec), "--out", str(tmp_path / "out")]
    with pytest.raises(RuntimeError):
        cli.main([*common, "--student", "Alice"])
    assert "warning" not in capsys.readouterr().out
    with pytest.raises(RuntimeError):
        cli.main(common)
    warned = " ".join(capsys.readouterr().out.split())
    assert salts_graded == [assignment.for_student("alice").case_salt, assignment.course_secret]
    assert warned.count("no --student was given: graded with the course's cases") == 1


def test_student_with_the_courses_cases_changes_nothing_and_says_so(tmp_path, salts_graded, capsys):
    with pytest.raises(RuntimeError):
        cli.main([str(ROOT / "submissions" / "alice"), "--student", "alice", "--out", str(tmp_path / "out")])
    assert salts_graded == [load_assignment().course_secret]
    assert "--student changes nothing" in " ".join(capsys.readouterr().out.split())
