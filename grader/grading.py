"""Grade one submission end to end: one sandbox, every check, the scores, the timings and the output."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path

import hypothesis

from grader import __version__, oracle
from grader.checks import CHECKS
from grader.checks.core import WHOLE, Ctx, Outcome, run_check
from grader.contract import Contract, load_contract
from grader.diagnostics import run_diagnostics
from grader.results import FunctionTiming, SubmissionResult
from grader.sandbox import Limits, Sandbox
from grader.scoring import PUBLIC, check_result, load_grading_spec, totals


def grade_submission(path, *, spec_dir: Path | None = None, limits: Limits | None = None,
                     include_hidden: bool = True, diagnostics: bool = True) -> SubmissionResult:
    """Run the whole suite on the submission folder ``path`` (its rnn.py) and score it.

    ``include_hidden=False`` runs only the visible checks; the result then says how many were left out.
    Under the student kit's spec (``self_check``), the kit's checks are the visible ones and their expected
    values come from the fixtures its builder recorded (grader.oracle). ``diagnostics`` adds the report's
    gradient table and training run (they never change the score); they run after the timings are taken,
    so their calls do not count as the submission's time per function.
    """
    contract = load_contract(spec_dir)
    spec = load_grading_spec(spec_dir)
    selected = [c for c in CHECKS if include_hidden or spec.checks[c.name].visibility == PUBLIC]
    expected_values = oracle.replaying(_kit_fixtures(spec)) if spec.self_check else nullcontext()
    start = time.perf_counter()
    with expected_values, Sandbox(path, limits=limits or Limits()) as box:
        blocked = _blocked(box, contract)
        results = []
        for check in selected:
            entry = spec.checks[check.name]
            if check.function in blocked:
                outcome = Outcome(frozenset({WHOLE}), blocked[check.function], blocked[check.function])
            else:
                outcome = run_check(check, Ctx(box, contract, entry, spec.floor, spec_dir), entry.examples)
            results.append(check_result(check, entry, outcome))
        timings = {name: FunctionTiming(len(s), round(sum(s), 6), round(max(s), 6)) for name, s in box.timings.items() if s}
        captured = box.output()
        tier, tier_description = box.tier, box.tier_description
        load_failure = box.load_failure.message if box.load_failure is not None else ""
        load_failure_kind = box.load_failure.kind.value if box.load_failure is not None else ""
        extras = run_diagnostics(box, contract, spec_dir).fields() if diagnostics and not load_failure else {}
    score, max_score = totals(tuple(results))
    return SubmissionResult(
        name=Path(path).resolve().name,
        checks=tuple(results),
        score=score,
        max_score=max_score,
        isolation_tier=tier,
        isolation_description=tier_description,
        execution_time=round(time.perf_counter() - start, 3),
        grader_version=__version__,
        spec_digest=f"{contract.digest}-{spec.digest}",
        load_failure=load_failure,
        load_failure_kind=load_failure_kind,
        output=captured,
        timings=timings,
        self_check=spec.self_check or not include_hidden,
        hidden_checks_not_run=spec.hidden_checks + len(CHECKS) - len(selected),
        **extras,
    )


def _kit_fixtures(spec) -> dict:
    """The recorded expected values; they belong to the cases of the Hypothesis version they were made with."""
    if spec.hypothesis != hypothesis.__version__:
        raise oracle.FixtureError(
            f"this kit was built with Hypothesis {spec.hypothesis}, but Hypothesis {hypothesis.__version__} is "
            f"installed; other versions try other cases. Run: pip install hypothesis=={spec.hypothesis}"
        )
    return oracle.load_fixtures(spec.path.parent / oracle.FIXTURES)


def _blocked(box, contract: Contract) -> dict[str, str]:
    """Why each contract function cannot be tested at all, for those that cannot."""
    if box.load_failure is not None:
        reason = f"rnn.py could not be loaded: {box.load_failure.message}"
        return dict.fromkeys(contract.functions, reason)
    blocked = {}
    for name in contract.functions:
        found = box.functions.get(name)
        if found and found["callable"] and found["parameters"] is None:
            continue  # a callable whose signature cannot be read: its calls will tell
        if problem := contract.signature_problem(name, found["parameters"] if found and found["callable"] else None):
            blocked[name] = problem
    return blocked
