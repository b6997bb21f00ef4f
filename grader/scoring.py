"""Scores: specs/grading.yaml, loaded and validated, and the one place a check's outcome becomes points.

An entry's own fields are validated here; ``grader.checks.suite_for`` then matches the suite against the
entries (a check per entry, its settings, its parts) when the assignment loads (grader.assignment).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import __version__
from grader.checks.outcome import WHOLE, Outcome
from grader.intake.prepare import NotGradable
from grader.results import (
    CheckResult,
    Explanation,
    FailureKind,
    LoadFailure,
    SubmissionResult,
    Visibility,
    totals,
)
from grader.sandbox.limits import Limits
from grader.specfile import SpecFile

if TYPE_CHECKING:  # only for the annotations: importing them here would make an import cycle
    from grader.assignment import Assignment

VISIBILITIES = tuple(v.value for v in Visibility)
FIELDS = ("points", "examples", "visibility", "parts")
NOT_RUN = "not run"  # the isolation tier of a submission that never reached the sandbox
# What a difference that is another function's fault alone costs: nothing (forgive) or points (penalize).
CARRIED_ERRORS = ("forgive", "penalize")
# Which cases the full grader draws: the course's, the same for every student, or each student's own
# (grader.secret.student_salt).
PER_COURSE, PER_STUDENT = "per_course", "per_student"
CASES = (PER_COURSE, PER_STUDENT)


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: float
    examples: int
    visibility: Visibility
    parts: dict[str, float]  # empty: the check scores all or nothing
    settings: dict[str, float]  # the numbers the check reads (threshold, ...)

    @property
    def function(self) -> str:
        """The contract function the check tests: a check is named "function: behaviour"."""
        return self.name.split(":", 1)[0]


@dataclass(frozen=True)
class GradingSpec:
    path: Path
    total: float
    floor: float
    checks: dict[str, CheckSpec]
    digest: str
    self_check: bool = False  # the student kit's spec: public checks only, expected values recorded
    hidden_checks: int = 0  # checks the kit leaves out (self_check only)
    hypothesis: str = ""  # the Hypothesis version the kit recorded with (self_check only)
    limits: Limits = field(default_factory=Limits)  # the sandbox's limits while the checks run
    carried_errors: str = CARRIED_ERRORS[0]  # error carried forward: forgive or penalize
    top_level_code_penalty: float = 0.0  # points off when rnn.py had to be graded without its top-level code
    cases: str = PER_COURSE  # PER_COURSE or PER_STUDENT


def load_grading_spec(path: Path) -> GradingSpec:
    """Read grading.yaml; raise SpecError naming the file, the check and the field for anything wrong."""
    spec = SpecFile(path, "grading spec")
    raw = spec.mapping(spec.raw, "top level", ("total", "relative_error_floor", "checks"),
                       ("self_check", "limits", "carried_errors", "top_level_code_penalty", "cases"))
    total = spec.number(raw["total"], "field 'total'")
    floor = spec.number(raw["relative_error_floor"], "field 'relative_error_floor'")
    entries = raw["checks"]
    if not isinstance(entries, dict) or not entries:
        spec.fail("field 'checks'", "expected a mapping from check name to its settings")
    checks = {str(name): _check_spec(spec, str(name), entry) for name, entry in entries.items()}
    points = sum(c.points for c in checks.values())
    if not math.isclose(points, total):
        spec.fail("field 'total'", f"is {total:g} but the checks' points add up to {points:g}")
    penalty = spec.number(raw.get("top_level_code_penalty", 0), "field 'top_level_code_penalty'", positive=False)
    if not 0 <= penalty <= total:
        spec.fail("field 'top_level_code_penalty'", f"must be a number of points from 0 to {total:g}, not {penalty:g}")
    self_check = raw.get("self_check")
    if self_check is not None and (
        not isinstance(self_check, dict) or set(self_check) != {"hidden_checks", "hypothesis"}
        or type(self_check["hidden_checks"]) is not int or self_check["hidden_checks"] < 0
        or not isinstance(self_check["hypothesis"], str)
    ):
        spec.fail("field 'self_check'", "must be a mapping with hidden_checks (a whole number of at least 0) and "
                  "hypothesis (the version the kit was built with)")
    carried = spec.choice(raw.get("carried_errors", CARRIED_ERRORS[0]), "field 'carried_errors'", CARRIED_ERRORS)
    cases = spec.choice(raw.get("cases", PER_COURSE), "field 'cases'", CASES)
    return GradingSpec(spec.path, total, floor, checks, spec.digest, self_check=self_check is not None,
                       hidden_checks=self_check["hidden_checks"] if self_check else 0,
                       hypothesis=self_check["hypothesis"] if self_check else "",
                       limits=_limits(spec, raw.get("limits", {})), carried_errors=carried,
                       top_level_code_penalty=penalty, cases=cases)


def _limits(spec: SpecFile, raw) -> Limits:
    """grading.yaml's ``limits``: any of Limits' fields, positive; the ones left out keep their defaults."""
    kinds = {f.name: f.type for f in dataclasses.fields(Limits)}
    raw = spec.mapping(raw, "field 'limits'", (), tuple(kinds))
    values: dict[str, Any] = {
        name: spec.whole(value, f"field 'limits.{name}'") if kinds[name] == "int"
        else spec.number(value, f"field 'limits.{name}'")
        for name, value in raw.items()
    }
    try:
        return dataclasses.replace(Limits(), **values)
    except ValueError as exc:  # a value of the right type that Limits refuses (wall_factor below 1)
        spec.fail("field 'limits'", str(exc))


def _check_spec(spec: SpecFile, name: str, entry) -> CheckSpec:
    where = f"check {name!r}"
    if ":" not in name:
        spec.fail(where, "a check is named 'function: behaviour'")
    entry = spec.mapping(entry, where, FIELDS[:3], optional=None)
    points = spec.number(entry["points"], f"{where}, field 'points'")
    examples = spec.whole(entry["examples"], f"{where}, field 'examples'")
    visibility = Visibility(spec.choice(entry["visibility"], f"{where}, field 'visibility'", VISIBILITIES))
    settings = {str(k): spec.number(v, f"{where}, field {k!r}") for k, v in entry.items() if k not in FIELDS}
    parts = entry.get("parts", {})
    if not isinstance(parts, dict):
        spec.fail(f"{where}, field 'parts'", "expected a mapping from part name to its points")
    parts = {str(p): spec.number(v, f"{where}, field 'parts.{p}'") for p, v in parts.items()}
    if parts and not math.isclose(sum(parts.values()), points):
        spec.fail(f"{where}, field 'parts'", f"add up to {sum(parts.values()):g}, not the check's {points:g} points")
    return CheckSpec(name, points, examples, visibility, parts, settings)


def check_result(spec: CheckSpec, outcome: Outcome, explanations: Mapping[str, Explanation] | None = None) -> CheckResult:
    """The points for one outcome: all of them if it passed, those of the parts it passed if it failed in
    parts only, else none; with the course's explanation of the mistake it names, if it names one."""
    failed = outcome.failed_parts
    if not failed:
        score = spec.points
    elif WHOLE in failed or not spec.parts:
        score = 0.0
    else:
        score = spec.points - sum(spec.parts[p] for p in failed)
    feedback = outcome.feedback
    if 0 < score < spec.points:
        passed = [p for p in spec.parts if p not in failed]
        failing = ", ".join(p for p in spec.parts if p in failed)
        feedback += f"\nPartial credit: {score:g} of {spec.points:g} points (passed: {', '.join(passed)}; failed: {failing})."
    return CheckResult(
        name=spec.name, function=spec.function, score=round(score, 6), max_score=spec.points,
        visibility=spec.visibility, reason=outcome.reason, feedback=feedback, hint=outcome.hint,
        stopped_by=FailureKind(outcome.stopped_by) if outcome.stopped_by else None, seconds=round(outcome.seconds, 4),
        carried_from=outcome.carried_from, cause=outcome.cause,
        explanation=(explanations or {}).get(outcome.cause) if outcome.cause else None,
    )


