"""Checks of compute_gradients(params, X, Y, h0) -> (grads, loss, h_last)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from grader.checks.compare import first_match, show
from grader.checks.core import Aborted, Failed, ask, check
from grader.checks.forward import (
    LINKS,
    edge_check,
    other_reduction,
    reduction_hint,
    sequence_hint,
    sequence_probes,
    typical_twin,
)
from grader.checks.strategies import PARAM_NAMES, Sequence, edge_sequences, sequences
from grader.mistakes import joined, named
from grader.oracle import NotRecorded


def _gradients(ctx, case: Sequence, *uses: str):
    return ctx.call("compute_gradients", *case.args, dims=case.dims, describe=case.summary(), uses=uses or None)


def _reference(ctx, case: Sequence):
    return ctx.reference.compute_gradients(*case.args)


def _clipped_hint(ctx, what: str) -> str:
    bound = ctx.conventions.clip_bound
    return named("compute_gradients.clipped", f"{what} clipped to [-{bound:g}, {bound:g}]; compute_gradients returns it unclipped "
            "and train clips it with clip_gradients.")


def _known_mistakes(ctx, case: Sequence, key: str) -> list:
    def variant(**switches):
        return lambda: ctx.variants.gradients(case.params, case.xs, case.ys, case.h0, **switches)[key]

    known = [
        (named("compute_gradients.no_bptt", "the gradient does not flow back through h_{t-1}: dL/dh_t must include "
               "W^T dL/da_{t+1} (backpropagation through time)."), variant(through_time=False)),
        (named("compute_gradients.tanh_grad_h", "tanh'(a_t) is written as 1 - h_t; it is 1 - h_t**2."), variant(tanh_grad="1 - h")),
        (named("compute_gradients.tanh_grad_a", "tanh'(a_t) is written as 1 - a_t**2; it is 1 - tanh(a_t)**2 = 1 - h_t**2."), variant(tanh_grad="1 - a^2")),
        (named("compute_gradients.dw_uses_h_t", "dW multiplies dL/da_t by h_t; it needs h_{t-1} (with h0 for t = 1)."), variant(w_input="h_t")),
        (reduction_hint(ctx.conventions, "gradient", "compute_gradients.loss_reduction"),
         variant(loss=other_reduction(ctx.conventions)) if case.tau > 1 else lambda: np.nan),
        (_clipped_hint(ctx, "the gradient is"),
         lambda: np.clip(_reference(ctx, case)[0][key], -ctx.conventions.clip_bound, ctx.conventions.clip_bound)),
    ]
    if case.K == case.m or key == "W":
        known.append((named("compute_gradients.transposed", f"d{key} is transposed."), lambda: _reference(ctx, case)[0][key].T))
    return known


def _gradient_mistakes(ctx, case: Sequence) -> list:
    return _known_mistakes(ctx, case, "W")  # W's list is every key's, and the transposed one


def _carried_probes(ctx, case: Sequence) -> None:
    """The backward pass of the known forwards: what error carried forward asks in the student kit."""
    for P, H in _known_forwards(ctx, case):
        _backward(ctx, case, P, H)


def _gradient_probes(ctx, case: Sequence) -> None:
    """What the gradient checks ask aside about a case: the known mistakes' gradients and the backward pass of
    the known forwards."""
    ask(_gradient_mistakes(ctx, case))
    _carried_probes(ctx, case)


def _edge_probes(ctx, case: Sequence) -> None:
    for compared in (typical_twin(case), case):
        _carried_probes(ctx, compared)


def _matches_probes(ctx, case: Sequence) -> None:
    _gradient_probes(ctx, case)
    sequence_probes("compute_gradients", _gradient_mistakes)(ctx, case)


FD_STEP = 1e-5  # centered differences when a check has no step of its own in grading.yaml


def _directional(ctx, case: Sequence, grads, keys) -> dict:
    """For each key, the mismatch (or None) between sum(grads[k] * D) and the centered difference of the
    submission's OWN forward loss along a random unit direction D, with grading.yaml's step."""
    params = case.params
    rng = np.random.default_rng(case.seed + 1)
    step = ctx.spec.settings.get("step", FD_STEP)
    directions = {}
    for key in PARAM_NAMES:
        direction = rng.standard_normal(params[key].shape)
        directions[key] = direction / np.linalg.norm(direction)
    moves = [(key, sign) for key in PARAM_NAMES if key in keys for sign in (1, -1)]
    arguments = []
    for key, sign in moves:
        moved = case.params
        moved[key] = params[key] + sign * step * directions[key]
        arguments.append((moved, case.X, case.Y, case.h0))
    losses: list[float] = []
    found = {}

    def compare(n: int, values) -> None:  # once both losses along a direction are in, as ctx is then
        losses.append(values[0])
        if n % 2:
            key = moves[n][0]
            numerical = (losses[n - 1] - losses[n]) / (2 * step)
            found[key] = ctx.mismatch(f"directional derivative along {key}",
                                      float(np.sum(grads[key] * directions[key])), numerical)

    ctx.call_each("forward", arguments, dims=case.dims, uses=("loss",), after=compare,
                  describe=[f"{case.summary()}, {key} moved by {sign * step:g} along a random direction"
                            for key, sign in moves])
    return found


def _composed(ctx, case: Sequence):
    """The contract's backward pass applied to the submission's own forward (its P and H), or None when
    that cannot be had (forward fails, or the student kit has no such values).

    The student kit holds the backward pass of known forwards only (the reference's, and forward's known
    mistakes', recorded by the probes): where the submission's P and H are one of those, to the check's
    tolerance (float32's for a float32 forward), it takes that one's."""
    try:
        _, P, H = ctx.call("forward", *case.args, dims=case.dims, describe=case.summary(), uses=("P", "H"))
        with ctx.oracle.aside():
            try:
                return _backward(ctx, case, P, H)
            except NotRecorded:
                known = [(kP, kH) for kP, kH in _known_forwards(ctx, case)
                         if ctx.mismatch("P", P, kP) is None and ctx.mismatch("H", H, kH) is None]
                return _backward(ctx, case, *known[0]) if known else None
    except (Failed, Aborted, NotRecorded):
        return None


def _backward(ctx, case: Sequence, P, H):
    return ctx.variants.backward(case.params, case.xs, case.ys, case.h0, P, H)


def _known_forwards(ctx, case: Sequence) -> list[tuple]:
    """(P, H) of the reference's forward and of forward's known mistakes that change P or H."""
    _, P, H = ctx.reference.forward(*case.args)
    known = [(P, H), (ctx.variants.softmax_over_time(case.params, case.xs, case.ys, case.h0), H)]
    for switches in ({"use_h0": False}, {"carry": False}, {"bias_inside": True}):
        _, P, H, _ = ctx.variants.forward(case.params, case.xs, case.ys, case.h0, **switches)
        known.append((P, H))
    return known


def _cut_at_bound(ctx, got, expected) -> bool:
    """Whether ``got`` is ``expected`` clipped to the contract's bound, where some entry is beyond it."""
    bound = ctx.conventions.clip_bound
    return bool(np.any(np.abs(expected) > bound)) and ctx.mismatch("", got, np.clip(expected, -bound, bound)) is None


def _own_forward_explains(ctx, case: Sequence, grads, keys) -> bool:
    """Whether the gradients of ``keys`` are exactly those of the submission's own forward: the contract's
    backward pass of its P and H, or the finite differences of its loss."""
    composed = _composed(ctx, case)
    if composed is not None and all(ctx.mismatch(k, grads[k], composed[k]) is None for k in keys):
        return True
    try:
        return all(m is None for m in _directional(ctx, case, grads, keys).values())
    except (Failed, Aborted):
        return False


@check("compute_gradients: gradients match reference", sequences(), parts=PARAM_NAMES, settings=("threshold",),
       probes=_matches_probes)
def matches_reference(ctx, case: Sequence):
    """grads[k] is the exact gradient dL/dk of the loss (backpropagation through time over all tau steps,
    starting from the given h0), as the reference computes it, for every k in b, c, U, W, V. Gradients
    that are exactly those of your own forward (when forward is wrong) are forward's error; gradients cut
    at the clip bound are counted by "gradients are not clipped"."""
    grads, _, _ = _gradients(ctx, case, "grads")
    expected = _reference(ctx, case)[0]
    wrong = {k: found for k in PARAM_NAMES if (found := ctx.mismatch(f"d{k}", grads[k], expected[k])) is not None}
    if not wrong:
        return
    if all(_cut_at_bound(ctx, grads[k], expected[k]) for k in wrong):
        return  # clipped inside compute_gradients: counted by "gradients are not clipped"
    if _own_forward_explains(ctx, case, grads, wrong):
        raise Failed(f"d{', d'.join(wrong)} differ(s) from the reference", carried_from="forward", parts=list(wrong))
    first = next(iter(wrong))
    raise Failed(
        f"d{', d'.join(wrong)} differ(s) from the reference (relative error {wrong[first].error:.1e})",
        "\n".join(f.text for f in wrong.values()),
        sequence_hint(ctx, case, grads[first], _known_mistakes(ctx, case, first), "compute_gradients",
                      lambda v: v[0][first]),
        parts=list(wrong),
    )


@check("compute_gradients: consistent with own forward", sequences(), parts=PARAM_NAMES, settings=("threshold", "step"),
       probes=_gradient_probes)
def finite_differences(ctx, case: Sequence):
    """For each parameter, the gradient predicts how the submission's OWN forward loss changes along a random
    direction D: sum(grads[k] * D) = (L(k + s D) - L(k - s D)) / (2 s), centered differences with step s.
    A backward pass that disagrees with its own forward pass is wrong, unless it is the reference's (or the
    contract's backward of your own P and H): then the disagreement is forward's error. Gradients cut at
    the clip bound are counted by "gradients are not clipped"."""
    grads, _, _ = _gradients(ctx, case, "grads")
    try:
        failures = {k: f for k, f in _directional(ctx, case, grads, PARAM_NAMES).items() if f is not None}
    except Failed as failure:  # your forward crashes or breaks its contract: its own checks count that
        raise Failed(f"your own forward fails on this case, so the gradients could not be checked against it "
                     f"({failure.reason})", failure.details, carried_from="forward") from None
    if not failures:
        return
    keys = list(failures)
    try:
        with ctx.oracle.aside():
            expected = _reference(ctx, case)[0]
    except NotRecorded:  # the student kit: nothing but your own forward to judge by
        expected = None
    explained = [e for e in (expected, _composed(ctx, case)) if e is not None]
    if _forward_in_float32(ctx) and explained and all(any(ctx.mismatch(k, grads[k], e[k]) is None for e in explained)
                                                      for k in keys):
        # finite differences of a float32 loss are its rounding noise divided by the step; forward's float64
        # check counts the float32, and the gradients are those of the contract's backward pass
        return
    if explained and all(any(_cut_at_bound(ctx, grads[k], e[k]) for e in explained) for k in keys):
        return  # clipped inside compute_gradients: counted by "gradients are not clipped", whatever the draw
    if explained and all(any(ctx.mismatch(k, grads[k], e[k]) is None for e in explained) for k in keys):
        raise Failed(f"the gradient for {', '.join(keys)} disagrees with finite differences of your own forward",
                     carried_from="forward", parts=keys)
    raise Failed(
        f"the gradient for {', '.join(keys)} disagrees with finite differences of your own forward",
        "\n".join(["expected: the finite difference of your forward's loss; got: sum(grads[k] * D)."]
                   + [f.text for f in failures.values()]),
        lambda: first_match(grads[keys[0]], _known_mistakes(ctx, case, keys[0]), ctx.threshold, ctx.floor) or (
            "" if set(keys) & {"c", "V"} else f"c and V agree, b, U or W do not: the error is in the backward pass "
            f"through tanh or {LINKS}."),
        parts=keys,
    )


def _forward_in_float32(ctx) -> bool:
    return any(place.startswith("forward's") for place in ctx.float32)


@check("compute_gradients: float64 arithmetic", sequences())
def float64(ctx, case: Sequence):
    """compute_gradients computes its gradients in float64: no float32 array, and no float64 array holding
    only float32 numbers. (float32 here is counted once, in this check; the other gradient checks allow for
    its rounding. float32 that comes from forward is forward's.)"""
    _gradients(ctx, case, "grads")
    mine = [place for place in ctx.float32 if place.startswith("compute_gradients's grads")]
    if not mine:
        return
    reason = f"compute_gradients computes in float32: {'; '.join(mine)}"
    try:
        ctx.call("forward", *case.args, dims=case.dims, describe=case.summary())
    except (Failed, Aborted):
        pass
    if _forward_in_float32(ctx):
        raise Failed(reason, carried_from="forward")  # float32 numbers from forward's P and H: forward's to fix
    raise Failed(reason, hint=named("compute_gradients.float32", "the gradients are computed in float32 (e.g. buffers made "
                                    "with dtype=np.float32); keep numpy's default float64 throughout."))


def _loss_mistakes(ctx, case: Sequence) -> list:
    other = other_reduction(ctx.conventions)
    return [(reduction_hint(ctx.conventions, cause="compute_gradients.loss_reduction"),
             lambda: ctx.variants.forward(case.params, case.xs, case.ys, case.h0, loss=other)[0] if case.tau > 1 else np.nan)]


@check("compute_gradients: returned loss and h_last", sequences(), parts=("loss", "h_last"), settings=("threshold",),
       probes=lambda ctx, case: ask(_loss_mistakes(ctx, case)))
def loss_and_h_last(ctx, case: Sequence):
    """compute_gradients also returns the loss of forward and h_last = h_tau, the hidden state after the
    last step, shape (m, 1), which train passes on as the next hprev."""
    _, loss, h_last = _gradients(ctx, case, "loss", "h_last")
    expected_loss, _, H = ctx.reference.forward(*case.args)
    problems = []
    found = ctx.mismatch("loss", loss, expected_loss)
    if found is not None:
        problems.append(("loss", found.text, lambda: first_match(loss, _loss_mistakes(ctx, case), ctx.threshold, ctx.floor)))
    found = ctx.mismatch("h_last", h_last, H[:, -1:])
    if found is not None:
        problems.append(("h_last", found.text, lambda: first_match(h_last, [
            (named("compute_gradients.h_last_is_h0", "h_last is h0; return h_tau, the last hidden state."), lambda: case.h0),
            (named("compute_gradients.h_last_early", "h_last is h_{tau-1}, one step early; return h_tau."),
             lambda: (case.h0 if case.tau == 1 else H[:, -2:-1]))], ctx.threshold, ctx.floor)))
    if problems and all(_own_forward_gives(ctx, case, part, value) for part, value in
                        (("loss", loss), ("h_last", h_last)) if part in {p for p, _, _ in problems}):
        raise Failed(f"the returned {' and '.join(p for p, _, _ in problems)} differ(s) from the reference",
                     carried_from="forward", parts=[p for p, _, _ in problems])
    if problems:
        raise Failed(
            f"the returned {' and '.join(p for p, _, _ in problems)} differ(s) from the reference",
            "\n".join(text for _, text, _ in problems), lambda: joined(h() for _, _, h in problems),
            parts=[p for p, _, _ in problems],
        )


def _own_forward_gives(ctx, case: Sequence, part: str, value) -> bool:
    """Whether the returned loss or h_last is exactly the submission's own forward's loss or last column of H."""
    try:
        loss, _, H = ctx.call("forward", *case.args, dims=case.dims, describe=case.summary(), uses=("loss", "H"))
    except (Failed, Aborted):
        return False
    return ctx.mismatch(part, value, loss if part == "loss" else H[:, -1:]) is None


@check("compute_gradients: gradients are not clipped",
       sequences(K=(3, 6), tau=(10, 16), scale=st.just(0.5), same_target=True, v_scale=st.just(20.0)),
       settings=("threshold",))
def not_clipped(ctx, case: Sequence):
    """Gradients larger than the clip bound come back as computed, not cut at the bound: clipping is train's
    job, with clip_gradients, after compute_gradients. V is scaled up so that some gradient passes the bound
    whatever the loss's reduction (with the summed loss dc piles up over the sequence; with the mean, dV and
    dc stay within [-1, 1] but V^T dL/do_t takes db, dU and dW past it). Gradients that are wrong in another
    way are the other gradient checks' business."""
    bound = ctx.conventions.clip_bound
    expected = _reference(ctx, case)[0]
    beyond = [k for k in PARAM_NAMES if np.max(np.abs(expected[k])) > 1.5 * bound]
    assume(beyond)
    grads, _, _ = _gradients(ctx, case, "grads")
    for key in beyond:
        if _cut_at_bound(ctx, grads[key], expected[key]):
            raise Failed(
                f"d{key} is cut at the clip bound {bound:g}: the reference's entries reach "
                f"{np.max(np.abs(expected[key])):.4g}",
                f"expected d{key} = {show(expected[key])}\ngot      d{key} = {show(grads[key])}",
                _clipped_hint(ctx, f"d{key} is"),
            )


def _gradients_agree(ctx, case: Sequence):
    grads, loss, h_last = _gradients(ctx, case)
    expected, expected_loss, expected_h = _reference(ctx, case)
    wrong = [k for k in PARAM_NAMES if ctx.mismatch(f"d{k}", grads[k], expected[k]) is not None]
    if wrong and _own_forward_explains(ctx, case, grads, wrong):  # e.g. forward's float32 rounding, at m = 1
        raise Failed(f"d{', d'.join(wrong)} differ(s) from the reference", carried_from="forward")
    for k in PARAM_NAMES:
        ctx.expect_close(f"d{k}", grads[k], expected[k], reason=f"d{k} differs from the reference")
    ctx.expect_close("loss", loss, expected_loss, reason="the loss differs from the reference")
    ctx.expect_close("h_last", h_last, expected_h, reason="h_last differs from the reference")


edge_sizes = check("compute_gradients: edge sizes (m = 1, tau = 1, K = 2)", edge_sequences(), settings=("threshold",),
                   probes=_edge_probes)(
    edge_check("compute_gradients", _gradients_agree))
