"""Grade one submission end to end: the sandboxes, every check, the scores, the timings and the output.

grade_submission reads as its stages: the plan (which checks run where, the sandboxes' settings), the visible
phase (the visible checks, in the sandbox whose output the student sees), the report's diagnostics (in a
sandbox of their own, beside the checks when there are two cores: grader.diagnostics.beside), the course
reports' real-text run if asked, the hidden phase (the other checks, in a fresh sandbox) and the assembly of
the one result.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hypothesis

from grader import __version__
from grader.assignment import Assignment
from grader.boxes import GradingSandboxes, SandboxSettings
from grader.checks.core import Check, Ctx, run_check
from grader.checks.outcome import Outcome
from grader.checks.suite import suite_for
from grader.contract import OPTIMIZERS, Contract
from grader.diagnostics import run_diagnostics
from grader.diagnostics.beside import Beside
from grader.diagnostics.real_text import RealTextRequest, real_text_run
from grader.intake import Offered, Prepared, load, prepare
from grader.oracle import (
    FIXTURES,
    FixtureError,
    LiveOracle,
    Oracle,
    ReplayingOracle,
    load_fixtures,
)
from grader.results import (
    PUBLIC,
    CapturedOutput,
    CheckResult,
    Diagnostics,
    FunctionTiming,
    Intake,
    LoadFailure,
    SubmissionResult,
)
from grader.sandbox import Limits, Policy, Sandbox, TimeBudget
from grader.sandbox.ahead import SandboxAhead
from grader.sandbox.protocol import printable
from grader.scoring import check_result, penalised, totals
from grader.settings import default_cache_dir

Relabel = Callable[[str], str]  # rnn.py's lines named as the student knows them (Prepared.relabel)


def grade_submission(path: Path | str, assignment: Assignment, *, limits: Limits | None = None,
                     include_hidden: bool = True, diagnostics: bool = True, oracle: Oracle | None = None,
                     real_text: RealTextRequest | None = None, case_salt: str | None = None,
                     policy: Policy = Policy.strict, kit_policy: Policy = Policy.portable,
                     cores: int | None = None, sandboxes: GradingSandboxes | None = None) -> SubmissionResult:
    """Run the assignment's suite on the submission at ``path`` and score it.

    ``path`` is what the student handed in: a folder (rnn.py, a misnamed .py or a notebook in it, or one
    nested submission), a zip file, or the path of rnn.py or of a notebook (grader.intake reads it; it
    raises grader.intake.NotGradable when nothing can be graded).

    The visible checks run first, in one sandbox; the other checks (hidden, after the due date) run after
    them in a fresh sandbox, so nothing a hidden call showed the submission can reach what a student reads.
    That sandbox opens with the first visible check again, so its first calls do not give it away. Only the
    first sandbox's output and timings are the student's to see. The checks share one time budget
    (``limits.total_seconds``). The report's diagnostics run in a sandbox of their own with a budget of their
    own: beside the visible checks, in a thread, when the grading has ``cores`` >= 2 (None: the cores this
    process may use), else after them; the report is the same either way, and complete before the hidden
    sandbox loads rnn.py.

    ``include_hidden=False`` runs only the visible checks; the result then says how many were left out.
    Expected values come from ``oracle``; by default the live reference under the assignment's
    conventions, or, under the student kit's spec (``self_check``), the fixtures its builder recorded.
    ``diagnostics`` adds the report's gradient table and training run (they never change the score); their
    calls do not count as the submission's time per function.
    ``real_text`` adds the course reports' figures on that text, in a sandbox and time budget of their own
    (grader.diagnostics.real_text).
    The cases are drawn under ``case_salt``, by default the assignment's (Assignment.case_salt).
    ``policy`` says which sandbox tiers are acceptable (grader.sandbox.Policy; SandboxUnavailable when
    none works); under the student kit's spec ``kit_policy`` does: its portable tier on the student's own
    machine, a strong one where the kit grades for the record (the GitHub Classroom run).
    ``sandboxes``: the grading's sandboxes, made by the caller (perhaps with workers started while it did other
    work: grader.boxes) under these limits, policy and cores, which are then theirs; the grading closes them.
    """
    with sandboxes or GradingSandboxes.make(assignment, limits, policy, cores, kit_policy) as boxes:
        start = time.perf_counter()
        with prepare(Path(path), assignment.functions, Offered.of(assignment.allowed_imports)) as submission, \
                Beside[Diagnostics](boxes.beside) as diagnosis:
            # The first workers start while the checks are planned (the reference's answers found), if the
            # caller did not start them earlier, and the hidden checks' worker on the core the first of them
            # frees (SandboxAhead: no code of the submission's runs in any yet).
            boxes.start(diagnostics)
            ahead = diagnostics and diagnosis.beside
            plan = Plan.make(assignment, boxes.settings, include_hidden=include_hidden, oracle=oracle,
                             case_salt=case_salt)
            hidden_ahead = boxes.hidden if ahead and plan.hidden and real_text is None else None
            visible = visible_phase(plan, submission, boxes.visible, Report(diagnosis, boxes.report_budget,
                                                                            boxes.report, hidden_ahead)
                                    if diagnostics else None)
            if hidden_ahead is not None and diagnosis.started:
                hidden_ahead.start()
            # The report is the submission's own output, which the student reads: it is complete, and its
            # sandbox gone, before rnn.py loads in the hidden sandbox (the unprivileged tier's sandboxes share
            # the host's /tmp).
            report = diagnosis.result() if diagnosis.started else None
            if report is not None and real_text is not None:  # its own sandbox, once the checks' worker is gone
                report = dataclasses.replace(report, real_text=real_text_run(
                    submission.folder, assignment, plan.oracle, real_text, plan.sandbox.limits, plan.sandbox.policy))
            hidden = hidden_phase(plan, submission, visible, boxes.hidden)
            intake = _intake(plan, submission, visible.top_level_warning)
    return assemble(plan, submission.name, visible, hidden, report, intake, time.perf_counter() - start)


@dataclass(frozen=True)
class Plan:
    """One grading's fixed inputs: the checks of each phase, where expected values come from, the sandboxes."""

    assignment: Assignment
    oracle: Oracle
    case_salt: str | None
    visible: tuple[Check, ...]
    hidden: tuple[Check, ...]
    hidden_not_run: int  # hidden checks left out: the kit's, or all of them with include_hidden=False
    visible_only: bool  # the kit's self-check, or include_hidden=False: the result says so
    sandbox: SandboxSettings

    @classmethod
    def make(cls, assignment: Assignment, sandbox: SandboxSettings, *, include_hidden: bool, oracle: Oracle | None,
             case_salt: str | None) -> Plan:
        spec = assignment.grading
        suite = suite_for(assignment)
        visible = tuple(c for c in suite if spec.checks[c.name].visibility == PUBLIC)
        hidden = tuple(c for c in suite if include_hidden and spec.checks[c.name].visibility != PUBLIC)
        return cls(assignment, oracle or default_oracle(assignment), case_salt, visible, hidden,
                   spec.hidden_checks + len(suite) - len(visible) - len(hidden),
                   spec.self_check or not include_hidden, sandbox)

    def run_checks(self, box: Sandbox, checks: tuple[Check, ...], blocked: dict[str, str],
                   relabel: Relabel) -> tuple[CheckResult, ...]:
        """Each check's result; a check of a blocked function fails without a call, pointing at the banner."""
        results = []
        for check in checks:
            entry = self.assignment.grading.checks[check.name]
            if check.function in blocked:
                results.append(self.not_run((check,), blocked, relabel)[0])
            else:
                outcome = run_check(check, Ctx(box, self.assignment, self.oracle, entry, self.case_salt),
                                    entry.examples)
                results.append(_relabelled(check_result(entry, outcome, self.assignment.mistakes), relabel))
        return tuple(results)

    def not_run(self, checks: tuple[Check, ...], why: dict[str, str], relabel: Relabel,
                stopped_by: str = "") -> tuple[CheckResult, ...]:
        """The checks failed without a call: ``why`` says, for each function, what the result's banner explains
        (said once there; each check only points to it)."""
        return tuple(_relabelled(check_result(self.assignment.grading.checks[check.name],
                                              Outcome.failed(f"not run: {why[check.function]}", stopped_by=stopped_by)),
                                 relabel) for check in checks)


