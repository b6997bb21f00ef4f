"""The course reports' figures on a real text (``python -m grader SUBMISSION --text PATH``).

One continuous run, as the course trains: the contract's loop (grader.driven) with the submission's own
compute_gradients, clip_gradients and adagrad_step, N updates through the text without a restart, its
synthesize sampling after update 1 and every N / samples updates, and a passage from the parameters
with the lowest smooth loss (the best model). The submission's own train is called once, for N updates
from the same initial parameters, for its curve. The reference's curve is a band (grader.diagnostics.band)
and each curve is judged against it, in words. The gradient table is the course reports': the text's
first seq_length characters at m = 100.

The run has its own sandbox and time budget (report.yaml: base_seconds + seconds_per_update * N), apart
from the checks' limits, so a long run neither borrows from nor is cut by the grading's budget. Nothing
here changes a score.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grader.contract import Contract, ContractViolation, conform, wraps
from grader.diagnostics.band import DRIFT, BandRun, BandSettings, judge
from grader.diagnostics.gradients import contract_init, course_gradient_table
from grader.diagnostics.spec import RealTextSpec
from grader.diagnostics.training import synthesize_text
from grader.driven import DrivenLoop, Rules, SandboxFunctions, box_caller
from grader.oracle import Oracle
from grader.results import RealTextRun, Sample
from grader.sandbox import CallFailed, Limits, Policy, Sandbox

if TYPE_CHECKING:  # only for the annotations: importing them here would make an import cycle
    from grader.assignment import Assignment

STORED_POINTS = 2000


@dataclass(frozen=True)
class RealTextRequest:
    """What the command line asked for: the text (already read), and overrides of report.yaml."""

    name: str
    text: str
    n_updates: int | None = None  # None: report.yaml's real_text.n_updates
    run_seconds: float | None = None  # None: the budget report.yaml scales to n_updates
    cache_dir: Path | None = None  # None: the band is computed every time


def run_limits(checks: Limits, budget: float) -> Limits:
    """The checks' limits with the run's own time: one call (the submission's train) may take all of it."""
    return dataclasses.replace(checks, call_seconds=budget, total_seconds=budget,
                               cpu_seconds=max(checks.cpu_seconds, math.ceil(budget)))


def real_text_run(submission: Path, assignment: Assignment, oracle: Oracle, request: RealTextRequest,
                  checks_limits: Limits, policy: Policy = Policy.strict) -> RealTextRun:
    started = time.perf_counter()
    contract, spec = assignment.contract, assignment.report.real_text
    if spec is None:  # the command line refuses --text without the section
        raise ValueError(f"{assignment.spec_dir / 'report.yaml'} has no real_text section")
    conventions = contract.conventions
    eta, seq_length, sigma = conventions.eta, conventions.seq_length, conventions.sigma
    n = request.n_updates or spec.n_updates
    budget = request.run_seconds or spec.budget_seconds(n)
    text = request.text
    vocab = sorted(set(text))
    K, m = len(vocab), spec.m
    start = contract_init(contract, {"K": K, "m": m}, sigma, np.random.default_rng(spec.seed))
    failures: list[str] = []
    settings = BandSettings(K, m, sigma, eta, seq_length, n, spec.seed, spec.band_runs,
                            json.dumps(conventions.reference_options(), sort_keys=True))
    with BandRun(text, start, settings, request.cache_dir, assignment.spec_dir, oracle) as pending, \
            Sandbox(submission, limits=run_limits(checks_limits, budget), functions=assignment.functions,
                    policy=policy, packages=assignment.allowed_imports) as box:
        case, rows, gradient_failure = course_gradient_table(box, contract, oracle, spec, text,
                                                             assignment.report.gradients.error_floor)
        loop = _loop(box, contract, spec, text, start, n, eta, seq_length, failures)
        own = _own_train(box, contract, text, start, n, eta, seq_length, failures)
        passage = ""
        x0 = vocab.index(text[0])
        if loop.best is not None and loop.can_sample:
            try:
                passage = synthesize_text(box, contract, loop.best, x0, spec.passage_chars, spec.seed, vocab)
            except (CallFailed, ContractViolation) as exc:
                failures.append(f"synthesize failed on the passage from the best model: {exc}")
        band = pending.result()
        if pending.problem:
            failures.append(pending.problem)
    notes = () if band is None else tuple(
        judge(curve, band, who).note
        for curve, who in ((loop.curve, "The contract's loop with your functions"), (own, "Your train"))
        if curve
    )
    notes += tuple(filter(None, [agreement(own, loop.curve)]))
    kept = stored_indices(n)
    return RealTextRun(
        text_name=request.name, text_chars=len(text), K=K, m=m, n_updates=n, eta=eta, seq_length=seq_length,
        sigma=sigma,
        curve_updates=tuple((kept + 1).tolist()),
        loop_smooth_loss=_at(loop.curve, kept), train_smooth_loss=_at(own, kept),
        band_lo=_at(band.lo, kept) if band else (), band_hi=_at(band.hi, kept) if band else (),
        band_center=_at(band.center, kept) if band else (),
        band_runs=band.runs if band else 0, updates_done=len(loop.curve),
        wrap_updates=tuple(wraps(len(text), seq_length, n)),
        samples=tuple(loop.samples), best_update=loop.best_update, best_smooth_loss=loop.best_smooth_loss,
        passage=passage, notes=notes, drift=DRIFT if band else "",
        gradient_case=case, gradient_rows=rows, gradient_failure=gradient_failure,
        failure=" ".join(failures), seconds=round(time.perf_counter() - started, 3), budget_seconds=budget,
    )


def agreement(own, loop, rounding: float = 1e-9, early: int = 10) -> str:
    """Does the submission's train compute what the contract's loop computes with its own functions?

    Same functions, same order of operations: a train that is the contract's loop matches it to rounding
    at every update. A difference within the first `early` updates, before rounding has had time to grow,
    is a difference in the loop itself.
    """
    n = min(len(own), len(loop))
    if n == 0:
        return ""
    a, b = np.asarray(own[:n]), np.asarray(loop[:n])
    apart = np.abs(a - b) > rounding * np.maximum(np.abs(a), np.abs(b))
    if not apart.any():
        return (f"Your train and the contract's loop with your functions agree to rounding at all {n} updates: "
                "your train is the contract's loop.")
    first = int(np.argmax(apart))
    said = (f"Your train first differs from the contract's loop with your functions after update {first + 1} "
            f"({a[first]:.10g} against {b[first]:.10g})")
    if first < early:
        return said + ", before rounding could grow: the loop in your train differs from the contract's."
    return said + "; both use your functions, so your train does the same work in another order or another way."


def stored_indices(n: int) -> np.ndarray:
    """The 0-based updates a curve of n updates is stored at: all, or every k-th and the last (a long run's
    curves would otherwise make results.json megabytes; the plot draws fewer points still)."""
    stride = max(1, math.ceil(n / STORED_POINTS))
    return np.unique(np.append(np.arange(0, n, stride), n - 1))


def _at(curve, indices: np.ndarray) -> tuple[float, ...]:
    values = np.asarray(curve, dtype=np.float64)
    return tuple(values[indices[indices < len(values)]].tolist())


@dataclass
class _Loop:
    curve: list[float]
    samples: list[Sample]
    best: dict | None = None
    best_update: int = 0
    best_smooth_loss: float | None = None
    can_sample: bool = True


def _loop(box: Sandbox, contract: Contract, spec: RealTextSpec, text: str, start: dict, n: int, eta: float,
          seq_length: int, failures: list[str]) -> _Loop:
    """The contract's loop with the submission's functions; samples on the way and keeps the best params."""
    functions = SandboxFunctions(box_caller(box, contract), describe="the report's run on the text")
    loop = DrivenLoop(functions, text, start, eta=eta, seq_length=seq_length,
                      rules=Rules.from_conventions(contract.conventions))
    every = max(1, n // spec.samples)
    vocab = loop.vocab
    x0 = vocab.index(text[0])
    found = _Loop(loop.curve, [])
    try:
        for update in loop.updates(n):
            if found.best_smooth_loss is None or update.smooth_loss < found.best_smooth_loss:
                found.best = {k: v.copy() for k, v in loop.params.items()}
                found.best_update, found.best_smooth_loss = update.number, update.smooth_loss
            if found.can_sample and (update.number == 1 or update.number % every == 0):
                try:
                    found.samples.append(Sample(update.number, synthesize_text(
                        box, contract, loop.params, x0, spec.sample_chars, spec.seed + update.number, vocab)))
                except (CallFailed, ContractViolation) as exc:
                    failures.append(f"synthesize failed after update {update.number}, so there are no further "
                                    f"samples: {exc}")
                    found.can_sample = False
    except (CallFailed, ContractViolation) as exc:
        failures.append(f"the contract's loop with your functions stopped at update {len(loop.curve) + 1} of {n}: "
                        f"{exc}")
    return found


def _own_train(box: Sandbox, contract: Contract, text: str, start: dict, n: int, eta: float, seq_length: int,
               failures: list[str]) -> list[float]:
    params = {k: v.copy() for k, v in start.items()}
    try:
        reply = box.call("train", text, params, n, eta, seq_length,
                         describe=f"the report's run on the text: your train, {n} updates in one call")
        _, smooth = conform(contract, "train", reply.value,
                            {"K": params["c"].shape[0], "m": params["W"].shape[0], "n_updates": n})
    except (CallFailed, ContractViolation) as exc:
        failures.append(f"your train failed on the text: {exc}")
        return []
    return smooth.tolist()
