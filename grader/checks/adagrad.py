"""Checks of adagrad_step(params, grads, memory, eta, eps=<the conventions' eps>) -> None, updating params and
memory in place."""

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

STEPS = 3


@dataclass(frozen=True)
class Updates:
    """params (set 0), memory (set 1 squared, or zeros), then one gradient per step (sets 2.., times grad_scale)."""

    sets: ParamSets
    eta: float
    zero_memory: bool
    grad_scale: float = 1.0
    min_gradient: float = 0.0  # every |gradient| at least this (before grad_scale)

    @property
    def params(self):
        return self.sets.get(0)

    @property
    def memory(self):
        start = self.sets.get(1)
        return {k: np.zeros_like(v) if self.zero_memory else v * v for k, v in start.items()}

    def grads(self, step: int):
        return {k: self.grad_scale * np.sign(v) * (self.min_gradient + np.abs(v)) for k, v in self.sets.get(2 + step).items()}

    @property
    def steps(self) -> int:
        return self.sets.count - 2

    def summary(self) -> str:
        return f"{self.sets.summary()}, eta={self.eta:g}, {self.steps} step(s)"

    def describe(self) -> str:
        memory = "zeros" if self.zero_memory else "the squares of set 1"
        scale = f" times {self.grad_scale:g}" if self.grad_scale != 1 else ""
        if self.min_gradient:
            scale += f", each pushed {self.min_gradient:g} away from 0"
        return (f"{self.summary()}: params = set 0, memory = {memory}, gradients of step i = set 2+i{scale}\n"
                f"{self.sets.describe()}")


def updates(steps=1, zero_memory=st.booleans(), grad_scale=st.just(1.0), min_gradient=0.1):
    """Gradients are kept away from 0 by default, where eps decides the step; eps_inside tests that alone."""
    return st.builds(Updates, param_sets(2 + steps), st.sampled_from([0.1, 0.05, 1.0]), zero_memory,
                     grad_scale, st.just(min_gradient))


def _step(ctx, case: Updates, params, grads, memory, step: int):
    _, (params, memory) = ctx.call_keeping("adagrad_step", params, grads, memory, case.eta, keep=(0, 2),
                                           dims=case.sets.dims, describe=f"{case.summary()}, step {step + 1}")
    return params, memory


def _reference_step(ctx, params, grads, memory, eta):
    params, memory = copy_params(params), copy_params(memory)
    ctx.reference.adagrad_step(params, grads, memory, eta)
    return params, memory


def _expect_step(ctx, case: Updates, before, after, expected, grads, memory, which: str):
    """Compare the change of params (after - before), so that entries near 0 do not blow up the error. A step
    that is the contract's with another eps inside the square root is the eps check's to count, not this one's."""
    got = flat(after) - flat(before)
    if ctx.mismatch("params step", got, flat(expected) - flat(before)) is not None and _other_eps_inside(ctx, got, grads,
                                                                                                      memory, case.eta):
        return
    ctx.expect_close("params step", got, flat(expected) - flat(before),
                     reason=f"the params step of {which} differs from the reference",
                     hint=first_match(got, _mistakes(grads, memory, case.eta, ctx.conventions.optimizer.eps,
                                                     ctx.conventions.clip_bound), ctx.threshold, ctx.floor))


def _mistakes(grads, memory, eta, eps, bound) -> list:
    """Hints for a wrong params step, each with the step that mistake takes."""

    def stepped(denominator):
        return lambda: np.concatenate([(-eta * grads[k] / denominator(memory[k] + grads[k] ** 2, memory[k])).ravel()
                                       for k in PARAM_NAMES])

    return [
        (named("adagrad_step.eps_outside", "eps is added outside the square root; the contract divides by sqrt(memory + eps)."),
         stepped(lambda new, old: np.sqrt(new) + eps)),
        (named("adagrad_step.clips_inside", "the gradients are clipped inside adagrad_step; it uses them as given (train "
               "clips them before, with clip_gradients)."), lambda: np.concatenate([
             (-eta * np.clip(grads[k], -bound, bound) / np.sqrt(memory[k] + np.clip(grads[k], -bound, bound) ** 2 + eps)).ravel()
             for k in PARAM_NAMES])),
        (named("adagrad_step.old_memory", "the step divides by the memory from before this step's g**2 was added; add g**2 first."),
         stepped(lambda new, old: np.sqrt(old + eps))),
        (named("adagrad_step.no_sqrt", "the step divides by memory + eps without the square root."), stepped(lambda new, old: new + eps)),
    ]


@check("adagrad_step: consecutive steps match reference",
       updates(STEPS, zero_memory=st.just(True), grad_scale=st.sampled_from([1.0, 8.0])), settings=("threshold",))
