"""Gradescope's side of the grader: grade whatever was uploaded, and always answer with a results.json.

    python -m grader.autograder SUBMISSION_DIR RESULTS_DIR

run_autograder calls this (``python -I``: the grader installed in the image's venv, never a folder
of the current directory). Students upload rnn.py, RNN.py, "rnn (1).py", a notebook, a zip, two copies in
two folders, or nothing: grader.intake finds the most plausible file and says which; an upload with
nothing to grade gets 0 points and one line saying what to upload. If the grader itself fails, the
student gets 0 points and a message saying it is not their fault, and the traceback goes to this
program's stdout, which Gradescope shows to instructors only.

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

from grader.assignment import Assignment, load_assignment
from grader.grading import grade_submission
from grader.intake import NotGradable
from grader.outputs import RESULTS, write_atomically, write_outputs
from grader.render.gradescope import check_output
from grader.render.summary import points
from grader.render.terminal import make_console, render_terminal
from grader.results import Status, SubmissionResult, Visibility
from grader.scoring import not_graded

METADATA = "submission_metadata.json"  # Gradescope's, beside the submission folder
MAX_METADATA_BYTES = 16 * 1024 * 1024
CRASHED = ("the autograder itself failed while grading it (not a fault in your code); your instructor "
           "can see the details in the autograder's log, and a resubmission is graded afresh")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m grader.autograder SUBMISSION_DIR RESULTS_DIR", file=sys.stderr)
        return 2
    submission, results = Path(argv[0]), Path(argv[1])
    console = make_console()
    try:
        assignment = load_assignment()  # the course's spec, shipped in the autograder bundle
        if assignment.secret and assignment.secret.made:  # setup.sh makes it; this container should not
            print(assignment.secret.made_now)
        if assignment.per_student:
            assignment = _for_submitter(assignment, submission.parent / METADATA)
        try:
            result = grade_submission(submission, assignment)
        except NotGradable as exc:
            result = not_graded("submission", str(exc), assignment)
        outputs = write_outputs(result, results)
        render_terminal(result, console, outputs)
        print_other_checks(result, console)
    except Exception:  # noqa: BLE001 - Gradescope must get an answer whatever went wrong
        traceback.print_exc(file=sys.stdout)
        _answer_anyway(results)
    return 0


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


def _answer_anyway(results: Path) -> None:
    """0 points and the message, with as little of the grader as possible (it has just failed)."""
    try:
        write_outputs(not_graded("submission", CRASHED, load_assignment()), results)
        return
    except Exception:  # noqa: BLE001 - the spec or the renderers may be what failed
        traceback.print_exc(file=sys.stdout)
    results.mkdir(parents=True, exist_ok=True)
    document = {"score": 0, "output": f"The submission could not be graded: {CRASHED}.", "output_format": "text",
                "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
    write_atomically(results / RESULTS, json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
