"""The class-level numbers, computed once from the submissions' results: the renderers only read them.

Which submissions crashed or timed out is read from the sandbox's failure kinds, which the results model
keeps in load_failure and in stopped_by of the checks a sandbox failure stopped; a load_failure of kind
grader is the grader's own failure, which gives no grade: it is left out of the scores' numbers. A submission that
could not be graded at all (refused before the sandbox, or rnn.py not importable) is ungradable: it keeps
its score, but the pass rate of a check counts only the submissions on which the checks actually ran.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence

from grader.mistakes import CAUSES, function_of
from grader.results import (
    NOT_WRITTEN,
    CheckPassRate,
    CheckResult,
    ClassResult,
    ClassSubmission,
    Explanation,
    FailureKind,
    MistakeCount,
    Problem,
    ScoreBin,
    Status,
    StudentIdentity,
    SubmissionResult,
    Unexplained,
)
from grader.scoring import NOT_RUN

BINS = 10
SLOWEST = 5
DETAIL_CHARS = 200
PROBLEMS = (  # the most telling problem first
    (Problem.TIMED_OUT, frozenset({FailureKind.timeout, FailureKind.stalled, FailureKind.budget})),
    (Problem.CRASHED, frozenset({FailureKind.signal, FailureKind.memory, FailureKind.exited})),
)


def problem_of(result: SubmissionResult) -> tuple[Problem, str]:
    """(the submission's problem, one line saying what happened)."""
    failure = result.load_failure
    if failure and failure.kind is FailureKind.grader:
        return Problem.GRADER_FAILED, _line(failure.message)
    if result.isolation_tier == NOT_RUN or (failure and failure.kind is FailureKind.refused):
        return Problem.NOT_GRADED, _line(failure.message if failure else "")
    for problem, kinds in PROBLEMS:
        for kind, text in stopped(result):
            if kind in kinds:
                return problem, _line(text)
    if failure:  # an import that raised, a syntax error: nothing could be checked
        return Problem.CRASHED, _line(failure.message)
    return Problem.NONE, ""


def stopped(result: SubmissionResult) -> list[tuple[FailureKind, str]]:
    """(kind, message) of each sandbox failure in the result: the import's first, then each check's."""
    failure = result.load_failure
    return ([(failure.kind, failure.message)] if failure else []) + [
        (c.stopped_by, c.reason) for c in result.checks if c.stopped_by]


def is_gradable(result: SubmissionResult) -> bool:
    """The checks ran: the submission reached the sandbox and its rnn.py could be imported."""
    return result.isolation_tier != NOT_RUN and result.load_failure is None


def summarize(
    folder: str,
    submissions: Sequence[ClassSubmission],
    results: Sequence[SubmissionResult],
    *,
    ignored: Sequence[str] = (),
    seconds: float = 0.0,
    explanations: Mapping[str, Explanation] | None = None,
    **extra,
) -> ClassResult:
    """The ClassResult of `submissions` (rows made by `row`, the ledger applied) and their `results`, in the
    same order; `extra` are ClassResult's fields that come from elsewhere (similarity, regrade, warnings).
    ``explanations`` (the assignment's mistakes.yaml) give the named mistakes their titles."""
    gradable = [(s, r) for s, r in zip(submissions, results) if is_gradable(r)]
    max_score = max((r.max_score for r in results), default=0.0)
    graded = [s for s in submissions if s.has_grade]  # the grader's failures have no score to count
    scores = [s.score for s in graded]
    finals = [s.final for s in graded]
    return ClassResult(
        folder=folder,
        submissions=tuple(submissions),
        checks=_pass_rates([r for _, r in gradable]),
        mistakes=_mistakes(gradable, explanations or {}),
        unexplained=_unexplained([s for s, _ in gradable]),
        histogram=_histogram(scores, max_score),
        max_score=max_score,
        mean_score=round(statistics.fmean(scores), 6) if scores else 0.0,
        median_score=round(statistics.median(scores), 6) if scores else 0.0,
        troubled=tuple(s.name for s in submissions if s.problem),
        slowest=tuple(s.name for s in sorted(submissions, key=lambda s: -s.seconds)[:SLOWEST]),
        graded_now=sum(not s.reused for s in submissions),
        reused=sum(s.reused for s in submissions),
        ignored=tuple(ignored),
        grader_version=results[0].grader_version if results else "",
        spec_digest=results[0].spec_digest if results else "",
        seconds=round(seconds, 3),
        ungradable=tuple(s.name for s, r in zip(submissions, results) if not is_gradable(r)),
        mean_final=round(statistics.fmean(finals), 6) if finals else 0.0,
        grader_failed=tuple(s.name for s in submissions if not s.has_grade),
        **extra,
        weak_isolation=tuple(s.name for s in submissions if s.weak_isolation),
    )


def row(result: SubmissionResult, *, source: str, reused: bool, report: str, note: str = "",
        student: StudentIdentity | None = None) -> ClassSubmission:
    problem, detail = problem_of(result)
    return ClassSubmission(
        name=result.name,
        source=source,
        score=result.score,
        max_score=result.max_score,
        check_scores={c.name: c.score for c in result.checks},
        seconds=result.execution_time,
        problem=problem,
        problem_detail=detail,
        reused=reused,
        report=report,
        note=note,
        final_score=result.score,
        student=student or StudentIdentity(name=result.name),
        sandbox=result.isolation_tier,
        weak_isolation=result.weak_isolation,
        mistakes=tuple(dict.fromkeys(c.cause for c in _failed(result) if c.cause)),
        unexplained=unexplained(result),
    )


def _failed(result: SubmissionResult) -> list[CheckResult]:
    """The checks that failed by a fault of their own function: not carried from another, not unwritten or not
    run (the banner says why), on a submission whose checks ran."""
    if not is_gradable(result):
        return []
    unwritten = {NOT_WRITTEN.format(c.function) for c in result.checks}
    return [c for c in result.checks if c.status is Status.FAILED and not c.carried_from
            and c.reason not in unwritten and not c.reason.startswith("not run:")]


def unexplained(result: SubmissionResult) -> tuple[str, ...]:
    """The functions whose failed checks name no known mistake, in the suite's order."""
    failed = _failed(result)
    named = {c.function for c in failed if c.cause}
    return tuple(dict.fromkeys(c.function for c in failed if c.function not in named))


def _mistakes(gradable: Sequence[tuple[ClassSubmission, SubmissionResult]],
              explanations: Mapping[str, Explanation]) -> tuple[MistakeCount, ...]:
    """Each named mistake with its students (the class folder's order), the most frequent first; its example
    is the shortest failure reason naming it (the reason holds the check's smallest failing case)."""
    students: dict[str, list[str]] = {}
    examples: dict[str, CheckResult] = {}
    for sub, result in gradable:
        for cause in sub.mistakes:
            students.setdefault(cause, []).append(sub.name)
        for check in _failed(result):
            if check.cause and (check.cause not in examples or len(check.reason) < len(examples[check.cause].reason)):
                examples[check.cause] = check
    order = sorted(students, key=lambda c: (-len(students[c]), CAUSES.index(c) if c in CAUSES else len(CAUSES), c))
    return tuple(MistakeCount(
        id=cause, function=function_of(cause),
        title=explanations[cause].title if cause in explanations else cause,
        students=tuple(students[cause]), share=round(len(students[cause]) / len(gradable), 6),
        example=examples[cause].reason if cause in examples else "",
        example_check=examples[cause].name if cause in examples else "",
    ) for cause in order)


def compared(result: ClassResult, before: ClassResult, name: str) -> ClassResult:
    """``result`` with each mistake's share in ``before`` (another run's summary.json, called ``name``) and the
    mistakes only ``before`` shows."""
    shares = {m.id: m.share for m in before.mistakes}
    now = {m.id for m in result.mistakes}
    return dataclasses.replace(
        result, compared_with=name,
        mistakes=tuple(dataclasses.replace(m, share_before=shares.get(m.id)) for m in result.mistakes),
        mistakes_gone=tuple(m for m in before.mistakes if m.id not in now))


def _unexplained(submissions: Sequence[ClassSubmission]) -> tuple[Unexplained, ...]:
    functions: dict[str, list[str]] = {}
    for sub in submissions:
        for function in sub.unexplained:
            functions.setdefault(function, []).append(sub.name)
    return tuple(Unexplained(f, tuple(names)) for f, names in functions.items())


def _pass_rates(results: Sequence[SubmissionResult]) -> tuple[CheckPassRate, ...]:
    rates: dict[str, CheckPassRate] = {}
    for result in results:
        for check in result.checks:
            seen = rates.get(check.name, CheckPassRate(check.name, check.function, check.max_score, 0, 0))
            rates[check.name] = CheckPassRate(
                seen.name, seen.function, seen.max_score, seen.passed + (check.status is Status.PASSED), seen.total + 1
            )
    order = list(rates)  # the suite's order breaks ties
    return tuple(sorted(rates.values(), key=lambda r: (-r.failure_rate, order.index(r.name))))


def _histogram(scores: list[float], max_score: float) -> tuple[ScoreBin, ...]:
    if max_score <= 0:
        return ()
    width = max_score / BINS
    counts = [0] * BINS
    for score in scores:
        counts[min(BINS - 1, max(0, int(score / width)))] += 1
    return tuple(ScoreBin(round(i * width, 6), round((i + 1) * width, 6), n) for i, n in enumerate(counts))


def _line(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= DETAIL_CHARS else one[: DETAIL_CHARS - 1] + "…"
