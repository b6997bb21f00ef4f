"""The report's gradient table: the submission's compute_gradients on one small fixed case.

Each parameter's gradient is compared with the reference's analytic gradient and with centered finite
differences of the submission's OWN forward, so a student can tell "my backward disagrees with my
forward" (a backprop bug) from "my forward is wrong too" (the table then agrees with itself but not
with the reference).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from grader.contract import Contract, ContractViolation, conform
from grader.diagnostics.relerr import max_relative_error
from grader.diagnostics.spec import GradientSpec
from grader.results import GradientRow, GradientTable
from grader.sandbox import CallFailed


@dataclass(frozen=True)
class _Case:
    params: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    h0: np.ndarray
    dims: dict[str, int]


def gradient_table(box, contract: Contract, oracle, spec: GradientSpec) -> GradientTable:
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


def _numerical(box, contract: Contract, spec: GradientSpec, case: _Case):
    """Centered differences of the submission's forward on a fixed sample of entries per parameter.

    Returns ({param: (flat entry indices, numerical gradients)}, '') or (None, why) if forward fails.
    """
    rng = np.random.default_rng(spec.seed + 1)
    out = {}
    for k, value in case.params.items():
        n = min(spec.entries_per_param, value.size)
        entries = np.sort(rng.choice(value.size, size=n, replace=False))
        estimates = []
        for flat in entries:
            try:
                plus = _loss(box, contract, case, k, flat, +spec.step)
                minus = _loss(box, contract, case, k, flat, -spec.step)
            except (CallFailed, ContractViolation) as exc:
                return None, f"forward failed, so there is no finite-difference column: {exc}"
            estimates.append((plus - minus) / (2 * spec.step))
        out[k] = (entries, np.array(estimates))
    return out, ""


def _loss(box, contract: Contract, case: _Case, param: str, flat: int, delta: float) -> float:
    params = {k: v.copy() for k, v in case.params.items()}
    params[param].reshape(-1)[flat] += delta
    reply = box.call(
        "forward", params, case.X, case.Y, case.h0, describe="gradient table: forward, one entry perturbed"
    )
    loss, _, _ = conform(contract, "forward", reply.value, case.dims)
    return loss


def _vs_numerical(grad: np.ndarray, numerical, floor: float) -> float:
    entries, estimates = numerical
    return max_relative_error(grad.reshape(-1)[entries], estimates, floor)
