"""Grade one submission end to end: the sandboxes, every check, the scores, the timings and the output."""

from __future__ import annotations

import dataclasses
import time

import hypothesis

from grader import __version__
from grader.assignment import Assignment
from grader.checks.core import Ctx, run_check
from grader.checks.outcome import Outcome
from grader.checks.suite import suite_for
from grader.contract import OPTIMIZERS, Contract
from grader.diagnostics import run_diagnostics
from grader.diagnostics.real_text import RealTextRequest, real_text_run
from grader.oracle import FIXTURES, FixtureError, LiveOracle, Oracle, ReplayingOracle, load_fixtures
from grader.intake import load, prepare
from grader.results import CapturedOutput, CheckResult, FunctionTiming, Intake, LoadFailure, SubmissionResult
from grader.sandbox import Limits, Policy, Sandbox, TimeBudget
from grader.scoring import PUBLIC, check_result, penalised, totals


def grade_submission(path, assignment: Assignment, *, limits: Limits | None = None, include_hidden: bool = True,
                     diagnostics: bool = True, oracle: Oracle | None = None,
                     real_text: RealTextRequest | None = None, case_salt: str | None = None,
                     policy: Policy = Policy.strict) -> SubmissionResult:
    """Run the assignment's suite on the submission at ``path`` and score it.

    ``path`` is what the student handed in: a folder (rnn.py, a misnamed .py or a notebook in it, or one
    nested submission), a zip file, or the path of rnn.py or of a notebook (grader.intake reads it; it
    raises grader.intake.NotGradable when nothing can be graded).

    The visible checks run first, then the report's diagnostics, in one sandbox; the other checks (hidden,
    after the due date) run after them in a fresh sandbox, so nothing a hidden call showed the submission
    can reach what a student reads. That sandbox opens with the first visible check again, so its first calls
    do not give it away. Only the first sandbox's output and timings are the student's to see.
    The checks share one time budget (``limits.total_seconds``); the diagnostics have one of their own.

    ``include_hidden=False`` runs only the visible checks; the result then says how many were left out.
    Expected values come from ``oracle``; by default the live reference under the assignment's
    conventions, or, under the student kit's spec (``self_check``), the fixtures its builder recorded.
    ``diagnostics`` adds the report's gradient table and training run (they never change the score); they
    run after the timings are taken, so their calls do not count as the submission's time per function.
    ``real_text`` adds the course reports' figures on that text, in a sandbox and time budget of their own
    (grader.diagnostics.real_text).
    The cases are drawn under ``case_salt``, by default the assignment's (Assignment.case_salt).
    ``policy`` says which sandbox tiers are acceptable (grader.sandbox.Policy; SandboxUnavailable when
    none works); the kit always uses its portable tier.
    """
    spec = assignment.grading
    suite = suite_for(assignment)
    visible = [c for c in suite if spec.checks[c.name].visibility == PUBLIC]
    hidden = [c for c in suite if include_hidden and spec.checks[c.name].visibility != PUBLIC]
    oracle = oracle or default_oracle(assignment)
    limits = limits or assignment.grading.limits
    # Other years' optimizer steps are looked up too, to name a submission written for another year.
    steps = tuple(kind.function for kind in OPTIMIZERS.values() if kind.function not in assignment.functions)
    policy = Policy.portable if spec.self_check else Policy(policy)
    # One budget for every sandbox of this grading: the hidden checks' fresh worker gets what is left, not more.
    sandbox = {"limits": limits, "functions": assignment.functions + steps, "policy": policy,
               "packages": assignment.allowed_imports, "budget": TimeBudget(limits)}

    def run_checks(box, checks, blocked: dict[str, str], relabel, stopped_by: str = "") -> list:
        results = []
        for check in checks:
            entry = spec.checks[check.name]
            if check.function in blocked:  # said once, as the result's banner; each check only points there
                outcome = Outcome.failed(f"not run: {blocked[check.function]}", stopped_by=stopped_by)
            else:
                outcome = run_check(check, Ctx(box, assignment, oracle, entry, case_salt), entry.examples)
            results.append(_relabelled(check_result(entry, outcome), relabel))
        return results

    def open_sandbox(folder):
        return Sandbox(folder, **sandbox)

    start = time.perf_counter()
    with prepare(path, tuple(assignment.functions)) as submission:
        with load(submission, open_sandbox) as (box, top_level_warning):
            blocked = _blocked(box, assignment.contract)
            results = run_checks(box, visible, blocked, submission.relabel)
            timings = {name: FunctionTiming(len(s), round(sum(s), 6), round(max(s), 6)) for name, s in box.timings.items() if s}
            captured = box.output()
            tier, tier_description, weak = box.tier, box.tier_description, box.weak
            failure = box.load_failure
            load_failure = LoadFailure(failure.kind, submission.relabel(failure.message)) if failure is not None else None
            banner = "" if failure else submission.relabel("\n".join(dict.fromkeys(_problems(box, assignment.contract).values())))
            box.budget = TimeBudget(limits)  # the diagnostics' own: they never take time from the hidden checks
            report = run_diagnostics(box, assignment, oracle) if diagnostics and load_failure is None else None
        if report is not None and real_text is not None:  # its own sandbox, once the checks' worker is gone
            run = real_text_run(submission.folder, assignment, oracle, real_text, limits, policy)
            report = dataclasses.replace(report, real_text=run)
        hidden_output = CapturedOutput()
        if hidden and load_failure is not None:  # it would only fail to load again
            results += run_checks(None, hidden, blocked, submission.relabel)
        elif hidden:
            # The module the visible checks ran: rnn.py as it is, or its definitions alone after a fallback.
            with open_sandbox(submission.folder) as box:
                failure = box.load_failure
                if failure is None:
                    hidden_blocked = _blocked(box, assignment.contract)
                    run_checks(box, _opening(visible, hidden_blocked), hidden_blocked, submission.relabel)
                    results += run_checks(box, hidden, hidden_blocked, submission.relabel)
                else:  # it loaded for the visible checks: the budget ran out, or it does not load alike twice
                    why = dict.fromkeys(assignment.contract.functions, submission.relabel(failure.message))
                    results += run_checks(None, hidden, why, submission.relabel, stopped_by=failure.kind.value)
                hidden_output = box.output()
        intake = Intake(
            file=submission.graded_file,
            kind=submission.located.kind,
            notes=submission.notes,
            skipped=submission.skipped,
            warning=top_level_warning,
            penalty=spec.top_level_code_penalty if top_level_warning and submission.fallback.work else 0.0,
        )
    score, max_score = totals(tuple(results))
    return SubmissionResult(
        name=submission.name,
        checks=tuple(results),
        score=penalised(score, intake.penalty),
        max_score=max_score,
        isolation_tier=tier,
        isolation_description=tier_description,
        weak_isolation=weak,
        execution_time=round(time.perf_counter() - start, 3),
        grader_version=__version__,
        spec_digest=assignment.digest,
        load_failure=load_failure,
        banner=banner,
        output=captured,
        hidden_output=hidden_output,
        timings=timings,
        diagnostics=report,
        self_check=spec.self_check or not include_hidden,
        hidden_checks_not_run=spec.hidden_checks + len(suite) - len(visible) - len(hidden),
        intake=intake,
    )


