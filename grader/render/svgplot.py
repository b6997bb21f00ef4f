"""A small inline-SVG line plot: axes, ticks, curves, shaded bands, a legend and marked x positions.

The report must open offline as one file, so the plot is drawn here rather than by a plotting library
or a script. Every piece of text is escaped, because legend labels may come from the submission's run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 104  # margins; the legend's two rows sit under the x-axis label
LEGEND_ROW = 20
TICK_CHAR_WIDTH = 7  # an upper bound on one character of an 11px tick label, for the room it needs
MAX_POINTS = 800  # a curve is thinned to about this many points; more are invisible at this width
OFF_SCALE = 1e12  # values this large are left out of the plot, like NaN: no loss reaches them, and they overflow the axes


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float, ...]  # y at x = 1, 2, ..., len(values), or at xs
    color: str
    width: float = 1.8
    dash: str = ""  # an SVG stroke-dasharray, e.g. "6 3"; solid when empty
    xs: tuple[int, ...] = ()  # the x of each value, when the curve was stored thinned

    def x(self, i: int) -> float:
        return self.xs[i] if self.xs else i + 1


@dataclass(frozen=True)
class Band:
    """A shaded area between two curves, e.g. the spread of several runs: lo[i] <= hi[i] at x = i + 1 (or xs[i])."""

    label: str
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    color: str
    opacity: float = 0.3
    xs: tuple[int, ...] = ()

    def x(self, i: int) -> float:
        return self.xs[i] if self.xs else i + 1


@dataclass(frozen=True)
class Marks:
    """Vertical lines at some x positions, e.g. where training wrapped around the text."""

    label: str
    xs: tuple[int, ...]
    color: str
    dash: str


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi].

    A range too narrow to tell apart at its magnitude (a flat curve) is widened first, so the step
    always moves the value and the ticks are counted, never looped for.
    """
    if not hi - lo > 1e-9 * max(1.0, abs(lo), abs(hi)):
        hi = lo + max(1.0, abs(lo) * 0.01)
    raw = (hi - lo) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 5, 10) if f * power >= raw)
    first = math.floor(lo / step) * step
    n = math.ceil((hi - first) / step - 1e-9)
    return [round(first + i * step, 12) for i in range(n + 1)]


def _shown(value: float) -> bool:
    """Whether a value is drawn: finite and on a scale a loss can have (a submission may return 1e300)."""
    return math.isfinite(value) and abs(value) < OFF_SCALE


def line_plot(series: list[Series], marks: list[Marks], x_label: str, y_label: str, title: str,
              bands: Sequence[Band] = ()) -> Markup:
    finite = [v for s in series for v in s.values if _shown(v)]
    finite += [v for b in bands for v in (*b.lo, *b.hi) if _shown(v)]
    n = max([s.x(len(s.values) - 1) for s in series if s.values] + [b.x(len(b.lo) - 1) for b in bands if b.lo] + [1])
    x_ticks = nice_ticks(0, n)
    y_ticks = nice_ticks(min(finite, default=0.0), max(finite, default=1.0))
    # The last x label is centred on the plot's right edge: leave room for half of it (6-digit updates).
    right = max(RIGHT, math.ceil(len(_fmt(x_ticks[-1])) * TICK_CHAR_WIDTH / 2) + 4)
    frame = _Frame(x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1], w=WIDTH - LEFT - right)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="plot">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{frame.w}" height="{frame.h}" fill="#fff" stroke="#999"/>',
    ]
    parts += _grid_and_ticks(frame, x_ticks, y_ticks)
    parts += _marks(frame, marks)
    parts += [_band(frame, b) for b in bands if b.lo]
    parts += [_polyline(frame, s) for s in series if s.values]
    parts += _labels(frame, x_label, y_label)
    parts += _legend(series, marks, bands)
    parts.append("</svg>")
    return Markup("\n".join(parts))


@dataclass(frozen=True)
class _Frame:
    x0: float
    x1: float
    y0: float
    y1: float
    w: int = WIDTH - LEFT - RIGHT
    h: int = HEIGHT - TOP - BOTTOM

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * self.w

    def y(self, value: float) -> float:
        return TOP + self.h - (value - self.y0) / (self.y1 - self.y0) * self.h


def _fmt(v: float) -> str:
    return f"{v:g}"


