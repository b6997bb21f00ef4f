"""The report's gradient tables: the submission's compute_gradients on one small fixed case, and (with a
real text) on the course reports' case, the text's first seq_length characters at m = 100.

Each parameter's gradient is compared with the reference's analytic gradient and with centered finite
differences of the submission's OWN forward, so a student can tell "my backward disagrees with my
forward" (a backprop bug) from "my forward is wrong too" (the table then agrees with itself but not
with the reference). The course reports' table gives, per step h, both the norm formula
||a - n|| / (||a|| + ||n||) and the elementwise maximum of |a - n| / (|a| + |n|).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from grader.contract import Contract, ContractViolation, conform
from grader.diagnostics.relerr import max_relative_error, norm_relative_error
from grader.diagnostics.spec import GradientSpec, RealTextSpec
from grader.oracle import NotRecorded
from grader.results import CourseGradientRow, GradientRow, GradientTable, StepErrors
from grader.sandbox import Call, CallFailed, Sandbox
from grader.sandbox.judged import each_judged

# The parameters sent in one exchange: about 20 calls at the course reports' m = 100, all of the small table's.
BATCH_BYTES = 4 * 1024**2


@dataclass(frozen=True)
class _Case:
    params: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    h0: np.ndarray
    dims: dict[str, int]


def gradient_table(box: Sandbox, contract: Contract, oracle, spec: GradientSpec) -> GradientTable:
    case = _make_case(contract, spec)
    described = (
        f"K={spec.K}, m={spec.m}, tau={spec.tau}, entries of b, c, U, W, V, h0 drawn with standard deviation "
        f"{spec.param_scale:g} (seed {spec.seed}); finite differences with step {spec.step:g} on up to "
        f"{spec.entries_per_param} entries per parameter; relative errors use max({spec.error_floor:g}, |a| + |b|) "
        "as the denominator"
    )
    try:
        reply = box.call(
            "compute_gradients",
            case.params,
            case.X,
            case.Y,
            case.h0,
            describe="gradient table: compute_gradients on the report's small case",
        )
        grads, _, _ = conform(contract, "compute_gradients", reply.value, case.dims)
    except (CallFailed, ContractViolation) as exc:
        return GradientTable((), described, f"compute_gradients failed on the report's case: {exc}")

    expected, _, _ = oracle.reference.compute_gradients(copy.deepcopy(case.params), case.X, case.Y, case.h0)
    numerical, failure = _numerical(box, contract, spec, case)
    rows = tuple(
        GradientRow(
            param=k,
            vs_reference=max_relative_error(grads[k], expected[k], spec.error_floor),
            vs_numerical=None if numerical is None else _vs_numerical(grads[k], numerical[k], spec.error_floor),
        )
        for k in contract.params
    )
    return GradientTable(rows, described, failure)


def _make_case(contract: Contract, spec: GradientSpec) -> _Case:
    rng = np.random.default_rng(spec.seed)
    dims = {"K": spec.K, "m": spec.m, "tau": spec.tau}
    # Scale ~1 with nonzero biases, unlike init_params: a bug in db or dc cannot hide behind zeros.
    params = {k: spec.param_scale * rng.standard_normal(shape) for k, shape in contract.param_shapes(dims).items()}
    eye = np.eye(spec.K)
    X = eye[:, rng.integers(spec.K, size=spec.tau)]
    Y = eye[:, rng.integers(spec.K, size=spec.tau)]
    h0 = spec.h0_scale * rng.standard_normal((spec.m, 1))
    return _Case(params, X, Y, h0, dims)


def _numerical(box: Sandbox, contract: Contract, spec: GradientSpec, case: _Case):
    """Centered differences of the submission's forward on a fixed sample of entries per parameter.

    Returns ({param: (flat entry indices, numerical gradients)}, '') or (None, why) if forward fails.
    """
    entries = _entries(case, spec.entries_per_param, spec.seed + 1)
    numerical, failure = _differences(box, contract, case, entries, (spec.step,))
    if failure is not None:
        return None, f"forward failed, so there is no finite-difference column: {failure}"
    return numerical[spec.step], ""


def _entries(case: _Case, per_param: int, seed: int) -> dict[str, np.ndarray]:
    """A fixed sample of at most per_param flat entry indices of each parameter, sorted."""
    rng = np.random.default_rng(seed)
    return {k: np.sort(rng.choice(v.size, size=min(per_param, v.size), replace=False)) for k, v in case.params.items()}


def _differences(box: Sandbox, contract: Contract, case: _Case, entries: dict[str, np.ndarray],
                 steps: tuple[float, ...]) -> tuple[dict[float, dict], Exception | None]:
    """{step: {param: (entries, (L(theta + step) - L(theta - step)) / (2 step) at each)}} with the submission's
    forward, for each step (in order) before the first forward that fails, and that failure (None: none did)."""
    perturbations = [(k, i, sign * step) for step in steps for k, flat in entries.items() for i in flat
                     for sign in (+1, -1)]
    losses, failure = _losses(box, contract, case, perturbations)
    if failure is not None and not isinstance(failure, (CallFailed, ContractViolation)):
        raise failure  # the grader's own error, not forward's
    per_step = 2 * sum(len(flat) for flat in entries.values())
    numerical: dict[float, dict] = {}
    at = 0  # losses come in pairs: +step, -step
    for step in steps[:len(losses) // per_step]:
        numerical[step] = {}
        for k, flat in entries.items():
            numerical[step][k] = (flat, np.array([(losses[at + 2 * j] - losses[at + 2 * j + 1]) / (2 * step)
                                                  for j in range(len(flat))]))
            at += 2 * len(flat)
    return numerical, failure


def _losses(box: Sandbox, contract: Contract, case: _Case, perturbations: list[tuple[str, int, float]]):
    """The submission's forward loss with each (param, flat entry, delta) added, in order, up to the first call
    that fails or whose value breaks the contract, and that failure (None: none did): the calls a loop of
    box.call()s that stops there makes, in few exchanges (each_judged: conform judges forward's loss, P and H
    by their kinds, shapes and finiteness)."""
    per_call = sum(v.nbytes for v in case.params.values()) + case.X.nbytes + case.Y.nbytes + case.h0.nbytes
    calls = (Call("forward", (_perturbed(case.params, *p), case.X, case.Y, case.h0),
                  describe="gradient table: forward, one entry perturbed") for p in perturbations)
    return each_judged(box, calls, lambda reply: conform(contract, "forward", reply.value, case.dims)[0],
                       max(1, BATCH_BYTES // per_call))


def _perturbed(params: dict[str, np.ndarray], param: str, flat: int, delta: float) -> dict[str, np.ndarray]:
    params = {k: v.copy() for k, v in params.items()}
    params[param].reshape(-1)[flat] += delta
    return params


def _vs_numerical(grad: np.ndarray, numerical, floor: float) -> float:
    entries, estimates = numerical
    return max_relative_error(grad.reshape(-1)[entries], estimates, floor)


def contract_init(contract: Contract, dims: dict[str, int], sigma: float, rng) -> dict[str, np.ndarray]:
    """Parameters as the contract's init_params draws them: zero biases, then U, W, V as sigma * standard normal."""
    shapes = contract.param_shapes(dims)
    params = {k: np.zeros(shapes[k]) for k in ("b", "c")}
    params.update({k: sigma * rng.standard_normal(shapes[k]) for k in ("U", "W", "V")})
    return {k: params[k] for k in contract.params}


