"""report.html: one self-contained page (inline CSS and SVG, no scripts, no network) per submission.

Rendered with jinja2 and autoescape on: everything that came from the submission (names, captured output,
exception text in feedback, synthesized text) is escaped by the template engine, never by hand.
"""

from __future__ import annotations

from html.parser import HTMLParser

from grader.render import GENERATOR
from grader.render.jinja import environment
from grader.render.summary import by_function, intake_summary, shared_reason
from grader.render.svgplot import Band, Marks, Series, line_plot
from grader.results import WEAK_SANDBOX, RealTextRun, Status, SubmissionResult, TrainingRun, student_copy

SUBMISSION_META = "rnn-grader-submission"
OUTPUT_SHOWN = 20_000  # characters of each captured stream shown; the rest is cut with a note
# The course reports call a relative error below 1e-6 a match; finite differences of a correct
# implementation land far below it, a wrong gradient far above 1e-4.
GOOD_BELOW, SUSPECT_BELOW = 1e-6, 1e-4
SUBMISSION_COLOR, REFERENCE_COLOR = "#1f63c6", "#e8710a"
WRAP_COLOR, RESTART_COLOR = "#777777", "#9c27b0"
OWN_TRAIN_COLOR = "#2e9d52"

_env = environment(
    relerr=lambda v: "not computed" if v is None else f"{v:.2e}",
    relerr_class=lambda v: "na" if v is None else "good" if v < GOOD_BELOW else "suspect" if v < SUSPECT_BELOW else "bad",
)


def render_html(result: SubmissionResult, *, instructor: bool = False) -> str:
    """The student's copy of the report (visible checks only, see student_copy), or the instructor's (all)."""
    shown = result if instructor else student_copy(result)
    return _env.get_template("report.html.j2").render(
        result=shown,
        instructor=instructor,
        not_shown=len(result.checks) - len(student_copy(result).checks),
        functions=by_function(shown),
        shared=shared_reason(shown),
        reading=intake_summary(result),
        plot=loss_plot(run) if (run := result.diagnostics and result.diagnostics.training) and _has_curve(run) else None,
        real_plot=real_text_plot(real) if (real := result.diagnostics and result.diagnostics.real_text) else None,
        passed=Status.PASSED,
        streams=_streams(shown, instructor),
        generator=GENERATOR,
        weak_sandbox=WEAK_SANDBOX,
        submission_meta=SUBMISSION_META,
        good_below=GOOD_BELOW,
        suspect_below=SUSPECT_BELOW,
    )


def loss_plot(run: TrainingRun):
    return line_plot(
        [
            Series("your train", run.submission_smooth_loss, SUBMISSION_COLOR),
            Series("reference train", run.reference_smooth_loss, REFERENCE_COLOR, width=1.4),
        ],
        [
            Marks("text wrapped to the start", run.wrap_updates, WRAP_COLOR, "4 3"),
            Marks("new train call", run.restart_updates, RESTART_COLOR, "1 3"),
        ],
        x_label="update",
        y_label="smooth loss",
        title=f"Smooth loss on {run.text_name}: your train and the reference's",
    )


def real_text_plot(run: RealTextRun):
    if not (run.loop_smooth_loss or run.train_smooth_loss or run.band_lo):
        return None
    return line_plot(
        [
            Series("reference, same start", run.band_center, REFERENCE_COLOR, width=1.0, xs=_xs(run, run.band_center)),
            Series("your functions in the contract's loop", run.loop_smooth_loss, SUBMISSION_COLOR,
                   xs=_xs(run, run.loop_smooth_loss)),
            # dashed: a correct train follows the loop so closely that a solid line would hide it
            Series("your train", run.train_smooth_loss, OWN_TRAIN_COLOR, width=1.4, dash="6 4",
                   xs=_xs(run, run.train_smooth_loss)),
        ],
        [Marks("text wrapped to the start", run.wrap_updates, WRAP_COLOR, "4 3")],
        x_label="update",
        y_label="smooth loss",
        title=f"Smooth loss on {run.text_name}: your code and the reference's spread",
        bands=[Band(f"reference, {run.band_runs} exact runs", run.band_lo, run.band_hi, REFERENCE_COLOR,
                    xs=_xs(run, run.band_lo))] if run.band_lo else [],
    )


def _xs(run: RealTextRun, values) -> tuple[int, ...]:
    return run.curve_updates[: len(values)]


def report_owner(page_head: str) -> str | None:
    """The submission name a report page was written for, or None if the page is not one of ours."""
    finder = _MetaFinder()
    finder.feed(page_head)
    return finder.meta.get(SUBMISSION_META) if finder.meta.get("generator", "").startswith(GENERATOR) else None


class _MetaFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "name" in attrs:
            self.meta.setdefault(attrs["name"], attrs.get("content") or "")


def _has_curve(run: TrainingRun | None) -> bool:
    return run is not None and bool(run.submission_smooth_loss or run.reference_smooth_loss)


def _streams(result: SubmissionResult, instructor: bool) -> list[tuple[str, dict[str, object]]]:
    streams = [("stdout", _shown(result.output.stdout)), ("stderr", _shown(result.output.stderr))]
    if instructor:  # the hidden checks ran in a sandbox of their own
        streams += [("stdout while the hidden checks ran", _shown(result.hidden_output.stdout)),
                    ("stderr while the hidden checks ran", _shown(result.hidden_output.stderr))]
    return streams


def _shown(text: str) -> dict[str, object]:
    return {"text": text[:OUTPUT_SHOWN], "cut": max(0, len(text) - OUTPUT_SHOWN), "total": len(text)}
