"""Checks of forward(params, X, Y, h0) -> (loss, P, H)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from grader.checks.compare import first_match
from grader.checks.core import Aborted, Failed, Raised, ask, check
from grader.checks.strategies import (
    EDGES,
    Sequence,
    edge_sequences,
    onehot,
    sequences,
    softmax_columns,
)
from grader.contract import Conventions, LossReduction
from grader.mistakes import named

LINKS = "what links the time steps: h_{t-1} in the forward pass, dL/da_{t+1} in the backward pass"


def other_reduction(conventions: Conventions) -> str:
    """The loss reduction of the assignment's other variant ("mean" when this one sums)."""
    return "mean" if conventions.loss is LossReduction.SUM else "sum"


def reduction_hint(conventions: Conventions, what: str = "loss", cause: str = "forward.loss_reduction") -> str:
    """The hint for a submission written for the other variant's loss reduction."""
    if conventions.loss is LossReduction.SUM:
        return named(cause, f"your {what} is the mean over the sequence (divided by tau); this assignment sums the loss "
                "over the sequence, as in its contract.")
    return named(cause, f"your {what} is the sum over the sequence; this assignment takes the mean over the sequence "
            "(divide by tau), as in its contract.")


def _first_step(case: Sequence) -> tuple:
    """The case cut to its first time step: same params and h0, x_1, y_1."""
    return case.params, onehot(case.xs[:1], case.K), onehot(case.ys[:1], case.K), case.h0


def first_step_agrees(ctx, case: Sequence, function: str, pick: Callable) -> bool:
    """Whether the submission gets the first time step alone right (same params, h0, x_1, y_1).

    ``pick`` takes the quantity from return values of ``function``, the submission's or the reference's.
    """
    args = _first_step(case)
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


def sequence_probes(function: str, mistakes: Callable) -> Callable:
    """The probes (Check.probes) of a check whose hint is sequence_hint over the known mistakes
    ``mistakes(ctx, case)`` of ``function``: each mistake's output and the reference's first time step."""

    def probes(ctx, case: Sequence) -> None:
        ask(mistakes(ctx, case))
        if case.tau > 1:
            getattr(ctx.reference, function)(*_first_step(case))

    return probes


def _forward(ctx, case: Sequence, *uses: str):
    return ctx.call("forward", *case.args, dims=case.dims, describe=case.summary(), uses=uses or None)


def _variant(ctx, case: Sequence, **switches):
    return ctx.variants.forward(case.params, case.xs, case.ys, case.h0, **switches)


def _hidden_state_mistakes(ctx, case: Sequence, index: int) -> list:
    return [
        (named("forward.h0_unused", "h0 is not used: the first step starts from zeros instead of h0."), lambda: _variant(ctx, case, use_h0=False)[index]),
        (named("forward.state_not_carried", "the hidden state is not carried: every step starts from h0 instead of h_{t-1}."),
         lambda: _variant(ctx, case, carry=False)[index]),
        (named("forward.bias_inside", "b is inside the matrix product, W (h_{t-1} + b); the contract adds it after: "
                 "W h_{t-1} + U x_t + b."),
         lambda: _variant(ctx, case, bias_inside=True)[index]),
    ]


def own(ctx, case: Sequence, name: str):
    """The submission's own forward output ``name`` for this case, or None if it cannot give one."""
    try:
        values = _forward(ctx, case, name)
    except (Failed, Aborted):
        return None
    return values[("loss", "P", "H").index(name)]


def carried(ctx, got, composed, what: str) -> bool:
    """Whether ``got`` is what the contract gives from the submission's own (wrong) ``composed``."""
    return composed is not None and ctx.mismatch(what, got, composed) is None


def loss_of(ctx, case: Sequence, P) -> float:
    """The contract's loss of a given P: -log(y_t^T p_t) summed over t, or their mean."""
    picked = P[case.ys, np.arange(case.tau)]
    if np.any(picked <= 0):
        return np.inf
    return -np.sum(np.log(picked)) / (case.tau if ctx.conventions.loss is LossReduction.MEAN else 1)


def _loss_mistakes(ctx, case: Sequence) -> list:
    return [
        (reduction_hint(ctx.conventions),
         lambda: _variant(ctx, case, loss=other_reduction(ctx.conventions))[0] if case.tau > 1 else np.nan),
        (named("forward.loss_of_input", "the loss uses the probability of the input x_t instead of the target y_t."),
         lambda: ctx.variants.forward(case.params, case.xs, case.xs, case.h0)[0]),
        (named("forward.softmax_axis", "P is normalised over time instead of over characters: softmax over the wrong axis."),
         lambda: -np.sum(np.log(ctx.variants.softmax_over_time(*_indices(case))[case.ys, np.arange(case.tau)]))
         / (case.tau if ctx.conventions.loss is LossReduction.MEAN else 1)),
        *_hidden_state_mistakes(ctx, case, 0),
    ]


