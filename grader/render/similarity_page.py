"""similarity.html: the flagged pairs side by side, the shared code highlighted; linked from index.html.

Self-contained like the other pages (inline CSS, no scripts, no network) and autoescaped: every line of
code shown is a student's. The highlighting is built from escaped pieces, never from raw code.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from grader.render import GENERATOR
from grader.render.jinja import environment
from grader.similarity.model import SimilarityReport, Span

_env = environment(percent=lambda v: f"{100 * v:.0f}%")


def render_similarity_html(report: SimilarityReport, grader_version: str = "") -> str:
    pairs = [
        {
            "pair": pair,
            "anchor": f"pair-{i}",
            "first": highlighted(pair.first_code, pair.first_spans),
            "second": highlighted(pair.second_code, pair.second_spans),
        }
        for i, pair in enumerate(report.flagged, start=1)
    ]
    return _env.get_template("similarity.html.j2").render(
        report=report, pairs=pairs, generator=GENERATOR, grader_version=grader_version
    )


def highlighted(code: str, spans: tuple[Span, ...]) -> Markup:
    """`code`, escaped, with each span inside <mark>."""
    pieces, at = [], 0
    for span in spans:
        pieces.append(escape(code[at:span.start]))
        pieces.append(Markup("<mark>") + escape(code[span.start:span.end]) + Markup("</mark>"))
        at = span.end
    pieces.append(escape(code[at:]))
    return Markup("").join(pieces)
