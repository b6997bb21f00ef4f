"""index.html for a graded class: one self-contained page (inline CSS and SVG, no scripts, no network).

It shows what grader.batch computed into the ClassResult (score histogram, the named mistakes and who
made them, pass rate per check over the gradable submissions, what a regrade changed, the similarity report's link, the ledger's warnings, the
submissions that crashed, timed out or could not be graded, the slowest ones) and links to each report.
Rendered with jinja2 and autoescape on: submission names and failure texts come from students.
"""

from __future__ import annotations

from urllib.parse import quote

from grader.render import GENERATOR
from grader.render.gradebook import adjustment_text
from grader.render.jinja import environment
from grader.render.summary import points
from grader.results import GRADER_FAILED_TEXT, WEAK_SANDBOX, ClassResult, ScoreBin

CHART_WIDTH, CHART_HEIGHT = 640, 220
LEFT, BOTTOM, TOP = 40, 36, 12

_env = environment(
    percent=lambda v: f"{100 * v:.0f}%",
    # each path segment quoted: names may hold spaces, '#', '?' or '%'
    href=lambda path: "/".join(quote(part) for part in path.split("/")),
    adjustment=adjustment_text,
)


def render_class_html(result: ClassResult) -> str:
    by_name = {s.name: s for s in result.submissions}
    return _env.get_template("class_index.html.j2").render(
        result=result,
        by_name=by_name,
        bars=histogram_bars(result.histogram),
        chart={"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": LEFT, "bottom": BOTTOM, "top": TOP},
        troubled=[by_name[name] for name in result.troubled],
        slowest=[by_name[name] for name in result.slowest],
        generator=GENERATOR,
        weak_sandbox=WEAK_SANDBOX,
        grader_failed=GRADER_FAILED_TEXT.format(count=len(result.grader_failed), names=", ".join(result.grader_failed)),
    )


def histogram_bars(bins: tuple[ScoreBin, ...]) -> list[dict]:
    """Geometry of the histogram's bars (x, y, width, height) with their labels."""
    if not bins:
        return []
    tallest = max(b.count for b in bins) or 1
    plot_height = CHART_HEIGHT - BOTTOM - TOP
    width = (CHART_WIDTH - LEFT) / len(bins)
    bars = []
    for i, b in enumerate(bins):
        height = plot_height * b.count / tallest
        bars.append(
            {
                "x": round(LEFT + i * width + 2, 1),
                "y": round(TOP + plot_height - height, 1),
                "width": round(width - 4, 1),
                "height": round(height, 1),
                "center": round(LEFT + (i + 0.5) * width, 1),
                "count": b.count,
                "label": f"{points(b.low)}–{points(b.high)}",
            }
        )
    return bars
