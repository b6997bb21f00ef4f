"""Checks of clip_gradients(grads, bound=<the conventions' clip_bound>) -> grads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from grader.checks.core import Failed, check
from grader.checks.strategies import PARAM_NAMES, ParamSets, param_sets
from grader.mistakes import named

# Entries of 3 * N(0, 1) and 8 * N(0, 1) times the bound / 5: some inside the default bound, some beyond it on
# either side.
large_gradients = param_sets(1, K=(2, 6), m=(2, 6), scale=st.sampled_from([8.0, 3.0]))


def _gradients(ctx, case: ParamSets) -> dict:
    """The case's gradients, scaled to the assignment's clip bound (as drawn when it is 5)."""
    scale = ctx.conventions.clip_bound / 5.0
    return {k: scale * v for k, v in case.get(0).items()}


def _clip(ctx, case: ParamSets, *bound):
    """Call clip_gradients (with the default bound unless one is given); return (result, input after)."""
    (clipped,), (after,) = ctx.call_keeping("clip_gradients", _gradients(ctx, case), *bound, keep=(0,), dims=case.dims,
                                            describe=case.summary() + (f", bound={bound[0]:g}" if bound else ""))
    return clipped, after


def _outside(grads, clipped, bound: float, side: int) -> list[str]:
    """The entries of ``clipped`` beyond the bound on one side (+1 above, -1 below), described."""
    found = []
    for k in PARAM_NAMES:
        beyond = side * clipped[k] > bound
        if np.any(beyond):
            i = tuple(int(j) for j in np.argwhere(beyond)[0])
            found.append(f"{k}{list(i)}: input {grads[k][i]:.6g}, returned {clipped[k][i]:.6g}")
    return found


@check("clip_gradients: bound respected on both sides", large_gradients, parts=("upper", "lower"))
def bound_respected(ctx, case: ParamSets):
    """Every returned entry lies in [-bound, bound]: entries above bound become bound, entries below -bound
    become -bound (with the default bound, the conventions' clip_bound)."""
    clipped, _ = _clip(ctx, case)
    grads, bound = _gradients(ctx, case), ctx.conventions.clip_bound
    upper, lower = _outside(grads, clipped, bound, 1), _outside(grads, clipped, bound, -1)
    clamped = {k: np.clip(grads[k], -bound, bound) for k in PARAM_NAMES}
    wrong_value = [k for k in PARAM_NAMES if np.any((np.abs(grads[k]) > bound) & (clipped[k] != clamped[k]))]
    if upper or lower or wrong_value:
        sides = [s for s, bad in (("upper", upper), ("lower", lower)) if bad]
        one_side = {"lower": "only the upper side is clipped", "upper": "only the lower side is clipped"}.get(sides[0]) \
            if len(sides) == 1 else None
        raise Failed(
            f"returned entries beyond the bound {bound:g}" if sides else "entries beyond the bound are not set to +-bound",
            "\n".join(upper + lower) or f"in {', '.join(wrong_value)}: entries beyond the bound must become exactly +-{bound:g}",
            f"{one_side}; use np.clip(g, -bound, bound), which clips both sides." if one_side else "",
            parts=sides or ("upper", "lower"),
        )


@check("clip_gradients: values inside the bound untouched", large_gradients)
def inside_untouched(ctx, case: ParamSets):
    """Entries already in [-bound, bound] come back exactly as they were (clipping is elementwise, not a
    rescaling of the whole gradient)."""
    clipped, _ = _clip(ctx, case)
    grads = _gradients(ctx, case)
    for k in PARAM_NAMES:
        inside = np.abs(grads[k]) <= ctx.conventions.clip_bound
        changed = inside & (clipped[k] != grads[k])
        if np.any(changed):
            i = tuple(int(j) for j in np.argwhere(changed)[0])
            scaled = np.allclose(clipped[k][inside], grads[k][inside] * (clipped[k][i] / grads[k][i]))
            raise Failed(
                f"{k}{list(i)} = {grads[k][i]:.6g} is inside the bound but came back as {clipped[k][i]:.6g}",
                hint=named("clip_gradients.norm_clipping",
                           "the gradient is rescaled as a whole (norm clipping); the contract clips each entry separately.")
                if scaled else "",
            )


@check("clip_gradients: input not modified", large_gradients)
def input_untouched(ctx, case: ParamSets):
    """clip_gradients returns a new dict and leaves the dict it was given, and its arrays, unchanged."""
    _, after = _clip(ctx, case)
    grads = _gradients(ctx, case)
    changed = [k for k in PARAM_NAMES if not np.array_equal(after[k], grads[k])]
    if changed:
        raise Failed(
            f"the input gradients {', '.join(changed)} were modified",
            hint=named("clip_gradients.in_place", "np.clip(g, -bound, bound, out=g) or g[g > bound] = bound change the "
                       "caller's array; return np.clip(g, -bound, bound), a new array."),
        )


@dataclass(frozen=True)
class Bounded:
    grads: ParamSets
    bound: float

    def summary(self) -> str:
        return f"{self.grads.summary()}, bound={self.bound:g}"

    def describe(self) -> str:
        return f"{self.grads.describe()}; bound={self.bound:g}"


@check("clip_gradients: custom bound",
       st.builds(Bounded, param_sets(1, K=(2, 6), m=(2, 6), scale=st.just(3.0)), st.sampled_from([1.0, 0.5, 2.5, 10.0])),
       settings=("threshold",))
def custom_bound(ctx, case: Bounded):
    """With bound given, every entry is clipped to [-bound, bound] for that bound, not the default."""
    bound, default = case.bound, ctx.conventions.clip_bound
    clipped, _ = _clip(ctx, case.grads, bound)
    grads = _gradients(ctx, case.grads)
    for k in PARAM_NAMES:
        ctx.expect_close(k, clipped[k], np.clip(grads[k], -bound, bound), reason=f"{k} is not clipped to [-{bound:g}, {bound:g}]",
                         hint=named("clip_gradients.bound_ignored", f"the bound argument is ignored ({default:g} is used instead).")
                         if np.array_equal(clipped[k], np.clip(grads[k], -default, default)) else "")