def course_gradient_table(box: Sandbox, contract: Contract, oracle, spec: RealTextSpec, text: str, floor: float):
    """The course reports' check: the first seq_length characters of `text`, m = spec.m, h0 = 0, the
    parameters as init_params draws them (zero biases, sigma from the contract), every step in spec.

    Returns (case described, rows, failure).
    """
    seq_length, sigma = contract.conventions.seq_length, contract.conventions.sigma
    vocab = sorted(set(text))
    K, m = len(vocab), spec.m
    if len(text) < seq_length + 1:
        return "", (), f"the text has fewer than seq_length + 1 = {seq_length + 1} characters"
    dims = {"K": K, "m": m, "tau": seq_length}
    params = contract_init(contract, dims, sigma, np.random.default_rng(spec.seed))
    eye = np.eye(K)
    index = {ch: i for i, ch in enumerate(vocab)}
    X = eye[:, [index[ch] for ch in text[:seq_length]]]
    Y = eye[:, [index[ch] for ch in text[1 : seq_length + 1]]]
    case = _Case(params, X, Y, np.zeros((m, 1)), dims)
    described = (
        f"the text's first {seq_length} characters as X and the next ones as Y (K={K}), m={m}, h0 = 0, U, W, V "
        f"drawn with standard deviation {sigma:g} (seed {spec.seed}), zero biases; finite differences of your "
        f"forward on {spec.gradient_entries} entries per parameter with h = "
        f"{' and '.join(f'{h:g}' for h in spec.gradient_steps)}; denominators at least {floor:g}"
    )
    try:
        reply = box.call("compute_gradients", params, X, Y, case.h0,
                         describe=f"gradient table on the text's first {seq_length} characters, m={m}")
        grads, _, _ = conform(contract, "compute_gradients", reply.value, dims)
    except (CallFailed, ContractViolation) as exc:
        return described, (), f"compute_gradients failed on the course reports' case: {exc}"
    failures = []
    try:
        expected, _, _ = oracle.reference.compute_gradients(copy.deepcopy(params), X, Y, case.h0)
    except NotRecorded:
        expected = None
        failures.append("the student kit has no reference, so there is no reference column")
    entries = _entries(case, spec.gradient_entries, spec.seed + 1)
    numerical, failure = _differences(box, contract, case, entries, tuple(spec.gradient_steps))
    if failure is not None:
        failures.append(f"forward failed, so there are no finite-difference columns: {failure}")
    rows = tuple(
        CourseGradientRow(
            param=k,
            vs_reference_norm=None if expected is None else norm_relative_error(grads[k], expected[k], floor),
            vs_reference_max=None if expected is None else max_relative_error(grads[k], expected[k], floor),
            numerical=tuple(
                StepErrors(step, norm_relative_error(grads[k].reshape(-1)[flat], estimate, floor),
                           max_relative_error(grads[k].reshape(-1)[flat], estimate, floor))
                for step, by_param in numerical.items()
                for flat, estimate in (by_param[k],)
            ),
        )
        for k in contract.params
    )
    return described, rows, "; ".join(failures)
