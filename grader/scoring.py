"""Scores: specs/grading.yaml, loaded and validated, and the one place a check's outcome becomes points."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.checks import CHECKS, Check
from grader.checks.core import WHOLE, Outcome
from grader.contract import SpecError, default_spec_dir
from grader.results import CheckResult

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
FIELDS = ("points", "examples", "visibility", "parts")
PUBLIC = "visible"


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: float
    examples: int
    visibility: str
    parts: dict[str, float]  # empty: the check scores all or nothing
    settings: dict[str, float]  # the numbers the check reads (threshold, ...)


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


def load_grading_spec(spec_dir: Path | None = None, checks: tuple[Check, ...] = CHECKS) -> GradingSpec:
    """Read grading.yaml; raise SpecError naming the file, the check and the field for anything wrong."""
    path = (spec_dir or default_spec_dir()) / "grading.yaml"
    try:
        raw_text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(raw_text)
    except FileNotFoundError:
        raise SpecError(f"no grading spec at {path}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML: {exc}") from None

    def fail(where: str, problem: str):
        raise SpecError(f"{path}: {where}: {problem}")

    if not isinstance(raw, dict):
        fail("top level", "expected a mapping with total, relative_error_floor and checks")
    unknown = set(raw) - {"total", "relative_error_floor", "checks", "self_check"}
    if unknown:
        fail("top level", f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    total = _number(raw.get("total"), lambda p: fail("field 'total'", p))
    floor = _number(raw.get("relative_error_floor"), lambda p: fail("field 'relative_error_floor'", p))
    entries = raw.get("checks")
    if not isinstance(entries, dict):
        fail("field 'checks'", "expected a mapping from check name to its settings")
    known = {c.name: c for c in checks}
    if unknown := [n for n in entries if n not in known]:
        fail(f"check {unknown[0]!r}", "no such check in the suite (grader.checks)")
    if missing := [n for n in known if n not in entries]:
        fail(f"check {missing[0]!r}", "missing: every check of the suite needs an entry")

    specs = {}
    for name, check in known.items():
        specs[name] = _check_spec(check, entries[name], lambda field, problem, name=name: fail(f"check {name!r}, field {field!r}", problem))
    points = sum(s.points for s in specs.values())
    if not math.isclose(points, total):
        fail("field 'total'", f"is {total:g} but the checks' points add up to {points:g}")
    self_check = raw.get("self_check")
    if self_check is not None and (
        not isinstance(self_check, dict) or set(self_check) != {"hidden_checks", "hypothesis"}
        or type(self_check["hidden_checks"]) is not int or self_check["hidden_checks"] < 0
        or not isinstance(self_check["hypothesis"], str)
    ):
        fail("field 'self_check'", "must be a mapping with hidden_checks (a whole number of at least 0) and "
             "hypothesis (the version the kit was built with)")
    return GradingSpec(path, total, floor, specs, hashlib.sha256(raw_text.encode()).hexdigest()[:16],
                       self_check=self_check is not None, hidden_checks=self_check["hidden_checks"] if self_check else 0,
                       hypothesis=self_check["hypothesis"] if self_check else "")


def _check_spec(check: Check, entry, fail) -> CheckSpec:
    if not isinstance(entry, dict):
        fail("(entry)", "expected a mapping with points, examples and visibility")
    for field in entry:
        if field not in FIELDS and field not in check.settings:
            expected = ", ".join(FIELDS[:3] + check.settings + (("parts",) if check.parts else ()))
            fail(field, f"unknown for this check (its fields: {expected})")
    for field in FIELDS[:3] + check.settings:
        if field not in entry:
            fail(field, "missing")
    points = _number(entry["points"], lambda p: fail("points", p))
    examples = entry["examples"]
    if type(examples) is not int or examples < 1:
        fail("examples", f"must be a whole number of at least 1, not {examples!r}")
    if entry["visibility"] not in VISIBILITIES:
        fail("visibility", f"must be one of {', '.join(VISIBILITIES)}, not {entry['visibility']!r}")
    settings = {key: _number(entry[key], lambda p, key=key: fail(key, p)) for key in check.settings}
    parts = entry.get("parts", {})
    if parts or check.parts:
        if not isinstance(parts, dict) or set(parts) != set(check.parts):
            fail("parts", f"must give points to exactly the parts {', '.join(check.parts)}")
        parts = {p: _number(v, lambda problem, p=p: fail(f"parts.{p}", problem)) for p, v in parts.items()}
        if not math.isclose(sum(parts.values()), points):
            fail("parts", f"add up to {sum(parts.values()):g}, not the check's {points:g} points")
    return CheckSpec(check.name, points, examples, entry["visibility"], parts, settings)


def _number(value, fail) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        fail(f"must be a positive number, not {value!r}")
    return float(value)


def check_result(check: Check, spec: CheckSpec, outcome: Outcome) -> CheckResult:
    """The points for one outcome: all of them if it passed, those of the parts it passed if it failed in
    parts only, else none."""
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
        feedback += f"\nPartial credit: {score:g} of {spec.points:g} points (passed: {', '.join(passed)}; failed: {', '.join(p for p in spec.parts if p in failed)})."
    return CheckResult(
        name=check.name, function=check.function, score=round(score, 6), max_score=spec.points,
        visibility=spec.visibility, reason=outcome.reason, feedback=feedback, hint=outcome.hint,
        tags=(outcome.stopped_by,) if outcome.stopped_by else (), seconds=round(outcome.seconds, 4),
    )


def totals(results: tuple[CheckResult, ...]) -> tuple[float, float]:
    return round(sum(r.score for r in results), 6), round(sum(r.max_score for r in results), 6)
