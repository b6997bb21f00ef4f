"""Checks of init_params(K, m, sigma, rng)."""

from __future__ import annotations

import numpy as np

from grader.checks.compare import first_match
from grader.checks.core import Failed, check
from grader.checks.strategies import Init, flat, inits
from grader.sandbox import RngSeed

DRAWN = ("U", "W", "V")  # drawn from rng, in this order; b and c are zeros


def _init(ctx, case: Init):
    return ctx.call("init_params", case.K, case.m, case.sigma, RngSeed(case.seed), dims=case.dims,
                    describe=case.summary())[0]


def _draws(case: Init, order: tuple[str, ...], transposed: bool = False) -> dict[str, np.ndarray]:
    """U, W, V drawn from the case's rng in ``order`` (optionally with each shape reversed)."""
    rng = np.random.default_rng(case.seed)
    shapes = {"U": (case.m, case.K), "W": (case.m, case.m), "V": (case.K, case.m)}
    drawn = {}
    for k in order:
        shape = shapes[k][::-1] if transposed else shapes[k]
        value = case.sigma * rng.standard_normal(shape)
        drawn[k] = value.T if transposed else value
    return drawn


@check("init_params: shapes", inits())
def shapes(ctx, case: Init):
    """init_params returns a dict with exactly b (m,1), c (K,1), U (m,K), W (m,m), V (K,m), all float64."""
    _init(ctx, case)


@check("init_params: biases are zero", inits())
def zero_biases(ctx, case: Init):
    """The biases b (m,1) and c (K,1) start as exact zeros; only U, W and V are random."""
    params = _init(ctx, case)
    nonzero = [k for k in ("b", "c") if np.any(params[k] != 0)]
    if nonzero:
        raise Failed(f"{' and '.join(nonzero)} not zero", "; ".join(f"got {k} with max |entry| {np.max(np.abs(params[k])):.3g}" for k in nonzero))


@check("init_params: draws in contract order", inits(), settings=("threshold",))
def draw_order(ctx, case: Init):
    """U, W, V are sigma * rng.standard_normal(shape), drawn in that order from the given rng, so the same
    seed gives exactly the reference's parameters."""
    params = _init(ctx, case)
    expected = _draws(case, DRAWN)
    for k in DRAWN:
        found = ctx.mismatch(k, params[k], expected[k])
        if found is not None:
            raise Failed(f"{k} is not the reference's draw from the same rng (relative error {found.error:.1e})",
                         found.text, lambda: _order_hint(ctx, case, params))


def _order_hint(ctx, case: Init, params) -> str:
    got = flat(params, DRAWN)
    variants = [
        (f"the draws are right but in the order {', '.join(order)}; the contract draws U, then W, then V.",
         lambda order=order: flat(_draws(case, order), DRAWN))
        for order in (("U", "V", "W"), ("W", "U", "V"), ("W", "V", "U"), ("V", "U", "W"), ("V", "W", "U"))
    ] + [
        ("each matrix is drawn with its shape reversed and then transposed; draw U with shape (m, K) directly.",
         lambda: flat(_draws(case, DRAWN, transposed=True), DRAWN)),
        ("the entries are sigma**2 * N(0, 1); scale the standard normal draws by sigma.",
         lambda: case.sigma * flat(_draws(case, DRAWN), DRAWN)),
    ]
    return first_match(got, variants, ctx.threshold, ctx.floor) or (
        "draw from the rng argument (not np.random.*), as sigma * rng.standard_normal(shape), U then W then V."
    )


@check("init_params: spread matches sigma", inits(K=(20, 40), m=(20, 40)), settings=("tolerance",))
def spread(ctx, case: Init):
    """The entries of U, W and V have mean 0 and standard deviation sigma (checked on at least 1200
    entries, so a correct draw is within the tolerance with overwhelming probability)."""
    params = _init(ctx, case)
    entries = flat(params, DRAWN)
    std, mean = float(np.std(entries)), float(np.mean(entries))
    tolerance = ctx.setting("tolerance")
    if abs(std / case.sigma - 1) > tolerance or abs(mean) > tolerance * case.sigma:
        raise Failed(
            f"the entries of U, W, V have standard deviation {std:.4g} and mean {mean:.3g}; expected about {case.sigma:g} and 0",
            f"allowed: standard deviation within {tolerance:.0%} of sigma, |mean| below {tolerance:g} * sigma",
            _spread_hint(std, case.sigma),
        )


def _spread_hint(std: float, sigma: float) -> str:
    if np.isclose(std, sigma**2, rtol=0.2):
        return "the spread is sigma**2: scale standard normal draws by sigma, not sigma squared."
    if np.isclose(std, 1.0, rtol=0.2):
        return "the draws are not scaled by sigma."
    if np.isclose(std, sigma / np.sqrt(3), rtol=0.2):
        return "the draws look uniform on [-sigma, sigma]; the contract uses a normal distribution."
    return ""

