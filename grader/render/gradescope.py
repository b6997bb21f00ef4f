"""results.json in the Gradescope autograder format.

Format (Gradescope autograder specifications): top-level score, execution_time, output, visibility,
stdout_visibility, extra_data and tests[]; each test has name, number, score, max_score, status
("passed"/"failed"), output, visibility, tags. Anything of ours goes under extra_data, including the
whole result, so class grading can read it back with SubmissionResult.from_dict.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader.render import GENERATOR
from grader.render.summary import by_function, intake_summary, points
from grader.results import CheckResult, Status, SubmissionResult, Visibility, student_copy

VISIBILITIES = tuple(Visibility)


def to_gradescope(result: SubmissionResult, visibility: str = "visible", stdout_visibility: str = "hidden") -> dict:
    """The results.json document. stdout_visibility is hidden by default: run_autograder's stdout is the
    grader's log for instructors; what students read is in `output` and the tests' outputs."""
    for value in (visibility, stdout_visibility):
        if value not in VISIBILITIES:
            raise ValueError(f"visibility {value!r} is not one of {', '.join(VISIBILITIES)}")
    return _finite(
        {
            "score": result.score,
            "execution_time": result.execution_time,
            "output": summary_text(result),
            "visibility": visibility,
            "stdout_visibility": stdout_visibility,
            "tests": _tests(result),
            "extra_data": {
                "generator": GENERATOR,
                "submission": result.name,
                "max_score": result.max_score,
                "grader_version": result.grader_version,
                "spec_digest": result.spec_digest,
                "isolation_tier": result.isolation_tier,
                "weak_isolation": result.weak_isolation,
                "timings": {k: vars(v) for k, v in result.timings.items()},
                "self_check": result.self_check,
                "result": result.to_dict(),
            },
        }
    )


def render_gradescope_json(result: SubmissionResult, **options: str) -> str:
    return json.dumps(to_gradescope(result, **options), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def results_owner(document: Any) -> str | None:
    """The submission name a parsed results.json was written for, or None if we did not write it."""
    extra = document.get("extra_data") if isinstance(document, dict) else None
    if isinstance(extra, dict) and extra.get("generator") == GENERATOR and isinstance(extra.get("submission"), str):
        return extra["submission"]
    return None


def summary_text(result: SubmissionResult) -> str:
    """The submission-wide message Gradescope shows students above the tests: the visible checks only (the
    hidden ones are Gradescope's to show, with their own visibility) and nothing on how the code was run."""
    shown = student_copy(result)
    not_shown = len(result.checks) - len(shown.checks)
    label = "Score on the visible checks" if not_shown else "Score"
    lines = [f"{label}: {points(shown.score)} / {points(shown.max_score)}."]
    if result.self_check:
        lines.append(f"Self-check: public checks only; {result.hidden_checks_not_run} hidden checks not run.")
    reading = intake_summary(result)
    lines += [*reading.notes, *(f"Warning: {w}" for w in reading.warnings)]
    if reading.skipped:
        lines.append("\n".join([reading.skipped_title, *(f"  {s}" for s in reading.skipped)]))
    if result.load_failure:
        lines.append(f"No function could be checked:\n{result.load_failure.message}")
    if result.banner:
        lines.append(f"Some functions could not be checked:\n{result.banner}")
    failed = [c for c in shown.checks if c.status is not Status.PASSED]
    if shown.checks:
        lines.append(f"{len(shown.checks) - len(failed)} of {len(shown.checks)} visible checks passed.")
    if not_shown:
        lines.append(f"{not_shown} more checks count towards your grade; their results are not shown here.")
    return "\n".join(lines)


def _tests(result: SubmissionResult) -> list[dict]:
    tests = []
    for f_number, fn in enumerate(by_function(result), start=1):
        for c_number, check in enumerate(fn.checks, start=1):
            tests.append(
                {
                    "name": check.name,
                    "number": f"{f_number}.{c_number}",
                    "score": check.score,
                    "max_score": check.max_score,
                    "status": check.status.value,
                    "output": check_output(check),
                    "visibility": check.visibility.value,
                    "tags": [check.function, *([check.stopped_by.value] if check.stopped_by else [])],
                }
            )
    return tests


def check_output(check: CheckResult) -> str:
    """The feedback (which restates the reason with the case in full) and the hint; the one-line reason only
    where there is no feedback."""
    parts = []
    if check.status is not Status.PASSED and check.reason and not check.feedback:
        parts.append(check.reason)
    if check.feedback:
        parts.append(check.feedback)
    if check.hint and check.hint not in check.feedback:
        parts.append(f"Hint: {check.hint}")
    return "\n\n".join(parts)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers (e.g. a relative error of a diverged run) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