@dataclass(frozen=True)
class VisiblePhase:
    """What the first sandbox gave; its output and timings are the student's to see."""

    checks: tuple[CheckResult, ...]
    blocked: dict[str, str]  # contract functions that could not be called, and why in a few words
    timings: dict[str, FunctionTiming]
    output: CapturedOutput
    isolation_tier: str
    isolation_description: str
    weak_isolation: bool
    load_failure: LoadFailure | None
    banner: str  # why functions could not be called, said once for the result
    top_level_warning: str  # rnn.py was graded from its definitions alone (grader.intake.load), or ""


@dataclass(frozen=True)
class HiddenPhase:
    """The hidden checks' results and the output of their sandbox (the instructor's only)."""

    checks: tuple[CheckResult, ...] = ()
    output: CapturedOutput = dataclasses.field(default_factory=CapturedOutput)


@dataclass(frozen=True)
class Report:
    """How the report's diagnostics run: in ``diagnosis`` (beside the checks or after them) on a ``budget`` of
    their own, in the sandbox of ``box`` if its worker was started ahead; they start the ``hidden`` checks'
    worker once they are done, if given one."""

    diagnosis: Beside[Diagnostics]
    budget: TimeBudget
    box: SandboxAhead
    hidden: SandboxAhead | None


def visible_phase(plan: Plan, submission: Prepared, ahead: SandboxAhead, report: Report | None) -> VisiblePhase:
    """The visible checks, in one sandbox (the one started ``ahead``): rnn.py as it is, or its definitions alone
    in a fresh one when its top-level code stops the import (grader.intake.load). Once rnn.py has loaded, the
    ``report``'s diagnostics start on what loaded (None: no diagnostics): beside the checks, or after them on
    one core."""
    contract = plan.assignment.contract
    with load(submission, lambda folder: ahead.take(folder) or plan.sandbox.open(folder)) as (box, top_level_warning):
        failure = box.load_failure
        if report is not None and failure is None:
            started = report.box.take(submission.folder)  # the module that loaded: the definitions alone, if so
            report.diagnosis.start(functools.partial(report_phase, plan, submission.folder, report.budget, started,
                                                     report.hidden), report.budget)
        blocked = _blocked(box, contract)
        checks = plan.run_checks(box, plan.visible, blocked, submission.relabel)
        timings = {name: FunctionTiming(len(s), round(sum(s), 6), round(max(s), 6))
                   for name, s in box.timings.items() if s}
        output = box.output()
        load_failure = None if failure is None else LoadFailure(failure.kind, submission.relabel(failure.message))
        banner = "" if failure else submission.relabel("\n".join(dict.fromkeys(_problems(box, contract).values())))
        return VisiblePhase(checks, blocked, timings, output, box.tier, box.tier_description, box.weak,
                            load_failure, banner, top_level_warning)


