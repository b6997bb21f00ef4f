"""Checks of synthesize(params, h0, x0, n, rng) -> n indices.

The contract fixes what is sampled (p_t, from the given rng) but not how: rng.choice, an inverse CDF on
rng.random() and others are all correct and give different sequences for the same seed. So no check
compares a sample sequence with the reference's; they test lengths, determinism, near-deterministic
models whose output is known, and frequencies against the model's probabilities.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from grader.checks.core import Failed, check
from grader.checks.strategies import Chain, Sampling, chains, samplings
from grader.mistakes import named
from grader.sandbox import RngSeed

X0_INCLUDED = named("synthesize.x0_included",
                    "the output starts with x0: return the n sampled indices only, without the first input x0.")


def _starts_with_x0(case, value) -> bool:
    """Whether ``value`` is x0 followed by n indices (a deviation the length check counts, once)."""
    try:
        return len(value) == case.n + 1 and int(value[0]) == case.x0
    except (TypeError, ValueError, IndexError):
        return False


def _without_x0(case):
    return lambda value: value[1:] if _starts_with_x0(case, value) else value


def _synthesize(ctx, case, rng_seed: int, params=None, h0=None):
    return ctx.call("synthesize", case.params if params is None else params, case.h0 if h0 is None else h0, case.x0,
                    case.n, RngSeed(rng_seed), dims=case.dims, describe=f"{case.summary()}, rng seed {rng_seed}",
                    repair=_without_x0(case))[0]


@check("synthesize: length and range", samplings())
def length_and_range(ctx, case: Sampling):
    """synthesize returns exactly n character indices, integers in 0..K-1 (x0 itself is not included). The
    other synthesize checks judge the samples after an x0 in front, so that it is counted here only."""
    seen = []

    def spot(value):
        seen.append(_starts_with_x0(case, value))
        return value

    try:
        ctx.call("synthesize", case.params, case.h0, case.x0, case.n, RngSeed(case.rng_seed), dims=case.dims,
                 describe=f"{case.summary()}, rng seed {case.rng_seed}", repair=spot)
    except Failed as failure:
        raise Failed(failure.reason, failure.details, X0_INCLUDED if any(seen) else failure.hint) from None


@check("synthesize: same seed, same output", samplings(n=(20, 40)))
def same_seed(ctx, case: Sampling):
    """Two calls with generators made from the same seed return the same indices: all randomness comes from
    the rng argument (not numpy's global random state or a generator made inside synthesize)."""
    first, second = _synthesize(ctx, case, case.rng_seed), _synthesize(ctx, case, case.rng_seed)
    if not np.array_equal(first, second):
        raise Failed(
            "two calls with the same rng seed gave different indices",
            f"first call:  {first.tolist()}\nsecond call: {second.tolist()}",
            named("synthesize.global_rng", "sample with the rng argument (rng.choice(K, p=p) or rng.random()), not "
                  "np.random.choice or np.random.rand."),
        )


COINCIDENCE = 1e-15  # largest chance that two correct samples of "draws from the given rng" coincide


def coincidence(case: Sampling) -> float:
    """For a non-recurrent model, the probability that two independent samples are the same n indices:
    the sum over paths y_1..y_n of prod_t T[y_{t-1}, y_t]^2 (y_0 = x0), i.e. ((T*T)^n 1)[x0]."""
    T = case.transitions()
    return float(np.linalg.matrix_power(T * T, case.n).sum(axis=1)[case.x0])


@check("synthesize: draws from the given rng",
       samplings(n=(100, 100), m=(2, 6), K=(3, 6), recurrent=False, scale=st.just(0.5)), parts=("advances", "drives"))
def uses_rng(ctx, case: Sampling):
    """The rng argument drives the sampling: its state advances during the call (the caller's generator moves
    on, so two calls with it give different text), and generators with different seeds give different
    samples (not a generator re-seeded or copied inside synthesize, nor argmax); samples from a call that
    never moved the rng come from elsewhere (np.random), so they are not driven by it either. The models (W = 0, so p_t
    depends on the previous index only) are those where two correct samples of 100 characters coincide with
    probability below 1e-15, computed exactly; a model that nearly always picks one character is not one."""
    assume(coincidence(case) < COINCIDENCE)
    (first,), (next_draw,) = ctx.call_keeping(
        "synthesize", case.params, case.h0, case.x0, case.n, RngSeed(case.rng_seed), keep=(4,), dims=case.dims,
        describe=f"{case.summary()}, rng seed {case.rng_seed}", repair=_without_x0(case))
    second = _synthesize(ctx, case, case.rng_seed + 1)
    problems = []
    if next_draw == int(np.random.default_rng(case.rng_seed).integers(2**53)):
        problems.append(("advances", "after the call the rng is where it started: synthesize did not draw from it",
                         named("synthesize.global_rng", "synthesize drew nothing from the rng it was given (a copy of it, a "
                               "new generator, np.random or argmax leave the caller's generator where it was); draw "
                               "with rng.choice or rng.random().")))
    if np.array_equal(first, second):
        problems.append(("drives", f"rng seeds {case.rng_seed} and {case.rng_seed + 1} gave the same {case.n} indices",
                         named("synthesize.rng_ignored", "synthesize must draw from the rng it is given; picking the most "
                               "likely character (argmax) or creating a generator with a fixed seed inside synthesize "
                               "ignores it.")))
    elif problems:
        # samples that differ between seeds while the given rng never moved come from another source of randomness
        problems.append(("drives", "the samples cannot come from the rng it was given, which never moved",
                         named("synthesize.global_rng", "synthesize drew nothing from the rng it was given, so its samples "
                               "come from somewhere else (np.random, a generator of its own); draw with rng.choice(K, p=p) "
                               "or rng.random().")))
    if problems:
        raise Failed("; ".join(p[1] for p in problems), f"first call: {first.tolist()}", problems[-1][2],
                     parts=[p[0] for p in problems])


@check("synthesize: feeds back the sample and carries the hidden state", chains(), parts=("input", "hidden"))
def feedback(ctx, case: Chain):
    """Each sampled index becomes the next input x_t, and h_t carries over to the next step. Tested with
    near-deterministic models: in one, the next character follows from the previous sample (W = 0); in the
    other, it follows from the hidden state alone (U = 0). Both must walk their known cycle."""
    got = _synthesize(ctx, case, case.seed)
    expected = case.expected()
    if got.tolist() != expected:
        part = case.through
        what = ("the previous sample must be the next input (x_t = one-hot of the index just sampled)"
                if part == "input" else "h_t must carry over from step to step, starting from h0")
        stuck = len(set(got.tolist())) == 1
        raise Failed(
            f"the indices do not follow the model's only likely path: {what}",
            f"expected {expected}\ngot      {got.tolist()}",
            (named("synthesize.input_not_fed_back", "every step uses x0 as input: feed the sampled index back.")
             if part == "input" else named("synthesize.hidden_not_carried", "every step starts from h0: keep h from the "
                                           "previous step.")) if stuck else "",
            parts=(part,),
        )


@check("synthesize: samples follow the model's distribution",
       samplings(K=(3, 4), m=(3, 5), n=(4000, 4000), recurrent=False, scale=st.just(1.5)), settings=("false_failure_rate",))
def distribution(ctx, case: Sampling):
    """With W = 0, p_t depends only on the previous character, so the samples form a Markov chain with known
    transition probabilities T[x, y]. The frequency of y after x must be within a Hoeffding bound of T[x, y]:
    a correct sampler fails this check with probability below grading.yaml's false_failure_rate."""
    got = _synthesize(ctx, case, case.rng_seed)
    T = case.transitions()
    counts = np.zeros_like(T)
    previous = np.concatenate([[case.x0], got[:-1]])
    np.add.at(counts, (previous, got), 1)
    visits = counts.sum(axis=1)
    # Union bound over the K*K cells, every possible number of visits (1..n) and the examples run.
    cells = case.K * case.K * case.n * ctx.spec.examples
    slack = np.sqrt(math.log(2 * cells / ctx.setting("false_failure_rate")) / (2 * np.maximum(visits, 1)))
    freq = counts / np.maximum(visits, 1)[:, None]
    excess = np.where(visits[:, None] > 0, np.abs(freq - T) - slack[:, None], -np.inf)
    if np.max(excess) > 0:
        x, y = np.unravel_index(int(np.argmax(excess)), excess.shape)
        argmax_like = all(freq[i, np.argmax(T[i])] == 1 for i in range(case.K) if visits[i] > 0)
        raise Failed(
            f"after character {x}, character {y} followed {freq[x, y]:.3f} of the time; the model gives it "
            f"probability {T[x, y]:.3f}",
            f"{int(visits[x])} samples followed character {x}; a correct sampler stays within +-{slack[x]:.3f} "
            f"of the model's probability. Model's T[{x}] = {np.round(T[x], 3).tolist()}, "
            f"observed {np.round(freq[x], 3).tolist()}",
            named("synthesize.argmax", "the most likely character is always picked (argmax); sample from p_t instead.")
            if argmax_like else "",
        )