def not_graded(name: str, reason: str, assignment: Assignment) -> SubmissionResult:
    """The result of a submission that never reached the sandbox: every check failed, for ``reason``."""
    return _unrun(name, f"The submission could not be graded: {reason}.", FailureKind.refused,
                  "The submission was not run: it was refused before it reached the sandbox.", assignment)


def graded_or_not(name: str, grade: Callable[[], SubmissionResult], assignment: Assignment) -> SubmissionResult:
    """What ``grade()`` returns; a submission with nothing to grade (NotGradable) is a result too, not_graded for
    its reason, while any other exception is the grader's own and the caller's to handle."""
    try:
        return grade()
    except NotGradable as exc:
        return not_graded(name, str(exc), assignment)


def grader_failed(name: str, what: str, assignment: Assignment) -> SubmissionResult:
    """The result of a submission the grader itself failed on (``what``: the failure, one line): no grade, only
    the failure, which the class outputs never turn into a 0 (grader.results.Problem.GRADER_FAILED)."""
    message = (f"The grader itself failed on this submission ({what}), so it has no grade; this is not a fault of "
               "the submission. A rerun grades it again; if the grader fails again, please report it.")
    return _unrun(name, message, FailureKind.grader, "The grader failed before the submission's grading ended.",
                  assignment)


def _unrun(name: str, message: str, kind: FailureKind, description: str, assignment: Assignment) -> SubmissionResult:
    checks = tuple(check_result(entry, Outcome.failed(message)) for entry in assignment.grading.checks.values())
    score, max_score = totals(checks)
    return SubmissionResult(
        name=name, checks=checks, score=score, max_score=max_score, isolation_tier=NOT_RUN,
        isolation_description=description, execution_time=0.0, grader_version=__version__,
        spec_digest=assignment.digest, load_failure=LoadFailure(kind, message),
    )


def penalised(score: float, penalty: float) -> float:
    """The score after a penalty in points (e.g. for top-level code), never below zero."""
    return round(max(0.0, score - penalty), 6)
