"""Grouping a result's checks by contract function, for the renderers that show a per-function table.

This only adds up the points scoring already gave each check; the total shown is always result.score.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.results import CheckResult, Status, SubmissionResult


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    checks: tuple[CheckResult, ...]

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def passed(self) -> int:
        return sum(c.status is Status.PASSED for c in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is not Status.PASSED)


def by_function(result: SubmissionResult) -> list[FunctionSummary]:
    """Functions in the order their first check appears (the grading's order), each with its checks."""
    order: dict[str, list[CheckResult]] = {}
    for check in result.checks:
        order.setdefault(check.function, []).append(check)
    return [FunctionSummary(name, tuple(checks)) for name, checks in order.items()]


def shared_reason(result: SubmissionResult) -> str:
    """The reason every failed check gives, when more than one fails and all for it ("" otherwise): a submission
    that could not be loaded fails its 34 checks for that one reason, which a renderer says once."""
    failed = [c.reason for c in result.checks if c.status is not Status.PASSED]
    return failed[0] if len(failed) > 1 and len(set(failed)) == 1 else ""


def points(value: float) -> str:
    """Points as a student reads them: 2, 1.5, 0.25 (no trailing zeros)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class IntakeSummary:
    """What every renderer says about how the upload was read (grader.intake decided it all)."""

    warnings: tuple[str, ...]  # the top-level-code warning and its penalty
    notes: tuple[str, ...]  # which file was graded, when that was a choice
    skipped_title: str  # "" when nothing was left out
    skipped: tuple[str, ...]  # one line per cell or statement left out


def intake_summary(result: SubmissionResult) -> IntakeSummary:
    intake = result.intake
    warnings: tuple[str, ...] = (intake.warning,) if intake.warning else ()
    if intake.penalty:
        warnings += (f"{points(intake.penalty)} points were taken off for the code at the top level "
                     "(the course's grading rules).",)
    title = ""
    if intake.skipped:
        title = f"Left out of {intake.file} (the grader did not run these):"
    return IntakeSummary(warnings, intake.notes, title, intake.skipped)
