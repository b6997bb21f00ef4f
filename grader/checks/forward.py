"""Checks of forward(params, X, Y, h0) -> (loss, P, H)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.checks.compare import first_match
from grader.checks.core import Failed, check
from grader.checks.strategies import Sequence, onehot, sequences
from grader.contract import Conventions, LossReduction

LINKS = "what links the time steps: h_{t-1} in the forward pass, dL/da_{t+1} in the backward pass"


def other_reduction(conventions: Conventions) -> str:
    """The loss reduction of the assignment's other variant ("mean" when this one sums)."""
    return "mean" if conventions.loss is LossReduction.SUM else "sum"


def reduction_hint(conventions: Conventions, what: str = "loss") -> str:
    """The hint for a submission written for the other variant's loss reduction."""
    if conventions.loss is LossReduction.SUM:
        return (f"your {what} is the mean over the sequence (divided by tau); this assignment sums the loss "
                "over the sequence, as in its contract.")
    return (f"your {what} is the sum over the sequence; this assignment takes the mean over the sequence "
            "(divide by tau), as in its contract.")


def first_step_agrees(ctx, case: Sequence, function: str, pick: Callable) -> bool:
    """Whether the submission gets the first time step alone right (same params, h0, x_1, y_1).

    ``pick`` takes the quantity from return values of ``function``, the submission's or the reference's.
    """
    args = (case.params, onehot(case.xs[:1], case.K), onehot(case.ys[:1], case.K), case.h0)
    values = ctx.call(function, *args, dims={**case.dims, "tau": 1}, describe=f"{case.summary()} cut to tau = 1")
    return ctx.mismatch("", pick(values), pick(getattr(ctx.reference, function)(*args))) is None


def sequence_hint(ctx, case: Sequence, got, known: list, function: str, pick: Callable):
    """A hint (callable, evaluated for the final case only): a known mistake, or 'only tau = 1 is right'."""

    def hint() -> str:
        found = first_match(got, known, ctx.threshold, ctx.floor)
        if found or case.tau == 1:
            return found
        if first_step_agrees(ctx, case, function, pick):
            return f"correct for tau = 1, wrong for tau = {case.tau}: look at {LINKS}."
        return ""

    return hint


def _forward(ctx, case: Sequence, *uses: str):
    return ctx.call("forward", *case.args, dims=case.dims, describe=case.summary(), uses=uses or None)


def _variant(ctx, case: Sequence, **switches):
    return ctx.variants.forward(case.params, case.xs, case.ys, case.h0, **switches)


def _hidden_state_mistakes(ctx, case: Sequence, index: int) -> list:
    return [
        ("h0 is not used: the first step starts from zeros instead of h0.", lambda: _variant(ctx, case, use_h0=False)[index]),
        ("the hidden state is not carried: every step starts from h0 instead of h_{t-1}.",
         lambda: _variant(ctx, case, carry=False)[index]),
    ]


@check("forward: loss matches reference", sequences(), settings=("threshold",))
def loss_matches(ctx, case: Sequence):
    """loss = -log(y_t^T p_t) summed over the tau steps (or their mean, as the contract's conventions say),
    with a_t = W h_{t-1} + U x_t + b, h_t = tanh(a_t), p_t = softmax(V h_t + c), starting from the given h0."""
    loss, _, _ = _forward(ctx, case, "loss")
    expected = ctx.reference.forward(*case.args)[0]
    known = [
        (reduction_hint(ctx.conventions),
         lambda: _variant(ctx, case, loss=other_reduction(ctx.conventions))[0] if case.tau > 1 else np.nan),
        ("the loss uses the probability of the input x_t instead of the target y_t.",
         lambda: ctx.variants.forward(case.params, case.xs, case.xs, case.h0)[0]),
        ("P is normalised over time instead of over characters: softmax over the wrong axis.",
         lambda: -np.sum(np.log(ctx.variants.softmax_over_time(*_indices(case))[case.ys, np.arange(case.tau)]))
         / (case.tau if ctx.conventions.loss is LossReduction.MEAN else 1)),
        *_hidden_state_mistakes(ctx, case, 0),
    ]
    ctx.expect_close("loss", loss, expected, reason=f"the loss is {loss:.8g}, the reference's {expected:.8g}",
                     hint=sequence_hint(ctx, case, loss, known, "forward", lambda v: v[0]))


@check("forward: P matches reference", sequences(), settings=("threshold",))
def p_matches(ctx, case: Sequence):
    """P has p_t = softmax(V h_t + c) as column t: one probability per character (rows) and time step (columns)."""
    _, P, _ = _forward(ctx, case, "P")
    known = [
        ("P is normalised over time instead of over characters: softmax over the wrong axis.",
         lambda: ctx.variants.softmax_over_time(*_indices(case))),
        *_hidden_state_mistakes(ctx, case, 1),
    ]
    ctx.expect_close("P", P, ctx.reference.forward(*case.args)[1], reason="P differs from the reference",
                     hint=sequence_hint(ctx, case, P, known, "forward", lambda v: v[1]))


@check("forward: H matches reference", sequences(), settings=("threshold",))
def h_matches(ctx, case: Sequence):
    """H has h_t = tanh(W h_{t-1} + U x_t + b) as column t, for t = 1..tau (h0 itself is not a column)."""
    _, _, H = _forward(ctx, case, "H")
    known = [
        ("H holds a_t, the values before tanh; store h_t = tanh(a_t).", lambda: _variant(ctx, case)[3]),
        ("H holds h_0..h_{tau-1}, one step behind; column t is h_t for t = 1..tau.",
         lambda: np.hstack([case.h0, _variant(ctx, case)[2][:, :-1]])),
        *_hidden_state_mistakes(ctx, case, 2),
    ]
    ctx.expect_close("H", H, ctx.reference.forward(*case.args)[2], reason="H differs from the reference",
                     hint=sequence_hint(ctx, case, H, known, "forward", lambda v: v[2]))


@check("forward: P columns are distributions", sequences(), settings=("threshold",))
def p_distributions(ctx, case: Sequence):
    """Every column of P is a probability distribution: entries in [0, 1] that sum to 1."""
    _, P, _ = _forward(ctx, case, "P")
    sums = P.sum(axis=0)
    if np.any(P < 0) or np.any(P > 1):
        raise Failed("P has entries outside [0, 1]", f"smallest {P.min():.6g}, largest {P.max():.6g}")
    off = np.abs(sums - 1)
    if np.max(off) > ctx.threshold:
        t = int(np.argmax(off))
        rows = P.sum(axis=1)
        hint = ("the rows of P sum to 1, not the columns: softmax over the wrong axis."
                if np.allclose(rows, 1, atol=ctx.threshold) else "")
        raise Failed(f"column {t} of P sums to {sums[t]:.10g}, not 1", f"column sums: {np.round(sums, 10).tolist()}", hint)


def _indices(case: Sequence):
    return case.params, case.xs, case.ys, case.h0
