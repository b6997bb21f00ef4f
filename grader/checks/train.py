"""Checks of train(text, params, n_updates, eta=0.1, seq_length=25) -> (params, smooth_loss)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from grader.checks.compare import first_match
from grader.checks.core import Failed, check
from grader.checks.strategies import Fixed, Text, copy_params, flat, texts
from grader.oracle import reference, variants
from grader.texts import DEFAULT_TEXT, load_text

DEPENDS = ("train uses your compute_gradients, clip_gradients and adagrad_step: if their checks fail, "
           "fix those first.")


def _train(ctx, case: Text, *uses: str):
    return ctx.call("train", *case.args, dims=case.dims, describe=case.summary(), uses=uses or None)


def _mistakes(case: Text, index: int, flatten=lambda v: v) -> list:
    """Hints for a wrong run, each with what that mistake returns (index 0: params, 1: smooth loss)."""

    def run(**switches):
        return lambda: flatten(variants.train(*case.args, **switches)[index])

    return [
        ("the gradients are not clipped: train passes clip_gradients(grads) (bound 5) to adagrad_step.", run(clip=False)),
        ("hprev is not carried between updates: each update must start from the previous update's h_last.",
         run(carry=False)),
        ("hprev is not reset when the position wraps to 0: set hprev back to zeros there.", run(reset=False)),
        ("the position wraps one window too early: wrap when e > len(text) - seq_length - 1 (a window may end on "
         "the last character).", run(early_wrap=True)),
        ("the smooth loss starts at -log(1/K) * seq_length (as in min-char-rnn); the contract starts it at the first "
         "update's loss.", run(uniform_start=True)),
    ]


def _compare_params(ctx, case: Text, params, reason: str, parts=()):
    expected, _ = case.reference()
    got = flat(params)
    ctx.expect_close("params", got, flat(expected), reason=reason, parts=parts,
                     hint=lambda: first_match(got, _mistakes(case, 0, flat), ctx.threshold, ctx.floor) or DEPENDS)


@check("train: smooth loss matches reference", texts(), parts=("smooth_loss", "params"), settings=("threshold",))
def matches_reference(ctx, case: Text):
    """From the same starting params, train returns the reference's smooth loss after every update and the
    reference's final params: windows X = text[e:e+seq_length], Y = text[e+1:e+seq_length+1], gradients from
    hprev, clipped to [-5, 5], one AdaGrad step, smooth = 0.999 * smooth + 0.001 * loss (starting at the
    first loss), e += seq_length, wrapping to 0 (with hprev = zeros) when e > len(text) - seq_length - 1.
    Texts include lengths where the last window ends exactly on the last character."""
    params, smooth = _train(ctx, case)
    expected_params, expected_smooth = case.reference()
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
            lambda: first_match(got, _mistakes(case, 0 if part == "params" else 1, flatten), ctx.threshold, ctx.floor)
            or _averaged_hint(smooth, expected_smooth, case) or DEPENDS,
            parts=[p for p, _, _ in problems],
        )


def _averaged_hint(smooth, expected, case: Text) -> str:
    if case.seq_length > 1 and np.allclose(smooth * case.seq_length, expected, rtol=1e-6):
        return "the smooth loss is seq_length times too small: the loss is averaged over the window instead of summed."
    return ""


@check("train: clipping applied",
       texts(seq_length=(12, 20), windows=(1, 2), passes=(1.0, 2.0), scale=st.just(1.0), K=(2, 3)),
       settings=("threshold",))
def clipping_applied(ctx, case: Text):
    """With large parameters the gradients exceed 5, and the returned params are the reference's: every
    update clips the gradients to [-5, 5] (with clip_gradients) before the AdaGrad step."""
    assume(not np.allclose(flat(case.reference()[0]), flat(variants.train(*case.args, clip=False)[0]), rtol=1e-4))
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
def decreases(ctx, _case):
    """On the default training text, from sigma = 0.01 parameters, the smooth loss goes down: by the end of
    the run it has dropped, relative to where it started, at least a set fraction of the reference's
    relative drop on the same run."""
    name, text = load_text(DEFAULT_TEXT, ctx.spec_dir)
    text = text[: int(ctx.setting("text_chars"))]
    K, m, n = len(set(text)), int(ctx.setting("m")), int(ctx.setting("updates"))
    params = reference.init_params(K, m, 0.01, np.random.default_rng(0))
    case = f"the first {len(text)} characters of {name!r} (K={K}), m={m}, {n} updates, eta=0.1, seq_length=25"
    _, expected = reference.train(text, copy_params(params), n, 0.1, 25)
    _, smooth = ctx.call("train", text, params, n, 0.1, 25, dims={"K": K, "m": m, "n_updates": n}, describe=case,
                         uses=("smooth_loss",))
    needed = ctx.setting("fraction") * (1 - expected[-1] / expected[0])
    if not 1 - smooth[-1] / smooth[0] >= needed:
        raise Failed(
            f"on {case}, the smooth loss went from {smooth[0]:.4g} to {smooth[-1]:.4g}; it should drop by at least {needed:.1%}",
            f"the reference goes from {expected[0]:.4g} to {expected[-1]:.4g} ({1 - expected[-1] / expected[0]:.1%} lower); "
            f"required: at least {ctx.setting('fraction'):.0%} of that relative drop",
            DEPENDS,
        )
