from html.parser import HTMLParser

import pytest

from grader.render.svgplot import MAX_POINTS, Marks, Series, line_plot, nice_ticks


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(0, 1500, [0, 500, 1000, 1500]), (23.3, 111.4, [20, 40, 60, 80, 100, 120]), (5, 5, [5, 5.2, 5.4, 5.6, 5.8, 6])],
)
def test_nice_ticks_are_round_and_cover_the_range(lo, hi, expected):
    assert nice_ticks(lo, hi) == pytest.approx(expected)


def _elements(svg: str) -> list[tuple[str, dict]]:
    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    P().feed(svg)
    return found


def test_curves_are_thinned_but_keep_their_ends():
    values = tuple(float(i) for i in range(10_000))
    svg = str(line_plot([Series("a", values, "#123456")], [], "x", "y", "t"))
    points = [a["points"].split() for t, a in _elements(svg) if t == "polyline"][0]
    assert len(points) <= MAX_POINTS + 1
    first, last = points[0].split(","), points[-1].split(",")
    assert float(last[0]) > float(first[0]) and float(last[1]) < float(first[1])  # rises to the right


def test_marks_are_vertical_lines_and_labels_escaped():
    svg = str(
        line_plot(
            [Series("<b>mine</b>", (3.0, 2.0, 1.0), "#123456")],
            [Marks("wrap & restart", (2,), "#777", "4 3")],
            "x",
            "y",
            "<t>",
        )
    )
    lines = [a for t, a in _elements(svg) if t == "line" and a.get("stroke-dasharray") == "4 3"]
    assert len(lines) == 2  # the mark and its legend entry
    assert lines[0]["x1"] == lines[0]["x2"]
    assert "<b>" not in svg and "&lt;b&gt;mine&lt;/b&gt;" in svg and "wrap &amp; restart" in svg


def test_non_finite_values_are_skipped():
    svg = str(line_plot([Series("a", (1.0, float("nan"), float("inf"), 2.0), "#123456")], [], "x", "y", "t"))
    assert "nan" not in svg and "inf" not in svg
