"""Checks of train(text, params, n_updates, eta=<conventions>, seq_length=<conventions>) -> (params, smooth_loss)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from grader.checks.compare import first_match
from grader.checks.core import Failed, check
from grader.checks.forward import other_reduction
from grader.checks.strategies import Fixed, Text, copy_params, flat, texts
from grader.contract import OPTIMIZERS, LossReduction


def _depends(ctx) -> str:
    return (f"train uses your compute_gradients, clip_gradients and {ctx.conventions.optimizer.function}: if their "
            "checks fail, fix those first.")


def _train(ctx, case: Text, *uses: str):
    return ctx.call("train", *case.args, dims=case.dims, describe=case.summary(), uses=uses or None)


def reference_run(ctx, case: Text):
    """The reference's (params, smooth_loss) for this run."""
    return ctx.reference.train(*case.args)


def _other_variants(ctx) -> list[tuple[str, dict]]:
    """The other years' conventions a submission may have been written for, as variants.train switches."""
    conventions = ctx.conventions
    this = type(conventions.optimizer)
    other_optimizer = next(name for name, kind in OPTIMIZERS.items() if kind is not this)
    other_loss = other_reduction(conventions)
    words = {"sum": "sums the loss over the sequence", "mean": "takes the mean of the loss over the sequence"}
    this_loss = "sum" if conventions.loss is LossReduction.SUM else "mean"
    found = []
    for loss, optimizer in ((other_loss, None), (None, other_optimizer), (other_loss, other_optimizer)):
        yours = [words[loss]] if loss else []
        ours = [words[this_loss]] if loss else []
        if optimizer:
            yours.append(f"updates with {OPTIMIZERS[optimizer].title}")
            ours.append(f"updates with {this.title}")
        found.append((f"your train {' and '.join(yours)}, as another year's version of the assignment did; "
                      f"this assignment {' and '.join(ours)}.", {"loss": loss, "optimizer": optimizer}))
    return found


def _mistakes(ctx, case: Text, index: int, flatten=lambda v: v) -> list:
    """Hints for a wrong run, each with what that mistake returns (index 0: params, 1: smooth loss)."""

    def run(**switches):
        return lambda: flatten(ctx.variants.train(*case.args, **switches)[index])

    step = ctx.conventions.optimizer.function
    return [
        *((hint, run(**switches)) for hint, switches in _other_variants(ctx)),
        (f"the gradients are not clipped: train passes clip_gradients(grads) (bound {ctx.conventions.clip_bound:g}) "
         f"to {step}.", run(clip=False)),
        ("hprev is not carried between updates: each update must start from the previous update's h_last.",
         run(carry=False)),
        ("hprev is not reset when the position wraps to 0: set hprev back to zeros there.", run(reset=False)),
        ("the position wraps one window too early: wrap when e > len(text) - seq_length - 1 (a window may end on "
         "the last character).", run(early_wrap=True)),
        ("the smooth loss starts at -log(1/K) * seq_length (as in min-char-rnn); the contract starts it at the first "
         "update's loss.", run(uniform_start=True)),
    ]


def _compare_params(ctx, case: Text, params, reason: str, parts=()):
    expected, _ = reference_run(ctx, case)
    got = flat(params)
    ctx.expect_close("params", got, flat(expected), reason=reason, parts=parts,
                     hint=lambda: first_match(got, _mistakes(ctx, case, 0, flat), ctx.threshold, ctx.floor) or _depends(ctx))


@check("train: smooth loss matches reference", texts(), parts=("smooth_loss", "params"), settings=("threshold",))
def matches_reference(ctx, case: Text):
    """From the same starting params, train returns the reference's smooth loss after every update and the
    reference's final params: windows X = text[e:e+seq_length], Y = text[e+1:e+seq_length+1], gradients from
    hprev, clipped to the clip bound, one optimizer step, smooth = decay * smooth + (1 - decay) * loss
    (starting at the first loss), e += seq_length, wrapping to 0 (with hprev = zeros) when
    e > len(text) - seq_length - 1. Texts include lengths where the last window ends exactly on the last
    character."""
    params, smooth = _train(ctx, case)
    expected_params, expected_smooth = reference_run(ctx, case)
    problems = []
    for part, got, expected in (("smooth_loss", smooth, expected_smooth), ("params", flat(params), flat(expected_params))):
        found = ctx.mismatch(part, got, expected)
        if found is not None:
            problems.append((part, found, got))
    if problems:
        details = [f.text for _, f, _ in problems]
        if problems[0][0] == "smooth_loss":
            errors = np.abs(smooth - expected_smooth) / np.maximum(ctx.floor, np.abs(smooth) + np.abs(expected_smooth))
            first = int(np.argmax(errors > ctx.threshold))
            details.insert(0, f"the smooth loss first differs after update {first + 1}: expected "
                              f"{expected_smooth[first]:.8g}, got {smooth[first]:.8g}")
        part, _, got = problems[0]
        flatten = flat if part == "params" else (lambda v: v)
        raise Failed(
            f"the returned {' and '.join(p for p, _, _ in problems)} differ(s) from the reference",
            "\n".join(details),
            lambda: first_match(got, _mistakes(ctx, case, 0 if part == "params" else 1, flatten), ctx.threshold, ctx.floor)
            or _reduction_hint(ctx, smooth, expected_smooth, case) or _depends(ctx),
            parts=[p for p, _, _ in problems],
        )