def report_phase(plan: Plan, folder: Path, budget: TimeBudget, started: Sandbox | None,
                 hidden: SandboxAhead | None) -> Diagnostics:
    """The report's diagnostics (they never change the score) in a fresh sandbox of the module the visible
    checks loaded (``started`` ahead, or one opened now), on ``budget``: the same calls whether they run beside
    the checks or after them. Its sandbox closed, the ``hidden`` checks' worker may start on the core it used."""
    with started or plan.sandbox.open(folder, budget) as box:
        report = run_diagnostics(box, plan.assignment, plan.oracle)
    if hidden is not None:
        hidden.start()
    return report


def hidden_phase(plan: Plan, submission: Prepared, visible: VisiblePhase,
                 ahead: SandboxAhead | None) -> HiddenPhase:
    """The hidden checks, in a fresh sandbox of the module the visible checks ran (the one started ``ahead``, if
    it was), so nothing a hidden call showed the submission can reach what a student reads: rnn.py loads in it
    only now, once the visible checks' and the report's sandboxes are gone. It opens with the first visible
    check again, so its first calls do not give it away."""
    if not plan.hidden:
        return HiddenPhase()
    relabel = submission.relabel
    if visible.load_failure is not None:  # it would only fail to load again
        return HiddenPhase(plan.not_run(plan.hidden, visible.blocked, relabel))
    contract = plan.assignment.contract
    started = ahead.take(submission.folder) if ahead is not None else None
    with started or plan.sandbox.open(submission.folder) as box:
        failure = box.load_failure
        if failure is None:
            blocked = _blocked(box, contract)
            plan.run_checks(box, _opening(plan.visible, blocked), blocked, relabel)
            checks = plan.run_checks(box, plan.hidden, blocked, relabel)
        else:  # it loaded for the visible checks: the budget ran out, or it does not load alike twice
            why = dict.fromkeys(contract.functions, relabel(failure.message))
            checks = plan.not_run(plan.hidden, why, relabel, stopped_by=failure.kind.value)
        return HiddenPhase(checks, box.output())


