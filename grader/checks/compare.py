"""The one comparison every check makes, and how a mismatch reads to a student.

Relative error is the course reports' formula (grader.diagnostics.relerr), applied to whole arrays::

    max over entries of |got - expected| / max(floor, |got| + |expected|)

The floor (grading.yaml: relative_error_floor) keeps entries that are zero in both from dividing by zero
and stops tiny entries, where summation order dominates, from deciding a check. Correct float64 code
agrees with the reference to 1e-10 or better on the suite's cases, so thresholds of 1e-6 leave a wide
margin for a different summation order while every bug the hints name is off by 1e-3 or more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from grader.diagnostics.relerr import max_relative_error

SHOW_ENTRIES = 24  # arrays up to this size are printed in full in feedback


def formula(floor: float) -> str:
    return f"relative error = max over entries of |got - expected| / max({floor:g}, |got| + |expected|)"


@dataclass(frozen=True)
class Mismatch:
    label: str
    error: float
    threshold: float
    text: str


def relative_error(got, expected, floor: float) -> float:
    return max_relative_error(np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64), floor)


def close(got, expected, threshold: float, floor: float) -> bool:
    return relative_error(got, expected, floor) <= threshold


def mismatch(label: str, got, expected, threshold: float, floor: float) -> Mismatch | None:
    """None when ``got`` is within ``threshold`` of ``expected``; otherwise what differs, where and by how much."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    error = relative_error(got, expected, floor)
    if error <= threshold:
        return None
    entrywise = np.abs(got - expected) / np.maximum(floor, np.abs(got) + np.abs(expected))
    worst = np.unravel_index(int(np.argmax(entrywise)), entrywise.shape)
    where = f" at {list(map(int, worst))}" if got.ndim else ""
    lines = [
        f"{label}: relative error {error:.2e} (allowed {threshold:.0e}); worst entry{where}: "
        f"expected {expected[worst]:.8g}, got {got[worst]:.8g}"
    ]
    if 1 < expected.size <= SHOW_ENTRIES:
        lines += [f"  expected {label} = {show(expected)}", f"  got      {label} = {show(got)}"]
    return Mismatch(label, error, threshold, "\n".join(lines))


def show(value) -> str:
    """An array in full when small (one line per row), otherwise its shape and range."""
    arr = np.asarray(value)
    if arr.size > SHOW_ENTRIES:
        return f"<{arr.dtype} array of shape {arr.shape}, values in [{arr.min():.4g}, {arr.max():.4g}]>"
    text = np.array2string(arr, precision=6, suppress_small=False, max_line_width=10_000, separator=", ")
    return " ".join(text.split())


def first_match(got, variants: Iterable[tuple[str, Callable[[], object]]], threshold: float, floor: float) -> str:
    """The hint of the first known-bug variant that ``got`` reproduces, or ''.

    Each variant is the reference computation with one classic mistake; it is built only when needed.
    """
    got = np.asarray(got, dtype=np.float64)
    for hint, build in variants:
        candidate = np.asarray(build(), dtype=np.float64)
        if candidate.shape == got.shape and close(got, candidate, threshold, floor):
            return hint
    return ""