@check("forward: loss matches reference", sequences(), settings=("threshold",),
       probes=sequence_probes("forward", _loss_mistakes))
def loss_matches(ctx, case: Sequence):
    """loss = -log(y_t^T p_t) summed over the tau steps (or their mean, as the contract's conventions say),
    with a_t = W h_{t-1} + U x_t + b, h_t = tanh(a_t), p_t = softmax(V h_t + c), starting from the given h0.
    A loss that is exactly the contract's loss of a wrong P is P's error (forgiven here)."""
    loss, _, _ = _forward(ctx, case, "loss")
    expected = ctx.reference.forward(*case.args)[0]
    if ctx.mismatch("loss", loss, expected) is not None:
        P = own(ctx, case, "P")
        if P is not None and carried(ctx, loss, loss_of(ctx, case, P), "loss"):
            raise Failed(f"the loss is {loss:.8g}, the reference's {expected:.8g}", carried_from="forward's P")
    ctx.expect_close("loss", loss, expected, reason=f"the loss is {loss:.8g}, the reference's {expected:.8g}",
                     hint=sequence_hint(ctx, case, loss, _loss_mistakes(ctx, case), "forward", lambda v: v[0]))


def _p_mistakes(ctx, case: Sequence) -> list:
    return [
        (named("forward.softmax_axis", "P is normalised over time instead of over characters: softmax over the wrong axis."),
         lambda: ctx.variants.softmax_over_time(*_indices(case))),
        *_hidden_state_mistakes(ctx, case, 1),
    ]


@check("forward: P matches reference", sequences(), settings=("threshold",),
       probes=sequence_probes("forward", _p_mistakes))
def p_matches(ctx, case: Sequence):
    """P has p_t = softmax(V h_t + c) as column t: one probability per character (rows) and time step (columns).
    A P that is exactly the softmax of your own (wrong) H is H's error (forgiven here)."""
    _, P, _ = _forward(ctx, case, "P")
    expected = ctx.reference.forward(*case.args)[1]
    if ctx.mismatch("P", P, expected) is not None:
        H = own(ctx, case, "H")
        if H is not None and carried(ctx, P, softmax_columns(case.params["V"] @ H + case.params["c"]), "P"):
            raise Failed("P differs from the reference", carried_from="forward's H")
    ctx.expect_close("P", P, expected, reason="P differs from the reference",
                     hint=sequence_hint(ctx, case, P, _p_mistakes(ctx, case), "forward", lambda v: v[1]))


def _h_mistakes(ctx, case: Sequence) -> list:
    return [
        ("H holds a_t, the values before tanh; store h_t = tanh(a_t).", lambda: _variant(ctx, case)[3]),
        ("H holds h_0..h_{tau-1}, one step behind; column t is h_t for t = 1..tau.",
         lambda: np.hstack([case.h0, _variant(ctx, case)[2][:, :-1]])),
        *_hidden_state_mistakes(ctx, case, 2),
    ]


@check("forward: H matches reference", sequences(), settings=("threshold",),
       probes=sequence_probes("forward", _h_mistakes))
def h_matches(ctx, case: Sequence):
    """H has h_t = tanh(W h_{t-1} + U x_t + b) as column t, for t = 1..tau (h0 itself is not a column)."""
    _, _, H = _forward(ctx, case, "H")
    ctx.expect_close("H", H, ctx.reference.forward(*case.args)[2], reason="H differs from the reference",
                     hint=sequence_hint(ctx, case, H, _h_mistakes(ctx, case), "forward", lambda v: v[2]))


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
        hint = (named("forward.softmax_axis", "the rows of P sum to 1, not the columns: softmax over the wrong axis.")
                if np.allclose(rows, 1, atol=ctx.threshold) else "")
        raise Failed(f"column {t} of P sums to {sums[t]:.10g}, not 1", f"column sums: {np.round(sums, 10).tolist()}", hint)


def _indices(case: Sequence):
    return case.params, case.xs, case.ys, case.h0