def _intake(plan: Plan, submission: Prepared, top_level_warning: str) -> Intake:
    """How the upload was read; top-level work that had to be left out costs the spec's penalty."""
    work = top_level_warning and submission.work_left_out
    # These quote the upload itself (a cell magic's line, a statement left out, a syntax error's character),
    # which may hold lone surrogates (JSON's \ud800: no output file could be written) or terminal escapes:
    # spelled out, as the sandbox's replies are, before any output or the terminal gets them.
    return Intake(
        file=submission.graded_file,
        kind=submission.located.kind,
        notes=tuple(map(printable, submission.notes)),
        skipped=tuple(map(printable, submission.skipped)),
        warning=printable(top_level_warning),
        penalty=plan.assignment.grading.top_level_code_penalty if work else 0.0,
    )


def assemble(plan: Plan, name: str, visible: VisiblePhase, hidden: HiddenPhase, report: Diagnostics | None,
             intake: Intake, seconds: float) -> SubmissionResult:
    """The one result: both phases' checks scored together, the student's sandbox's output and timings."""
    checks = visible.checks + hidden.checks
    score, max_score = totals(checks)
    return SubmissionResult(
        name=name,
        checks=checks,
        score=penalised(score, intake.penalty),
        max_score=max_score,
        isolation_tier=visible.isolation_tier,
        isolation_description=visible.isolation_description,
        weak_isolation=visible.weak_isolation,
        execution_time=round(seconds, 3),
        grader_version=__version__,
        spec_digest=plan.assignment.digest,
        load_failure=visible.load_failure,
        banner=visible.banner,
        output=visible.output,
        hidden_output=hidden.output,
        timings=visible.timings,
        diagnostics=report,
        self_check=plan.visible_only,
        hidden_checks_not_run=plan.hidden_not_run,
        intake=intake,
    )


def _opening(visible: tuple[Check, ...], blocked: dict[str, str]) -> tuple[Check, ...]:
    """The check the visible checks' sandbox began with, run again (its outcome unused) before the hidden checks
    in theirs: both sandboxes' first calls are the same, so a submission cannot tell which one it is in before
    it holds a hidden check's input."""
    return tuple(c for c in visible if c.function not in blocked)[:1]


def _relabelled(check: CheckResult, relabel: Relabel) -> CheckResult:
    """The check's texts with rnn.py's lines named as the student knows them (the file's own name, cells)."""
    return dataclasses.replace(check, reason=relabel(check.reason), feedback=relabel(check.feedback))


def default_oracle(assignment: Assignment) -> Oracle:
    """The live reference, keeping its costly answers in the cache folder, or in the student kit the values its
    builder recorded."""
    if not assignment.grading.self_check:
        return LiveOracle(assignment, default_cache_dir())
    spec = assignment.grading
    # The recorded values belong to the cases of the Hypothesis version they were made with.
    if spec.hypothesis != hypothesis.__version__:
        raise FixtureError(
            f"this kit was built with Hypothesis {spec.hypothesis}, but Hypothesis {hypothesis.__version__} is "
            f"installed; other versions try other cases. Run: pip install hypothesis=={spec.hypothesis}"
        )
    return ReplayingOracle(assignment.contract, load_fixtures(assignment.spec_dir / FIXTURES))


def _blocked(box: Sandbox, contract: Contract) -> dict[str, str]:
    """For each contract function that cannot be tested at all, a few words on why (the banner says more)."""
    if box.load_failure is not None:
        return dict.fromkeys(contract.functions, "rnn.py could not be loaded (the message at the top says why)")
    return {name: f"{name} cannot be called as the contract says (the message at the top says why)"
            for name in _problems(box, contract)}


def _problems(box: Sandbox, contract: Contract) -> dict[str, str]:
    """Why each contract function that rnn.py lacks, or defines with too few parameters, cannot be called."""
    blocked = {}
    for name in contract.functions:
        found = box.functions.get(name)
        if found and found.is_callable and found.parameters is None:
            continue  # a callable whose signature cannot be read: its calls will tell
        if problem := contract.signature_problem(name, found.parameters if found and found.is_callable else None):
            blocked[name] = problem + _other_year(box, contract, name)
    return blocked


def _other_year(box: Sandbox, contract: Contract, missing: str) -> str:
    """When the missing function is this year's optimizer step and rnn.py has another year's, say so."""
    this = contract.conventions.optimizer
    if missing != this.function:
        return ""
    for kind in OPTIMIZERS.values():
        found = box.functions.get(kind.function)
        if kind.function != missing and found and found.is_callable:
            return (f" rnn.py defines {kind.function} ({kind.title}) instead: this assignment updates with {this.title}, "
                    f"as its contract says; your submission may be written for another year's version.")
    return ""
