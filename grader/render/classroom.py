"""The result for GitHub Classroom's autograding reporter (classroom-resources/autograding-grading-reporter).

The reporter reads each runner step's ``result`` output: base64 of a JSON document with a status, a
max_score and tests, each with a status (pass, fail, error) and a score. It gives GitHub Classroom the
sum of the tests' scores out of max_score, so a check with partial credit counts its points; the
reporter's own log table counts passed tests instead, so it shows less than Classroom records when a
check earned part of its points. It prints the message of erroring tests only; the feedback is in the
message of each failed test, and in full in the pytest output just above it.

Only visible checks are named, with their feedback. The others (a full grader's hidden checks) are one
test, "other checks", with their points and no words.
"""

from __future__ import annotations

from grader.classroom import runner_document, runner_test
from grader.render.gradescope import check_output
from grader.results import PUBLIC, Status, SubmissionResult

OTHER_CHECKS = "other checks"


def runner_result(result: SubmissionResult) -> dict:
    tests = [
        runner_test(c.name, "pass" if c.status == Status.PASSED else "fail", c.score,
                    "" if c.status == Status.PASSED else check_output(c), c.seconds)
        for c in result.checks if c.visibility == PUBLIC
    ]
    others = [c for c in result.checks if c.visibility != PUBLIC]
    if others:
        score = round(sum(c.score for c in others), 6)
        passed = all(c.status == Status.PASSED for c in others)
        tests.append(runner_test(OTHER_CHECKS, "pass" if passed else "fail", score))
    if result.load_failure:
        tests.insert(0, runner_test("rnn.py loads", "error", 0, f"rnn.py could not be loaded: {result.load_failure.message}"))
    status = "pass" if result.score >= result.max_score else "fail"
    return runner_document(tests, result.max_score, status)


NOT_GRADED = "rnn.py graded"


def not_graded_result(why: str, max_score: float) -> dict:
    """Zero points with the reason, for a run that could not grade (no strong sandbox on the runner, a
    process of the submission's that would not end): the reporter prints an erroring test's message."""
    return runner_document([runner_test(NOT_GRADED, "error", 0, f"This push was not graded: {why}")], max_score,
                           "error")
