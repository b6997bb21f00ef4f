"""Gradescope's side of the grader: grade whatever was uploaded and answer with a results.json, unless the grader failed.

    python -m grader.autograder SUBMISSION_DIR RESULTS_DIR

run_autograder calls this (``python -I``: the grader installed in the image's venv, never a folder
of the current directory). Students upload rnn.py, RNN.py, "rnn (1).py", a notebook, a zip, two copies in
two folders, or nothing: grader.intake finds the most plausible file and says which; an upload with
nothing to grade gets 0 points and one line saying what to upload. Everything goes to this
program's stdout, which Gradescope shows to instructors only.

If the grader itself fails (an exception of its own: a bug, a malformed spec, a sandbox that could not start,
SandboxError or SandboxUnavailable, so that no code of the submission's ran), the submission has no grade,
not a 0: no results.json is left (Gradescope's troubleshooting page: without a valid results.json the
submission shows "The autograder failed to execute correctly" and gets no score), the traceback and what to
do go to stdout, and the exit status is ExitCode.GRADER_FAILED. Staff fix the cause and use Regrade. What the
submission does (a syntax error, a crash, a hang, killing its own worker) and an upload with nothing to grade
are results the grader makes, never exceptions of its own: they keep their results.json and score.

What students can read (results.json's output and tests) holds the visible checks' feedback only; the
hidden checks' feedback goes to this program's stdout, the instructor's log, since Gradescope hands every
earlier results.json back to later uploads (submission_metadata.json's previous_submissions).

Under per-student cases (grading.yaml ``cases: per_student``) the cases are the submitter's own, drawn for
their Gradescope user ID as /autograder/submission_metadata.json gives it (``users[].id``, which stays
the same for an account across uploads and "Regrade all submissions"; a group's IDs together, sorted, so
the group keeps its cases whoever uploads). Without that file the course's cases are used, and the log
says so.
"""

from __future__ import annotations

import json
import sys
import textwrap
import traceback
from pathlib import Path

from grader.assignment import Assignment, match_suite, read_assignment
from grader.boxes import GradingSandboxes
from grader.errors import ExitCode
from grader.outputs import RESULTS, write_outputs
from grader.render.gradescope import check_output
from grader.render.summary import points
from grader.render.terminal import make_console, render_terminal
from grader.results import Status, SubmissionResult, Visibility
from grader.sandbox import Policy
from grader.scoring import graded_or_not

METADATA = "submission_metadata.json"  # Gradescope's, beside the submission folder
MAX_METADATA_BYTES = 16 * 1024 * 1024
# The log's last word when the grader failed: what Gradescope shows, and what staff do about it.
NO_GRADE = ("The grader itself failed (the traceback above); this is not the submission's doing. No results.json "
            "was written, so Gradescope shows this submission as 'The autograder failed to execute correctly', "
            "with no score, rather than a 0. Fix the cause, then Regrade the submission (or Regrade all "
            "submissions).")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m grader.autograder SUBMISSION_DIR RESULTS_DIR", file=sys.stderr)
        return 2
    submission, results = Path(argv[0]), Path(argv[1])
    console = make_console()
    try:
        result, outputs = _graded(submission, results)
    except Exception:  # noqa: BLE001 - the grader's own failure, whatever it is: no grade, never a 0
        traceback.print_exc(file=sys.stdout)
        try:  # a results.json of this run's before a later output failed: not a whole grading, so no grade
            (results / RESULTS).unlink(missing_ok=True)
        except OSError as exc:
            print(f"{results / RESULTS} could not be removed ({exc.strerror or exc}): delete it before Gradescope reads it")
        print(NO_GRADE, flush=True)
        return ExitCode.GRADER_FAILED
    try:
        render_terminal(result, console, outputs)
        print_other_checks(result, console)
    except Exception:  # noqa: BLE001 - the grade is written whole; only this log is short
        traceback.print_exc(file=sys.stdout)
        print(f"The grade in {results / RESULTS} stands: it was written whole before this log failed.")
    return ExitCode.OK


def _graded(submission: Path, results: Path) -> tuple[SubmissionResult, dict[str, Path]]:
    """Grade the upload and write its outputs; an upload with nothing to grade is a result (0 points and what to
    upload), and any exception is the grader's own failure."""
    assignment = read_assignment()  # the course's spec, shipped in the autograder bundle
    # The first workers start while the checks are imported (grader.boxes), as on the command line.
    with GradingSandboxes.make(assignment, None, Policy.strict).start() as sandboxes:
        assignment = match_suite(assignment)
        from grader.grading import grade_submission

        if assignment.secret and assignment.secret.made:  # setup.sh makes it; this container should not
            print(assignment.secret.made_now)
        if assignment.per_student:
            assignment = _for_submitter(assignment, submission.parent / METADATA)
        result = graded_or_not("submission", lambda: grade_submission(submission, assignment, sandboxes=sandboxes),
                               assignment)
    return result, write_outputs(result, results)


def print_other_checks(result: SubmissionResult, console) -> None:
    """The checks students do not see (hidden, after the due date), with their feedback, for the log."""
    others = [c for c in result.checks if c.visibility is not Visibility.VISIBLE]
    if not others or result.load_failure:
        return
    console.print("Checks not shown to students (this log is the instructor's):", markup=False, highlight=False)
    for check in others:
        console.print(f"  {check.status.value.upper():6} {points(check.score)} / {points(check.max_score)}  "
                      f"{check.name} [{check.visibility.value}]", markup=False, highlight=False, soft_wrap=True)
        if check.status is not Status.PASSED and (feedback := check_output(check)):
            console.print(textwrap.indent(feedback, "      "), markup=False, highlight=False, soft_wrap=True)


def _for_submitter(assignment: Assignment, metadata: Path) -> Assignment:
    """The assignment with the submitter's own cases; the course's when the metadata names nobody (said in
    the log, which only instructors see)."""
    try:
        student = gradescope_submitters(metadata)
    except ValueError as exc:
        print(f"Per-student cases: {exc}; graded with the course's cases instead.")
        return assignment
    print(f"Per-student cases: grading with the cases of Gradescope user {student}.")
    return assignment.for_student(student)


def gradescope_submitters(metadata: Path) -> str:
    """The submitters' Gradescope user IDs from Gradescope's submission metadata (``users``: a list of
    {"id", "name", "email"}), sorted and joined by " & "; ValueError says why there are none."""
    try:
        with metadata.open("rb") as f:
            raw = f.read(MAX_METADATA_BYTES + 1)
        if len(raw) > MAX_METADATA_BYTES:
            raise ValueError(f"{metadata} is larger than {MAX_METADATA_BYTES // 1024**2} MiB")
        data = json.loads(raw)
    except FileNotFoundError:
        raise ValueError(f"there is no {metadata}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{metadata} cannot be read as Gradescope's metadata ({exc})") from None
    users = data.get("users") if isinstance(data, dict) else None
    ids = sorted({str(user["id"]).strip() for user in users or ()
                  if isinstance(user, dict) and user.get("id") is not None} - {""})
    if not ids:
        raise ValueError(f"{metadata} names no user (no users[].id)")
    return " & ".join(ids)


if __name__ == "__main__":
    raise SystemExit(main())
