"""results.json in the Gradescope autograder format.

Format (Gradescope autograder specifications): top-level score, execution_time, output (with its
output_format), visibility, stdout_visibility, extra_data and tests[]; each test has name, number, score,
max_score, status ("passed"/"failed"), output, visibility, tags.

Nothing hidden goes in: Gradescope hands a submission's earlier results.json back to later ones (in
submission_metadata.json, beside the upload), so whatever is here may reach a student's code. The top-level
output is the student's report in brief (visible checks only, rendered as HTML, which Gradescope shows);
a check that is not visible carries its score and no feedback; extra_data carries the student's copy of
the result. The whole result, hidden checks' feedback and output included, is written only to the
instructor's files (grader.outputs: results-instructor.json and report-instructor.html) and the
autograder's log.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader.render import GENERATOR
from grader.render.jinja import environment
from grader.render.summary import by_function, intake_summary
from grader.results import (
    WEAK_SANDBOX,
    CheckResult,
    Status,
    SubmissionResult,
    TrainingRun,
    Visibility,
    student_copy,
)

VISIBILITIES = tuple(Visibility)
HTML = "html"  # Gradescope renders it (sanitised); everything from the submission is escaped by jinja2
TEXT = "text"
SAMPLE_CHARS = 2000  # of each sampled text shown (the passage is 1000 characters by default)

_env = environment(relerr=lambda v: "not computed" if v is None else f"{v:.2e}")


def to_gradescope(result: SubmissionResult, visibility: str = "visible", stdout_visibility: str = "hidden") -> dict:
    """The results.json document. stdout_visibility is hidden by default: run_autograder's stdout is the
    grader's log for instructors; what students read is in `output` and the tests' outputs."""
    for value in (visibility, stdout_visibility):
        if value not in VISIBILITIES:
            raise ValueError(f"visibility {value!r} is not one of {', '.join(VISIBILITIES)}")
    shown = student_copy(result)
    return finite(
        {
            "score": result.score,
            "execution_time": result.execution_time,
            "output": summary_html(result),
            "output_format": HTML,
            "test_output_format": TEXT,
            "test_name_format": TEXT,
            "visibility": visibility,
            "stdout_visibility": stdout_visibility,
            # Nothing could be checked: one message at the top, not the same one in every test.
            "tests": [] if result.load_failure else _tests(result),
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
                "result": shown.to_dict(),  # the student's copy: no hidden check, nothing printed while they ran
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


def summary_html(result: SubmissionResult) -> str:
    """The submission-wide message Gradescope shows students above the tests: the report's essentials (score
    per function, the gradient table, the training run beside the reference's, sampled text) for the visible
    checks only, and nothing on how the code was run."""
    shown = student_copy(result)
    diagnostics = result.diagnostics
    return _env.get_template("gradescope.html.j2").render(
        result=shown,
        not_shown=len(result.checks) - len(shown.checks),
        functions=by_function(shown),
        reading=intake_summary(result),
        passed=Status.PASSED,
        weak_sandbox=WEAK_SANDBOX if result.weak_isolation else "",
        gradients=diagnostics.gradients if diagnostics else None,
        training=training_summary(diagnostics.training) if diagnostics else None,
        sample_chars=SAMPLE_CHARS,
    )


def training_summary(run: TrainingRun) -> dict[str, Any]:
    """The run and its smooth loss at the start, at the end and at its lowest, the submission's beside the
    reference's (read off the curves the diagnostics recorded)."""
    rows = []
    for label, pick in (("after the first update", lambda c: c[0]), ("after the last update", lambda c: c[-1]),
                        ("lowest", min)):
        mine, ref = run.submission_smooth_loss, run.reference_smooth_loss
        rows.append((label, pick(mine) if mine else None, pick(ref) if ref else None))
    return {"run": run, "rows": rows if run.submission_smooth_loss or run.reference_smooth_loss else []}


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
                    # A check that is not visible keeps its feedback (its inputs, the code's answers and
                    # output) in the instructor's files: this file reaches later uploads.
                    "output": check_output(check) if check.visibility is Visibility.VISIBLE else "",
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


def finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers (e.g. a relative error of a diverged run) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value
