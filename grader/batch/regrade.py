"""What a regrade changes: a submission's previous result against its new one.

A submission is regraded with the same content when the grader, the spec or the limits changed (or with
--force, or --retry-failed). Its new result replaces the old one at once only if the grade is the same;
otherwise the change is listed and the new result held back (staged in DIR/.regrade/<name>/), so the
instructor sees who changes and by how much before anything is overwritten. --accept-regrade then puts
the held results in place without grading again.
"""

from __future__ import annotations

from grader.batch.stats import problem_of
from grader.results import CheckChange, RegradeChange, SubmissionResult

STAGING = ".regrade"


def change(name: str, before: SubmissionResult, after: SubmissionResult, *, cause: str) -> RegradeChange | None:
    """How `after` differs from `before` in points or problem; None when the grade is the same."""
    old = {c.name: c.score for c in before.checks}
    new = {c.name: c.score for c in after.checks}
    checks = tuple(
        CheckChange(check, old.get(check), new.get(check))
        for check in [*new, *(c for c in old if c not in new)]
        if old.get(check) != new.get(check)
    )
    problem_before, problem_after = problem_of(before)[0], problem_of(after)[0]
    if not checks and before.score == after.score and problem_before == problem_after:
        return None
    return RegradeChange(name, before.score, after.score, checks, problem_before, problem_after, cause=cause)