def _reduction_hint(ctx, smooth, expected, case: Text) -> str:
    """The smooth loss off by exactly the factor seq_length: the other loss reduction."""
    if case.seq_length < 2:
        return ""
    if ctx.conventions.loss is LossReduction.SUM and np.allclose(smooth * case.seq_length, expected, rtol=1e-6):
        return "the smooth loss is seq_length times too small: the loss is averaged over the window instead of summed."
    if ctx.conventions.loss is LossReduction.MEAN and np.allclose(smooth, expected * case.seq_length, rtol=1e-6):
        return "the smooth loss is seq_length times too large: the loss is summed over the window instead of averaged."
    return ""


@check("train: clipping applied",
       texts(seq_length=(12, 20), windows=(1, 2), passes=(1.0, 2.0), scale=st.just(1.0), K=(2, 3)),
       settings=("threshold",), applies=lambda conventions: conventions.clipping_matters)
def clipping_applied(ctx, case: Text):
    """With large parameters the gradients exceed the clip bound, and the returned params are the reference's:
    every update clips the gradients (with clip_gradients) before the optimizer step."""
    assume(not np.allclose(flat(reference_run(ctx, case)[0]), flat(ctx.variants.train(*case.args, clip=False)[0]), rtol=1e-4))
    params, _ = _train(ctx, case, "params")
    _compare_params(ctx, case, params, "the params after training with large gradients differ from the reference")


@st.composite
def _hprev_runs(draw):
    """'carried': no wrap, several windows in a row; 'reset': one window per pass, so every update wraps."""
    part = draw(st.sampled_from(["carried", "reset"]))
    if part == "carried":
        windows = draw(st.integers(2, 4))
        return draw(texts(windows=(windows, windows), passes=(2 / windows, 1.0), m=(2, 5)))
    return draw(texts(windows=(1, 1), passes=(2.0, 4.0), m=(2, 5)))


@check("train: hprev carried between updates and reset at the wrap", _hprev_runs(), parts=("carried", "reset"),
       settings=("threshold",))
def hprev(ctx, case: Text):
    """Each update's gradients start from hprev = the previous update's h_last, and hprev returns to zeros
    whenever the position wraps to 0. Compared on the returned params: runs that never wrap (carried) and
    runs whose every update wraps (reset)."""
    params, _ = _train(ctx, case, "params")
    part = "reset" if case.windows == 1 else "carried"
    run = ("whose every update starts from position 0 (hprev must be zeros each time)" if part == "reset"
           else "that moves through the text without returning to 0 (hprev must carry over)")
    _compare_params(ctx, case, params, f"the params differ from the reference on a run {run}", parts=(part,))


@check("train: smooth loss decreases over a longer run", st.just(Fixed("a training run on the default text, described above")),
       settings=("updates", "m", "text_chars", "fraction"))
def decreases(ctx, fixed):
    """On the assignment's training text, from parameters drawn with the conventions' sigma, the smooth loss
    goes down: by the end of the run it has dropped, relative to where it started, at least a set fraction
    of the reference's relative drop on the same run (the conventions' eta and seq_length)."""
    name, text = ctx.assignment.text.name, ctx.assignment.text.text
    text = text[: int(ctx.setting("text_chars"))]
    K, m, n = len(set(text)), int(ctx.setting("m")), int(ctx.setting("updates"))
    sigma, eta, seq_length = ctx.conventions.sigma, ctx.conventions.eta, ctx.conventions.seq_length
    params = ctx.reference.init_params(K, m, sigma, np.random.default_rng(fixed.seed))
    case = f"the first {len(text)} characters of {name!r} (K={K}), m={m}, {n} updates, eta={eta:g}, seq_length={seq_length}"
    _, expected = ctx.reference.train(text, copy_params(params), n, eta, seq_length)
    _, smooth = ctx.call("train", text, params, n, eta, seq_length, dims={"K": K, "m": m, "n_updates": n}, describe=case,
                         uses=("smooth_loss",))
    needed = ctx.setting("fraction") * (1 - expected[-1] / expected[0])
    if not 1 - smooth[-1] / smooth[0] >= needed:
        raise Failed(
            f"on {case}, the smooth loss went from {smooth[0]:.4g} to {smooth[-1]:.4g}; it should drop by at least {needed:.1%}",
            f"the reference goes from {expected[0]:.4g} to {expected[-1]:.4g} ({1 - expected[-1] / expected[0]:.1%} lower); "
            f"required: at least {ctx.setting('fraction'):.0%} of that relative drop",
            _depends(ctx),
        )
