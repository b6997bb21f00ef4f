from html.parser import HTMLParser

import pytest

from grader.render.svgplot import MAX_POINTS, Band, Marks, Series, line_plot, nice_ticks


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(0, 1500, [0, 500, 1000, 1500]), (23.3, 111.4, [20, 40, 60, 80, 100, 120]), (5, 5, [5, 5.2, 5.4, 5.6, 5.8, 6])],
)
def test_nice_ticks_are_round_and_cover_the_range(lo, hi, expected):
    assert nice_ticks(lo, hi) == pytest.approx(expected)


@pytest.mark.parametrize(("lo", "hi"), [(1e16, 1e16), (1e11, 1e11 + 1e-5), (-1e11, 1e11), (-3.0, -3.0)])
def test_nice_ticks_end_on_flat_or_huge_ranges(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 12 and ticks[0] <= lo and ticks[-1] >= hi
    assert all(a < b for a, b in zip(ticks, ticks[1:]))


@pytest.mark.parametrize("values", [(1.7e308, -1.7e308, 1.7e308), (1e16, 1e16, 1e16), (2.0, 1e300, 1.0)])
def test_a_submissions_absurd_but_finite_curve_still_plots(values):
    svg = str(line_plot([Series("theirs", values, "#123456")], [], "x", "y", "t"))
    assert "<svg" in svg and "nan" not in svg.lower() and "inf" not in svg.lower()


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


def _tick_labels(svg: str) -> list[tuple[float, str]]:
    found = []

    class P(HTMLParser):
        attrs = None

        def handle_starttag(self, tag, attrs):
            self.attrs = dict(attrs) if tag == "text" else None

        def handle_data(self, data):
            if self.attrs is not None and self.attrs.get("class") == "tick" and self.attrs.get("text-anchor") == "middle":
                found.append((float(self.attrs["x"]), data))
            self.attrs = None

    P().feed(svg)
    return found


@pytest.mark.parametrize("n", [1500, 10_000, 100_000, 440_000])
def test_the_last_x_label_fits_inside_the_picture_even_with_six_digits(n):
    svg = str(line_plot([Series("a", tuple(range(n)), "#123456")], [], "update", "y", "t"))
    x, label = _tick_labels(svg)[-1]
    width = 760  # the viewBox
    assert x + len(label) * 7 / 2 <= width, (x, label)


def test_a_band_is_one_shaded_polygon_between_its_curves_and_in_the_legend():
    lo, hi = (1.0, 2.0, 3.0), (2.0, 4.0, 5.0)
    svg = str(line_plot([Series("mine", (1.5, 3.0, 4.0), "#123456")], [], "x", "y", "t",
                        bands=[Band("spread <of runs>", lo, hi, "#e8710a")]))
    polygons = [a for t, a in _elements(svg) if t == "polygon"]
    assert len(polygons) == 1
    points = [tuple(map(float, p.split(","))) for p in polygons[0]["points"].split()]
    assert len(points) == 6 and points[0][0] == points[-1][0]  # along hi, back along lo
    assert all(top[1] <= bottom[1] for top, bottom in zip(points[:3], reversed(points[3:])))  # hi is above lo
    assert "spread &lt;of runs&gt;" in svg


def test_a_thinned_curve_is_drawn_at_its_own_x_positions():
    svg = str(line_plot([Series("a", (3.0, 2.0, 1.0), "#123456", xs=(1, 5000, 10_000))], [], "update", "y", "t"))
    assert _tick_labels(svg)[-1][1] == "10000"
    points = [a["points"].split() for t, a in _elements(svg) if t == "polyline"][0]
    xs = [float(p.split(",")[0]) for p in points]
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], rel=1e-3)  # 1 -> 5000 -> 10000: evenly spaced