def _opening(visible: list, blocked: dict[str, str]) -> list:
    """The check the visible checks' sandbox began with, run again (its outcome unused) before the hidden checks
    in theirs: both sandboxes' first calls are the same, so a submission cannot tell which one it is in before
    it holds a hidden check's input."""
    return [c for c in visible if c.function not in blocked][:1]


def _relabelled(check: CheckResult, relabel) -> CheckResult:
    """The check's texts with rnn.py's lines named as the student knows them (the file's own name, cells)."""
    return dataclasses.replace(check, reason=relabel(check.reason), feedback=relabel(check.feedback))


def default_oracle(assignment: Assignment) -> Oracle:
    """The live reference, or in the student kit the values its builder recorded."""
    if not assignment.grading.self_check:
        return LiveOracle(assignment)
    spec = assignment.grading
    # The recorded values belong to the cases of the Hypothesis version they were made with.
    if spec.hypothesis != hypothesis.__version__:
        raise FixtureError(
            f"this kit was built with Hypothesis {spec.hypothesis}, but Hypothesis {hypothesis.__version__} is "
            f"installed; other versions try other cases. Run: pip install hypothesis=={spec.hypothesis}"
        )
    return ReplayingOracle(assignment.contract, load_fixtures(assignment.spec_dir / FIXTURES))


def _blocked(box, contract: Contract) -> dict[str, str]:
    """For each contract function that cannot be tested at all, a few words on why (the banner says more)."""
    if box.load_failure is not None:
        return dict.fromkeys(contract.functions, "rnn.py could not be loaded (the message at the top says why)")
    return {name: f"{name} cannot be called as the contract says (the message at the top says why)"
            for name in _problems(box, contract)}


def _problems(box, contract: Contract) -> dict[str, str]:
    """Why each contract function that rnn.py lacks, or defines with too few parameters, cannot be called."""
    blocked = {}
    for name in contract.functions:
        found = box.functions.get(name)
        if found and found["callable"] and found["parameters"] is None:
            continue  # a callable whose signature cannot be read: its calls will tell
        if problem := contract.signature_problem(name, found["parameters"] if found and found["callable"] else None):
            blocked[name] = problem + _other_year(box, contract, name)
    return blocked


def _other_year(box, contract: Contract, missing: str) -> str:
    """When the missing function is this year's optimizer step and rnn.py has another year's, say so."""
    this = contract.conventions.optimizer
    if missing != this.function:
        return ""
    for kind in OPTIMIZERS.values():
        found = box.functions.get(kind.function)
        if kind.function != missing and found and found["callable"]:
            return (f" rnn.py defines {kind.function} ({kind.title}) instead: this assignment updates with {this.title}, "
                    f"as its contract says; your submission may be written for another year's version.")
    return ""
