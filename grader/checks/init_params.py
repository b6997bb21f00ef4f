"""Checks of init_params(K, m, sigma, rng)."""

from __future__ import annotations

import numpy as np

from grader.checks.compare import first_match
from grader.checks.core import Failed, check
from grader.checks.strategies import Init, flat, inits
from grader.mistakes import named
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
        raise Failed(f"{' and '.join(nonzero)} not zero",
                     "; ".join(f"got {k} with max |entry| {np.max(np.abs(params[k])):.3g}" for k in nonzero))


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
        (named("init_params.draw_order", f"the draws are right but in the order {', '.join(order)}; the contract draws U, "
               "then W, then V."),
         lambda order=order: flat(_draws(case, order), DRAWN))
        for order in (("U", "V", "W"), ("W", "U", "V"), ("W", "V", "U"), ("V", "U", "W"), ("V", "W", "U"))
    ] + [
        (named("init_params.transposed_draws", "each matrix is drawn with its shape reversed and then transposed; draw U "
               "with shape (m, K) directly."),
         lambda: flat(_draws(case, DRAWN, transposed=True), DRAWN)),
    ]
    return (first_match(got, variants, ctx.threshold, ctx.floor) or _scale_hint(ctx, case, got)
            or _source_hint(ctx, case) or _shape_hint(ctx, case) or
            "draw from the rng argument (not np.random.*), as sigma * rng.standard_normal(shape), U then W then V.")


def _redrawn(ctx, case: Init) -> tuple[float, np.ndarray]:
    """(4 * sigma, U, W, V drawn with it from the same seed): how the draws move when sigma does."""
    other = 4 * case.sigma
    return other, flat(ctx.call("init_params", case.K, case.m, other, RngSeed(case.seed), dims=case.dims,
                                describe=f"{case.summary()} with sigma = {other:g}")[0], DRAWN)


def _scale_hint(ctx, case: Init, got: np.ndarray) -> str:
    """The contract's standard normal draws times a scale that is not sigma: the scale, estimated, and how it
    moves when sigma does (drawn again with 4 * sigma)."""
    normal = flat(_draws(case, DRAWN), DRAWN) / case.sigma
    scale = float(np.median(got / normal)) if np.all(normal != 0) else 0.0
    if scale == 0.0 or ctx.mismatch("U, W, V", got, scale * normal) is not None:
        return ""
    other, again = _redrawn(ctx, case)
    if ctx.mismatch("U, W, V", again, got) is None:
        return named("init_params.sigma_ignored", f"the draws are rng.standard_normal(shape) * {scale:.3g} whatever sigma is (sigma = {case.sigma:g} and "
                f"{other:g} give the same parameters): init_params ignores its sigma argument; multiply by sigma.")
    if np.isclose(scale, case.sigma**2, rtol=1e-6):
        return named("init_params.sigma_squared", "the entries are sigma**2 * N(0, 1); scale the standard normal draws by sigma.")
    return named("init_params.wrong_scale", f"the draws are rng.standard_normal(shape) * {scale:.3g}; the contract scales "
                 f"them by sigma = {case.sigma:g}.")


def _shape_hint(ctx, case: Init) -> str:
    """Whether the draws look uniform rather than normal, on a draw of 30 x 30 entries or more."""
    large = Init(K=max(case.K, 30), m=max(case.m, 30), sigma=case.sigma, seed=case.seed)
    entries = flat(_init(ctx, large), DRAWN)
    if not _uniform(entries):
        return ""
    bound = float(np.max(np.abs(entries)))
    return named("init_params.uniform", f"the draws look uniform on [-{bound:.3g}, {bound:.3g}] (their excess kurtosis is {_kurtosis(entries):.2f}; "
            "a normal draw's is about 0, a uniform one's -1.2): the contract draws sigma * rng.standard_normal(shape).")


def _source_hint(ctx, case: Init) -> str:
    """Whether the draws come from the rng argument at all: the caller's generator must move on."""
    _, (next_draw,) = ctx.call_keeping("init_params", case.K, case.m, case.sigma, RngSeed(case.seed), keep=(3,),
                                       dims=case.dims, describe=case.summary())
    if next_draw == int(np.random.default_rng(case.seed).integers(2**53)):
        return named("init_params.not_from_rng", "init_params drew nothing from the rng it was given (the generator is where it started after the "
                "call): draw from it, not from np.random or a generator of its own, as sigma * rng.standard_normal"
                "(shape), U then W then V.")
    return ""


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
            lambda: _spread_hint(ctx, case, entries),
        )


def _kurtosis(entries: np.ndarray) -> float:
    centred = entries - entries.mean()
    return float(np.mean(centred**4) / np.mean(centred**2) ** 2 - 3)


def _uniform(entries: np.ndarray) -> bool:
    """A uniform draw's excess kurtosis is -1.2, a normal one's 0 with standard error sqrt(24 / n) (at most
    0.15 for the >= 1200 entries drawn here): -0.8 tells them apart, for a hint only."""
    return _kurtosis(entries) < -0.8


def _spread_hint(ctx, case: Init, entries: np.ndarray) -> str:
    """The scale the draws were made with, as a function of sigma: found by drawing again with another sigma."""
    std, sigma = float(np.std(entries)), case.sigma
    shape = "uniform" if _uniform(entries) else "normal"
    other, again = _redrawn(ctx, case)
    ratio = float(np.std(again)) / std if std > 0 else float("nan")
    if np.isclose(ratio, 1.0, rtol=0.2):
        return named("init_params.sigma_ignored", f"the draws have standard deviation {std:.3g} whatever sigma is (sigma = {sigma:g} and {other:g} give "
                "the same spread): init_params ignores its sigma argument, perhaps a hard-coded scale; use "
                "sigma * rng.standard_normal(shape).")
    if np.isclose(ratio, 16.0, rtol=0.2) and np.isclose(std, sigma**2, rtol=0.2):
        return named("init_params.sigma_squared", "the spread is sigma**2: scale standard normal draws by sigma, not sigma squared.")
    if shape == "uniform":
        return named("init_params.uniform", f"the draws look uniform on [-{std * np.sqrt(3):.3g}, {std * np.sqrt(3):.3g}]; the contract uses a "
                "normal distribution, sigma * rng.standard_normal(shape).")
    if np.isclose(ratio, 4.0, rtol=0.2):
        return named("init_params.wrong_scale", f"the draws scale with sigma but have standard deviation {std / sigma:.3g} * sigma; the entries are "
                "sigma * N(0, 1).")
    return f"the draws have standard deviation {std:.3g} for sigma = {sigma:g} and {std * ratio:.3g} for sigma = {other:g}."