def consecutive_steps(ctx, case: Updates):
    """Starting from memory = zeros, several adagrad_step calls in a row, each on the params and memory the
    reference reached after the previous step, give the reference's params and memory after every step:
    memory[k] += g**2, then params[k] -= eta * g / sqrt(memory[k] + eps). (Each step starts from the
    reference's state, so a difference is judged at the step that makes it, not compounded, and the student
    kit's recorded values apply exactly.) Some cases have gradients beyond the clip bound, which adagrad_step
    uses as given."""
    params, memory = case.params, case.memory
    for step in range(case.steps):
        grads = case.grads(step)
        got_params, got_memory = _step(ctx, case, params, grads, memory, step)
        expected_params, expected_memory = _reference_step(ctx, params, grads, memory, case.eta)
        _expect_step(ctx, case, params, got_params, expected_params, grads, memory, f"step {step + 1}")
        ctx.expect_close("memory", flat(got_memory), flat(expected_memory),
                         reason=f"memory after step {step + 1} differs from the reference")
        params, memory = expected_params, expected_memory


@check("adagrad_step: memory accumulates squared gradients", updates(1, zero_memory=st.just(False)), settings=("threshold",))
def memory_accumulates(ctx, case: Updates):
    """memory[k] becomes memory[k] + grads[k]**2: the squared gradients add up over the steps."""
    memory_before, grads = case.memory, case.grads(0)
    _, memory = _step(ctx, case, case.params, grads, case.memory, 0)
    expected = {k: memory_before[k] + grads[k] ** 2 for k in PARAM_NAMES}
    known = [
        (named("adagrad_step.memory_replaced", "memory is replaced by g**2 instead of accumulating: use memory[k] += g**2."), lambda: flat(grads) ** 2),
        (named("adagrad_step.memory_of_g", "memory accumulates g, not g**2."), lambda: flat(memory_before) + flat(grads)),
        (named("adagrad_step.memory_of_abs_g", "memory accumulates |g|, not g**2."), lambda: flat(memory_before) + np.abs(flat(grads))),
    ]
    ctx.expect_close("memory", flat(memory), flat(expected), reason="memory is not memory + g**2",
                     hint=first_match(flat(memory), known, ctx.threshold, ctx.floor))


@check("adagrad_step: updates in place", updates(1), parts=("params", "memory"))
def in_place(ctx, case: Updates):
    """adagrad_step changes the params and memory dicts it is given (the caller sees the update) and returns None."""
    params, memory = _step(ctx, case, case.params, case.grads(0), case.memory, 0)
    unchanged = [label for label, after, before in (("params", params, case.params), ("memory", memory, case.memory))
                 if all(np.array_equal(after[k], before[k]) for k in PARAM_NAMES)]
    if unchanged:
        raise Failed(
            f"after the call the caller's {' and '.join(unchanged)} are unchanged",
            hint=named("adagrad_step.not_in_place", "update the dicts you are given, e.g. params[k] -= ... and memory[k] += ...; "
                       "building new dicts (or rebinding the names) leaves the caller's unchanged."),
            parts=unchanged,
        )


# eps values seen in real submissions: numpy's float64 machine epsilon, and round powers of ten.
EPS_SEEN = (np.finfo(np.float64).eps, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 0.0)


def _estimated_eps(got, grads, memory, eta) -> tuple[float, bool] | None:
    """The eps a step implies, and whether it sits inside the square root: the step is -eta * g / D with
    D = sqrt(memory + g**2 + eps) (inside) or sqrt(memory + g**2) + eps (outside), so each entry gives
    eps = D**2 - memory - g**2 or eps = D - sqrt(memory + g**2); the right form gives one value for every
    entry. None when neither does (or eps is too small against g**2 to be seen)."""
    g = np.concatenate([grads[k].ravel() for k in PARAM_NAMES])
    mem = np.concatenate([memory[k].ravel() for k in PARAM_NAMES])
    usable = (np.abs(g) > 0) & (np.asarray(got) != 0)
    if usable.sum() < 2:
        return None
    D = -eta * g[usable] / np.asarray(got)[usable]
    base = mem[usable] + g[usable] ** 2
    for inside, estimates in ((True, D**2 - base), (False, D - np.sqrt(base))):
        centre = float(np.median(estimates))
        if centre > 0 and np.ptp(estimates) <= 1e-3 * centre:
            return centre, inside
    return None


def _other_eps_inside(ctx, got, grads, memory, eta) -> bool:
    estimated = _estimated_eps(got, grads, memory, eta)
    if estimated is None or not estimated[1]:
        return False
    eps = estimated[0]
    step = np.concatenate([(-eta * grads[k] / np.sqrt(memory[k] + grads[k] ** 2 + eps)).ravel() for k in PARAM_NAMES])
    return ctx.mismatch("params step", got, step) is None


