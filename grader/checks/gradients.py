"""Checks of compute_gradients(params, X, Y, h0) -> (grads, loss, h_last)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from grader.checks.compare import first_match
from grader.checks.core import Failed, check
from grader.checks.forward import LINKS, other_reduction, reduction_hint, sequence_hint
from grader.checks.strategies import PARAM_NAMES, Sequence, sequences


def _gradients(ctx, case: Sequence, *uses: str):
    return ctx.call("compute_gradients", *case.args, dims=case.dims, describe=case.summary(), uses=uses or None)


def _reference(ctx, case: Sequence):
    return ctx.reference.compute_gradients(*case.args)


def _clipped_hint(ctx, what: str) -> str:
    bound = ctx.conventions.clip_bound
    return (f"{what} clipped to [-{bound:g}, {bound:g}]; compute_gradients returns it unclipped "
            "and train clips it with clip_gradients.")


def _known_mistakes(ctx, case: Sequence, key: str) -> list:
    def variant(**switches):
        return lambda: ctx.variants.gradients(case.params, case.xs, case.ys, case.h0, **switches)[key]

    known = [
        ("the gradient does not flow back through h_{t-1}: dL/dh_t must include W^T dL/da_{t+1} "
         "(backpropagation through time).", variant(through_time=False)),
        ("tanh'(a_t) is written as 1 - h_t; it is 1 - h_t**2.", variant(tanh_grad="1 - h")),
        ("tanh'(a_t) is written as 1 - a_t**2; it is 1 - tanh(a_t)**2 = 1 - h_t**2.", variant(tanh_grad="1 - a^2")),
        ("dW multiplies dL/da_t by h_t; it needs h_{t-1} (with h0 for t = 1).", variant(w_input="h_t")),
        (reduction_hint(ctx.conventions, "gradient"),
         variant(loss=other_reduction(ctx.conventions)) if case.tau > 1 else lambda: np.nan),
        (_clipped_hint(ctx, "the gradient is"),
         lambda: np.clip(_reference(ctx, case)[0][key], -ctx.conventions.clip_bound, ctx.conventions.clip_bound)),
    ]
    if case.K == case.m or key == "W":
        known.append((f"d{key} is transposed.", lambda: _reference(ctx, case)[0][key].T))
    return known


def _matches_reference(key: str):
    def prop(ctx, case: Sequence):
        grads, _, _ = _gradients(ctx, case, "grads")
        got = grads[key]
        ctx.expect_close(
            f"d{key}", got, _reference(ctx, case)[0][key], reason=f"d{key} differs from the reference",
            hint=sequence_hint(ctx, case, got, _known_mistakes(ctx, case, key), "compute_gradients", lambda v: v[0][key]),
        )

    prop.__doc__ = (
        f"grads['{key}'] is the exact gradient dL/d{key} of the loss (backpropagation through time over "
        f"all tau steps, starting from the given h0), as the reference computes it."
    )
    return check(f"compute_gradients: d{key} matches reference", sequences(), settings=("threshold",))(prop)


db_matches, dc_matches, dU_matches, dW_matches, dV_matches = (_matches_reference(k) for k in PARAM_NAMES)


@check("compute_gradients: consistent with own forward", sequences(), parts=PARAM_NAMES, settings=("threshold", "step"))
def finite_differences(ctx, case: Sequence):
    """For each parameter, the gradient predicts how the submission's OWN forward loss changes along a random
    direction D: sum(grads[k] * D) = (L(k + s D) - L(k - s D)) / (2 s), centered differences with step s.
    Needs no reference: a backward pass that disagrees with its own forward pass is wrong."""
    grads, _, _ = _gradients(ctx, case, "grads")
    params = case.params
    rng = np.random.default_rng(case.seed + 1)
    step = ctx.setting("step")
    failures = []
    for key in PARAM_NAMES:
        direction = rng.standard_normal(params[key].shape)
        direction /= np.linalg.norm(direction)
        losses = []
        for sign in (1, -1):
            moved = case.params
            moved[key] = params[key] + sign * step * direction
            losses.append(ctx.call("forward", moved, case.X, case.Y, case.h0, dims=case.dims, uses=("loss",),
                                   describe=f"{case.summary()}, {key} moved by {sign * step:g} along a random direction")[0])
        numerical = (losses[0] - losses[1]) / (2 * step)
        analytic = float(np.sum(grads[key] * direction))
        found = ctx.mismatch(f"directional derivative along {key}", analytic, numerical)
        if found is not None:
            failures.append((key, found))
    if failures:
        keys = [k for k, _ in failures]
        raise Failed(
            f"the gradient for {', '.join(keys)} disagrees with finite differences of your own forward",
            "\n".join(["expected: the finite difference of your forward's loss; got: sum(grads[k] * D)."]
                      + [f.text for _, f in failures]),
            "" if set(keys) & {"c", "V"} else f"c and V agree, b, U or W do not: the error is in the backward pass through tanh or {LINKS}.",
            parts=keys,
        )


@check("compute_gradients: returned loss and h_last", sequences(), parts=("loss", "h_last"), settings=("threshold",))
def loss_and_h_last(ctx, case: Sequence):
    """compute_gradients also returns the loss of forward and h_last = h_tau, the hidden state after the
    last step, shape (m, 1), which train passes on as the next hprev."""
    _, loss, h_last = _gradients(ctx, case, "loss", "h_last")
    expected_loss, _, H = ctx.reference.forward(*case.args)
    problems = []
    found = ctx.mismatch("loss", loss, expected_loss)
    if found is not None:
        other = other_reduction(ctx.conventions)
        hint = first_match(loss, [(reduction_hint(ctx.conventions),
                                   lambda: ctx.variants.forward(case.params, case.xs, case.ys, case.h0, loss=other)[0]
                                   if case.tau > 1 else np.nan)], ctx.threshold, ctx.floor)
        problems.append(("loss", found.text, hint))
    found = ctx.mismatch("h_last", h_last, H[:, -1:])
    if found is not None:
        hint = first_match(h_last, [("h_last is h0; return h_tau, the last hidden state.", lambda: case.h0),
                                    ("h_last is h_{tau-1}, one step early; return h_tau.",
                                     lambda: (case.h0 if case.tau == 1 else H[:, -2:-1]))], ctx.threshold, ctx.floor)
        problems.append(("h_last", found.text, hint))
    if problems:
        raise Failed(
            f"the returned {' and '.join(p for p, _, _ in problems)} differ(s) from the reference",
            "\n".join(text for _, text, _ in problems), " ".join(h for _, _, h in problems if h),
            parts=[p for p, _, _ in problems],
        )


@check("compute_gradients: gradients are not clipped",
       sequences(K=(3, 6), tau=(10, 16), scale=st.just(0.5), same_target=True), settings=("threshold",),
       applies=lambda conventions: conventions.clipping_matters)
def not_clipped(ctx, case: Sequence):
    """Gradients larger than the clip bound come back exactly as computed: clipping is train's job,
    with clip_gradients, after compute_gradients. Judged on dc and dV, which need only the forward pass,
    so that a backward-pass bug is not counted here a second time."""
    bound = ctx.conventions.clip_bound
    expected = _reference(ctx, case)[0]
    assume(np.max(np.abs(expected["c"])) > 1.5 * bound)
    grads, _, _ = _gradients(ctx, case, "grads")
    for key in ("c", "V"):
        ctx.expect_close(
            f"d{key}", grads[key], expected[key], reason=f"d{key}, with entries beyond the clip bound, differs from the reference",
            hint=first_match(grads[key], [(_clipped_hint(ctx, f"d{key} is"),
                                           lambda key=key: np.clip(expected[key], -bound, bound))], ctx.threshold, ctx.floor),
        )
