"""Checks of adam_step(params, grads, first, second, t, eta, beta1, beta2, eps) -> None, updating params and
both moment estimates in place (the assignment's conventions give the defaults of beta1, beta2 and eps)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from grader.checks.compare import first_match
from grader.checks.core import Failed, check
from grader.checks.strategies import (
    PARAM_NAMES,
    ParamSets,
    copy_params,
    flat,
    param_sets,
)
from grader.mistakes import named


@dataclass(frozen=True)
class AdamSteps:
    """params (set 0); first moment (set 1) and second moment (set 2 squared), or zeros; then one gradient per
    step (sets 3..); the first step has step count t."""

    sets: ParamSets
    eta: float
    t: int
    zero_moments: bool

    @property
    def params(self):
        return self.sets.get(0)

    @property
    def first(self):
        return {k: np.zeros_like(v) if self.zero_moments else v for k, v in self.sets.get(1).items()}

    @property
    def second(self):
        return {k: np.zeros_like(v) if self.zero_moments else v * v for k, v in self.sets.get(2).items()}

    def grads(self, step: int):
        return self.sets.get(3 + step)

    @property
    def steps(self) -> int:
        return self.sets.count - 3

    def summary(self) -> str:
        return f"{self.sets.summary()}, eta={self.eta:g}, t={self.t}, {self.steps} step(s)"

    def describe(self) -> str:
        moments = "zeros" if self.zero_moments else "first = set 1, second = the squares of set 2"
        return (f"{self.summary()}: params = set 0, moments {moments}, gradients of step i = set 3+i\n"
                f"{self.sets.describe()}")


def adam_steps(steps=1, zero_moments=st.booleans(), t=st.integers(1, 6)):
    return st.builds(AdamSteps, param_sets(3 + steps), st.sampled_from([0.01, 0.001, 0.1]), t, zero_moments)


def _step(ctx, case: AdamSteps, params, grads, first, second, t: int, step: int):
    _, (params, first, second) = ctx.call_keeping(
        "adam_step", params, grads, first, second, t, case.eta, keep=(0, 2, 3), dims=case.sets.dims,
        describe=f"{case.summary()}, step {step + 1} (t={t})")
    return params, first, second


def _reference_step(ctx, params, grads, first, second, t, eta):
    params, first, second = copy_params(params), copy_params(first), copy_params(second)
    ctx.reference.adam_step(params, grads, first, second, t, eta)
    return params, first, second


def _mistakes(ctx, case: AdamSteps, grads, first, second, t: int) -> list:
    """Hints for a wrong params step, each with the step that mistake takes."""
    adam = ctx.conventions.optimizer
    b1, b2, eps, eta = adam.beta1, adam.beta2, adam.eps, case.eta

    def stepped(m_hat, v_hat, denominator=lambda v: np.sqrt(v) + eps):
        def run():
            out = []
            for k in PARAM_NAMES:
                m = b1 * first[k] + (1 - b1) * grads[k]
                v = b2 * second[k] + (1 - b2) * grads[k] ** 2
                out.append((-eta * m_hat(m) / denominator(v_hat(v))).ravel())
            return np.concatenate(out)
        return run

    return [
        (named("adam_step.no_bias_correction", "there is no bias correction: divide the moments by (1 - beta1**t) and (1 - beta2**t)."),
         stepped(lambda m: m, lambda v: v)),
        (named("adam_step.step_count_off", f"the bias correction uses step count t + 1; use t as given (the first step has t = 1, here t = {t})."),
         stepped(lambda m: m / (1 - b1 ** (t + 1)), lambda v: v / (1 - b2 ** (t + 1)))),
        (named("adam_step.eps_inside", "eps is added inside the square root; Adam divides by sqrt(v_hat) + eps."),
         stepped(lambda m: m / (1 - b1**t), lambda v: v / (1 - b2**t), lambda v: np.sqrt(v + eps))),
        (named("adam_step.no_sqrt", "the step divides by v_hat instead of its square root."),
         stepped(lambda m: m / (1 - b1**t), lambda v: v / (1 - b2**t), lambda v: v + eps)),
    ]


def _expect_step(ctx, case, before, after, expected, grads, first, second, t, which: str):
    """Compare the change of params (after - before), so that entries near 0 do not blow up the error."""
    got = flat(after) - flat(before)
    ctx.expect_close("params step", got, flat(expected) - flat(before),
                     reason=f"the params step of {which} differs from the reference",
                     hint=first_match(got, _mistakes(ctx, case, grads, first, second, t), ctx.threshold, ctx.floor))


@check("adam_step: consecutive steps match reference", adam_steps(3, zero_moments=st.just(True), t=st.just(1)),
       settings=("threshold",))
def consecutive_steps(ctx, case: AdamSteps):
    """Starting from zero moments with t = 1, several adam_step calls in a row (t = 1, 2, 3), each on the params
    and moments the previous call left, give the reference's params and moments after every step:
    first = beta1 first + (1 - beta1) g, second = beta2 second + (1 - beta2) g**2,
    params -= eta * (first / (1 - beta1**t)) / (sqrt(second / (1 - beta2**t)) + eps)."""
    params, first, second = case.params, case.first, case.second
    for step in range(case.steps):
        t, grads = case.t + step, case.grads(step)
        before = params, first, second
        params, first, second = _step(ctx, case, params, grads, first, second, t, step)
        expected = _reference_step(ctx, *before[:1], grads, *before[1:], t, case.eta)
        _expect_step(ctx, case, before[0], params, expected[0], grads, before[1], before[2], t, f"step {step + 1}")
        for label, got, want in (("first", first, expected[1]), ("second", second, expected[2])):
            ctx.expect_close(label, flat(got), flat(want),
                             reason=f"the {label} moment after step {step + 1} differs from the reference")


@check("adam_step: moments are exponential averages", adam_steps(1, zero_moments=st.just(False)), settings=("threshold",))
def moments(ctx, case: AdamSteps):
    """From given moments, first becomes beta1 * first + (1 - beta1) * g and second becomes
    beta2 * second + (1 - beta2) * g**2 (with the conventions' beta1 and beta2)."""
    adam = ctx.conventions.optimizer
    first0, second0, grads = case.first, case.second, case.grads(0)
    _, first, second = _step(ctx, case, case.params, grads, case.first, case.second, case.t, 0)
    g, f0, s0 = flat(grads), flat(first0), flat(second0)
    ctx.expect_close("first", flat(first), adam.beta1 * f0 + (1 - adam.beta1) * g,
                     reason="the first moment is not beta1 * first + (1 - beta1) * g",
                     hint=first_match(flat(first), [
                         (named("adam_step.betas_swapped", "beta1 and beta2 are swapped."), lambda: adam.beta2 * f0 + (1 - adam.beta2) * g),
                         (named("adam_step.first_not_decayed", "the first moment is not decayed: it must be multiplied by beta1 before g is added."),
                          lambda: f0 + (1 - adam.beta1) * g),
                     ], ctx.threshold, ctx.floor))
    ctx.expect_close("second", flat(second), adam.beta2 * s0 + (1 - adam.beta2) * g**2,
                     reason="the second moment is not beta2 * second + (1 - beta2) * g**2",
                     hint=first_match(flat(second), [
                         (named("adam_step.second_of_g", "the second moment averages g, not g**2."), lambda: adam.beta2 * s0 + (1 - adam.beta2) * g),
                         (named("adam_step.betas_swapped", "beta1 and beta2 are swapped."), lambda: adam.beta1 * s0 + (1 - adam.beta1) * g**2),
                     ], ctx.threshold, ctx.floor))


@check("adam_step: bias correction follows the step count", adam_steps(1, zero_moments=st.just(False), t=st.integers(1, 12)),
       settings=("threshold",))
def bias_correction(ctx, case: AdamSteps):
    """With moments already built up and a step count t (from 1), the params step is the reference's:
    the moments are divided by (1 - beta1**t) and (1 - beta2**t) before the update."""
    grads = case.grads(0)
    params, _, _ = _step(ctx, case, case.params, grads, case.first, case.second, case.t, 0)
    expected, _, _ = _reference_step(ctx, case.params, grads, case.first, case.second, case.t, case.eta)
    _expect_step(ctx, case, case.params, params, expected, grads, case.first, case.second, case.t, f"a step with t = {case.t}")


@check("adam_step: updates in place", adam_steps(1), parts=("params", "moments"))
def in_place(ctx, case: AdamSteps):
    """adam_step changes the params and moment dicts it is given (the caller sees the update) and returns None."""
    params, first, second = _step(ctx, case, case.params, case.grads(0), case.first, case.second, case.t, 0)
    unchanged = []
    if all(np.array_equal(params[k], case.params[k]) for k in PARAM_NAMES):
        unchanged.append("params")
    if all(np.array_equal(first[k], case.first[k]) and np.array_equal(second[k], case.second[k]) for k in PARAM_NAMES):
        unchanged.append("moments")
    if unchanged:
        raise Failed(
            f"after the call the caller's {' and '.join(unchanged)} are unchanged",
            hint=named("adam_step.not_in_place", "update the dicts you are given, e.g. params[k] -= ..., first[k] *= beta1 "
                       "and first[k] += ...; building new dicts (or rebinding the names) leaves the caller's unchanged."),
            parts=unchanged,
        )


@check("adam_step: zero gradient from empty moments changes nothing", adam_steps(1, zero_moments=st.just(True)),
       settings=("threshold",))
def zero_gradient(ctx, case: AdamSteps):
    """With zero moments and all gradients zero, params and both moments stay as they were
    (0 / (sqrt(0) + eps) = 0)."""
    zero = {k: np.zeros_like(v) for k, v in case.params.items()}
    params, first, second = _step(ctx, case, case.params, zero, case.first, case.second, case.t, 0)
    ctx.expect_close("params", flat(params), flat(case.params), reason="params changed although every gradient is zero",
                     hint=named("adam_step.no_eps", "dividing by sqrt(v_hat) without eps gives 0/0 = nan when the second moment is zero."))
    ctx.expect_close("moments", np.concatenate([flat(first), flat(second)]), np.zeros(2 * flat(zero).size),
                     reason="the moments changed although every gradient is zero")