def _known_as(eps: float) -> str:
    for value, name in ((np.finfo(np.float32).eps, "float32's machine epsilon"),
                        (np.finfo(np.float64).eps, "float64's machine epsilon")):
        if np.isclose(eps, value, rtol=1e-3):
            return f", {name}"
    return ""


def _eps_diagnosis(ctx, case: Updates, got, grads) -> tuple[set[str], str]:
    """(the parts a step with tiny gradients fails, the named cause) among eps inside or outside the square
    root, with the contract's value or a value seen in real code; both parts and 'unknown' if none fits."""
    eta, memory = case.eta, case.memory
    contract_eps = ctx.conventions.optimizer.eps

    def step(eps, inside):
        return np.concatenate([(-eta * grads[k] / (np.sqrt(memory[k] + grads[k] ** 2 + eps) if inside else
                                                   np.sqrt(memory[k] + grads[k] ** 2) + eps)).ravel() for k in PARAM_NAMES])

    def fits(eps, inside):
        return ctx.mismatch("params step", got, step(eps, inside)) is None

    if fits(contract_eps, False):
        return {"inside"}, named("adagrad_step.eps_outside", f"eps ({contract_eps:g}) is added outside the square root; the contract divides by sqrt(memory + eps).")
    estimated = _estimated_eps(got, grads, memory, eta)
    if estimated is not None:
        eps, inside = estimated
        if fits(eps, inside):
            found = f"eps is {eps:.3g}{_known_as(eps)} (estimated from your step), not the contract's {contract_eps:g}"
            if inside:
                return {"value"}, named("adagrad_step.eps_value", f"{found}; it is inside the square root, as it should be.")
            return {"inside", "value"}, named("adagrad_step.eps_value_outside", f"{found}, and it is added outside the square root.")
    for eps in (e for e in EPS_SEEN if e != contract_eps):
        inside, outside = fits(eps, True), fits(eps, False)
        if inside and outside:
            return {"value"}, named("adagrad_step.eps_value", f"eps is {eps:g} (or smaller), not the contract's "
                                    f"{contract_eps:g}; that small, inside and outside the square root give the same step.")
        if inside:
            return {"value"}, named("adagrad_step.eps_value", f"eps is {eps:g}, not the contract's {contract_eps:g} (it is inside "
                                    "the square root, as it should be).")
        if outside:
            return {"inside", "value"}, named("adagrad_step.eps_value_outside", f"eps is {eps:g}, not {contract_eps:g}, and "
                                              "added outside the square root.")
    return {"inside", "value"}, ("cause unknown: the step is neither the contract's nor that of eps inside or outside "
                                 "the square root with a common value; see the smallest case above.")


@check("adagrad_step: eps inside the square root, with the contract's value",
       updates(1, zero_memory=st.just(True), grad_scale=st.just(1e-5), min_gradient=0.0), parts=("inside", "value"),
       settings=("threshold",))
def eps_inside(ctx, case: Updates):
    """With gradients around 1e-5 and empty memory, the step is eta * g / sqrt(g**2 + eps) with the contract's
    eps: there eps decides the step. The part 'inside' fails for eps added outside the square root, the part
    'value' for another value of eps (found among common ones, e.g. 2.2e-16 or 1e-12)."""
    grads = case.grads(0)
    params, _ = _step(ctx, case, case.params, grads, case.memory, 0)
    expected, _ = _reference_step(ctx, case.params, grads, case.memory, case.eta)
    got = flat(params) - flat(case.params)
    found = ctx.mismatch("params step", got, flat(expected) - flat(case.params))
    if found is not None:
        parts, cause = _eps_diagnosis(ctx, case, got, grads)
        raise Failed(f"the params step of a step with tiny gradients differs from the reference (relative error "
                     f"{found.error:.1e})", found.text, cause, parts=parts)


@check("adagrad_step: zero gradient changes nothing", updates(1, grad_scale=st.just(0.0), min_gradient=0.0), settings=("threshold",))
def zero_gradient(ctx, case: Updates):
    """With all gradients zero, params and memory stay as they were (0 / sqrt(memory + eps) = 0, even when
    memory is zero)."""
    params, memory = _step(ctx, case, case.params, case.grads(0), case.memory, 0)
    ctx.expect_close("params", flat(params), flat(case.params), reason="params changed although every gradient is zero",
                     hint=named("adagrad_step.no_eps", "dividing by sqrt(memory) without eps gives 0/0 = nan when memory is zero."))
    ctx.expect_close("memory", flat(memory), flat(case.memory), reason="memory changed although every gradient is zero")