def _grid_and_ticks(frame: _Frame, x_ticks: list[float], y_ticks: list[float]) -> list[str]:
    out = []
    bottom = TOP + frame.h
    for t in x_ticks:
        x = frame.x(t)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" stroke="#eee"/>')
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" stroke="#555"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" class="tick">{_fmt(t)}</text>')
    for t in y_ticks:
        y = frame.y(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + frame.w}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<line x1="{LEFT - 5}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="#555"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_fmt(t)}</text>')
    return out


def _marks(frame: _Frame, marks: list[Marks]) -> list[str]:
    return [
        f'<line x1="{frame.x(x):.1f}" y1="{TOP}" x2="{frame.x(x):.1f}" y2="{TOP + frame.h}" '
        f'stroke="{m.color}" stroke-dasharray="{m.dash}" stroke-width="1"/>'
        for m in marks
        for x in m.xs
    ]


def _thinned(n: int) -> list[int]:
    """About MAX_POINTS indices of a curve of n points, always ending at the last, so the curve's end is true."""
    stride = max(1, math.ceil(n / MAX_POINTS))
    indices = list(range(0, n, stride))
    if indices[-1] != n - 1:
        indices.append(n - 1)
    return indices


def _band(frame: _Frame, b: Band) -> str:
    kept = [i for i in _thinned(len(b.lo)) if _shown(b.lo[i]) and _shown(b.hi[i])]
    upper = [f"{frame.x(b.x(i)):.1f},{frame.y(b.hi[i]):.1f}" for i in kept]
    lower = [f"{frame.x(b.x(i)):.1f},{frame.y(b.lo[i]):.1f}" for i in reversed(kept)]
    return (
        f'<polygon points="{" ".join(upper + lower)}" fill="{b.color}" fill-opacity="{b.opacity:g}" '
        f'stroke="none"><title>{escape(b.label)}</title></polygon>'
    )


def _polyline(frame: _Frame, s: Series) -> str:
    indices = _thinned(len(s.values))
    points = " ".join(f"{frame.x(s.x(i)):.1f},{frame.y(s.values[i]):.1f}" for i in indices if _shown(s.values[i]))
    return (
        f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="{s.width}" '
        f'stroke-linejoin="round"{_dash(s.dash)}><title>{escape(s.label)}</title></polyline>'
    )


def _dash(dash: str) -> str:
    return f' stroke-dasharray="{dash}"' if dash else ""


def _labels(frame: _Frame, x_label: str, y_label: str) -> list[str]:
    cx, cy = LEFT + frame.w / 2, TOP + frame.h / 2
    return [
        f'<text x="{cx:.1f}" y="{TOP + frame.h + 38}" text-anchor="middle" class="axis">{escape(x_label)}</text>',
        f'<text x="16" y="{cy:.1f}" text-anchor="middle" class="axis" transform="rotate(-90 16 {cy:.1f})">'
        f"{escape(y_label)}</text>",
    ]


def _legend(series: list[Series], marks: list[Marks], bands: Sequence[Band]) -> list[str]:
    """One entry per band, curve and kind of mark that has something to show, in rows under the x-axis label."""
    entries = [  # (width, draw at x, y)
        *((40 + 7 * len(b.label), lambda x, y, b=b: [
            f'<rect x="{x}" y="{y - 10}" width="24" height="10" fill="{b.color}" fill-opacity="{b.opacity:g}"/>',
            f'<text x="{x + 30}" y="{y}" class="legend">{escape(b.label)}</text>']) for b in bands),
        *((40 + 7 * len(s.label), lambda x, y, s=s: [
            f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{s.color}" stroke-width="3"{_dash(s.dash)}/>',
            f'<text x="{x + 30}" y="{y}" class="legend">{escape(s.label)}</text>']) for s in series if s.values),
        *((34 + 7 * len(m.label), lambda x, y, m=m: [
            f'<line x1="{x + 12}" y1="{y - 12}" x2="{x + 12}" y2="{y + 2}" stroke="{m.color}" stroke-dasharray="{m.dash}"/>',
            f'<text x="{x + 22}" y="{y}" class="legend">{escape(m.label)}</text>']) for m in marks if m.xs),
    ]
    out = []
    x, y = LEFT, HEIGHT - LEGEND_ROW * 1.5
    for width, draw in entries:
        if x > LEFT and x + width > WIDTH:
            x, y = LEFT, y + LEGEND_ROW
        out += draw(x, y)
        x += width
    return out