@check("forward: float64 arithmetic", sequences())
def float64(ctx, case: Sequence):
    """forward computes and returns float64, as the whole contract does: no float32 array, and no float64
    array holding only float32 numbers (computed in float32, then converted). (float32 rounds after about 7
    digits, which finite differences and the course's 1e-7 gradient checks cannot work with. Other checks
    allow for float32 rounding, so that it is counted here only.)"""
    _forward(ctx, case)
    if ctx.float32:
        raise Failed(f"forward computes in float32: {'; '.join(ctx.float32)}",
                     hint=named("forward.float32", "forward works in float32 (e.g. np.zeros(..., dtype=np.float32) or "
                                ".astype(np.float32)); keep numpy's default float64 throughout."))


@check("forward: stable with large logits", sequences(logit_offset=st.sampled_from([1000.0, -1000.0])),
       settings=("threshold",))
def large_logits(ctx, case: Sequence):
    """With every logit o_t shifted by +1000 or -1000 (c shifted; their differences as in a typical case),
    forward returns what it returns without the shift: softmax(o + s) = softmax(o), and only the form
    exp(o - max(o)) / sum(exp(o - max(o))) computes it without overflow (exp(1000) is inf in float64) or
    0/0. Judged against your own forward on the unshifted case, so that other errors are not counted here."""
    hint = named("forward.unstable_softmax", "softmax without subtracting the maximum: exp(o) overflows for large logits (or 0/0 for very negative "
            "ones); compute exp(o - max(o)) / sum(exp(o - max(o))).")
    try:
        loss, P, _ = _forward(ctx, case, "loss", "P")
    except Failed as failure:
        raise Failed(failure.reason, failure.details, hint) from None
    try:
        plain_loss, plain_P, _ = _forward(ctx, replace(case, logit_offset=0.0), "loss", "P")
    except Failed:
        return  # forward fails without large logits too: its other checks say why
    ctx.expect_close("P", P, plain_P, reason=f"P with every logit shifted by {case.logit_offset:g} differs from P without "
                     "the shift", hint=hint)
    ctx.expect_close("loss", loss, plain_loss, reason=f"the loss with every logit shifted by {case.logit_offset:g} "
                     "differs from the loss without the shift", hint=hint)


def typical_twin(case: Sequence) -> Sequence:
    """The edge case's draw at typical sizes instead of m = 1, tau = 1, K = 2."""
    return case.resized(**{d: {"K": 4, "m": 3, "tau": 3}[d] for d, v in EDGES.items() if getattr(case, d) == v})


def edge_check(function: str, compare):
    """A property: ``function`` handles the degenerate sizes as it handles typical ones.

    ``compare(ctx, case)`` raises Failed when the function's answer is wrong for ``case`` (with
    ``carried_from`` when another function's output explains it). A case fails only if the same draw at
    typical sizes passes: a bug that shows at every size belongs to the function's main checks, and is not
    counted a second time here.
    """

    def prop(ctx, case: Sequence):
        twin = typical_twin(case)
        try:
            compare(ctx, twin)  # first, and always: the student kit replays expected values in order
        except Raised as crash:  # a crash everywhere is no bug "at every size" that another check owns
            raise Failed(f"{function} raises at typical sizes too ({crash.reason}): it works at no size",
                         crash.details) from None
        except Failed:
            return
        try:
            compare(ctx, case)
        except Failed as failure:
            if failure.carried_from:  # another function's fault, whatever the size
                raise
            raise Failed(f"{failure.reason}; at {twin.summary()} it is right", failure.details,
                         f"{function} works at typical sizes but not at {case.summary()}: look for code that "
                         "assumes m > 1, tau > 1 or K > 2 (np.diag or squeeze on a single entry, indexing t - 1 "
                         "or t + 1, a fixed axis).") from None

    prop.__doc__ = (f"{function} gives the reference's results at the degenerate sizes m = 1, tau = 1 and K = 2 "
                    "(each alone or together). Counted only where the same draw at typical sizes is right, so "
                    "that a wrong answer at every size costs this check nothing; a crash at every size fails it.")
    return prop


def _forward_agrees(ctx, case: Sequence):
    loss, P, H = _forward(ctx, case)
    expected = ctx.reference.forward(*case.args)
    for label, got, want in zip(("loss", "P", "H"), (loss, P, H), expected):
        ctx.expect_close(label, got, want, reason=f"{label} differs from the reference")


edge_sizes = check("forward: edge sizes (m = 1, tau = 1, K = 2)", edge_sequences(), settings=("threshold",))(
    edge_check("forward", _forward_agrees))
