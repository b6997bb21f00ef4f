"""A check's search runs the drawn cases without Hypothesis's wrapping of each case and hands over to Hypothesis
at the first failure: the same cases, in the same order, the same calls and the same smallest failing case as
a search Hypothesis runs from the start (grader.checks.core._search)."""

import dataclasses
import hashlib

import pytest
from hypothesis import Phase, assume
from hypothesis.errors import Unsatisfiable
from shipped_course import shipped

from grader.checks import core
from grader.checks.core import Aborted, Check, Ctx, Failed, _hypothesis, _search, _suite_constants_only
from grader.checks.strategies import sequences
from grader.checks.suite import suite_for
from grader.oracle import LiveOracle

ASSIGNMENT = shipped()
MEAN_ADAM = shipped("mean-adam")
GENERATE = (Phase.explicit, Phase.generate, Phase.shrink)


def ctx_for(assignment, salt=None):
    return Ctx(None, assignment, LiveOracle(assignment), None, salt)


def mark(case) -> int:
    """A number of the case alone, the same in every run: which cases a property rejects or fails."""
    return hashlib.sha256(repr(case).encode()).digest()[0]


class Calls:
    """A property that records every case it is called with; ``verdict`` decides what it does with one."""

    def __init__(self, verdict=lambda case, calls: None):
        self.seen = []
        self.verdict = verdict

    def __call__(self, ctx, case):
        self.seen.append(case)
        self.verdict(case, self.seen)


def searched(check, prop, ctx, examples):
    """``_search`` over ``check`` with ``prop``: (the failure or None, flaky, the cases ``prop`` was called with)."""
    failure, flaky = _search(dataclasses.replace(check, prop=prop), ctx, examples, frozenset(), [])
    return failure, flaky, prop.seen


def hypothesis_alone(check, prop, ctx, examples):
    """The same search run by Hypothesis from the start, as the grader did before it ran cases itself."""

    def test(case):
        try:
            prop(ctx, case)
        except Failed as failure:
            failure.case = case
            raise

    try:
        with _suite_constants_only():
            _hypothesis(check, ctx, test, examples, GENERATE)()
    except Failed as failure:
        return failure.case, False, prop.seen
    except BaseExceptionGroup as group:  # a failure that did not repeat
        return next(e for e in group.exceptions if isinstance(e, Failed)).case, True, prop.seen
    return None, False, prop.seen


def rejecting(case, calls):
    assume(mark(case) % 4 != 0)


@pytest.mark.parametrize("assignment", [ASSIGNMENT, MEAN_ADAM], ids=["course", "mean-adam"])
def test_every_check_runs_the_cases_hypothesis_draws_in_its_order_rejected_ones_included(assignment):
    ctx = ctx_for(assignment)
    for check in suite_for(assignment):
        examples = assignment.grading.checks[check.name].examples
        plain = dataclasses.replace(check, triggers=())  # the triggers are explicit examples, run by Hypothesis
        verdict = rejecting if examples > 1 else lambda case, calls: None  # a single case must stay valid
        failure, _, ours = searched(plain, Calls(verdict), ctx, examples)
        assert failure is None
        assert ours == hypothesis_alone(plain, Calls(verdict), ctx, examples)[2], check.name


def test_the_cases_change_with_the_salt():
    check = Check("forward: records its cases", "forward", sequences(), lambda ctx, case: None)
    first, second = (searched(check, Calls(), ctx_for(ASSIGNMENT, salt), 30)[2] for salt in ("one", "two"))
    assert first != second


def fails_at_large_sizes(case, calls):
    if case.K + case.m + case.tau >= 13:
        raise Failed("too large for this property")


@pytest.mark.parametrize("salt", ["one", "two", "three"])
def test_a_failing_case_is_called_once_and_shrunk_to_the_case_hypothesis_alone_finds(salt):
    check = Check("forward: fails at large sizes", "forward", sequences(), lambda ctx, case: None)
    ctx = ctx_for(ASSIGNMENT, salt)
    failure, flaky, ours = searched(check, Calls(fails_at_large_sizes), ctx, 30)
    alone, alone_flaky, theirs = hypothesis_alone(check, Calls(fails_at_large_sizes), ctx, 30)
    assert failure is not None and failure.case == alone and flaky == alone_flaky is False
    assert ours == theirs  # every call the same, none repeated for the handover
    assert failure.case.K + failure.case.m + failure.case.tau == 13


def fails_first_time_at_large_sizes(case, calls):
    if case.K + case.m + case.tau >= 13 and calls.count(case) == 1:
        raise Failed("too large the first time only")


def test_a_failure_that_does_not_repeat_is_reported_as_hypothesis_alone_reports_it():
    check = Check("forward: fails once", "forward", sequences(), lambda ctx, case: None)
    ctx = ctx_for(ASSIGNMENT, "one")
    failure, flaky, ours = searched(check, Calls(fails_first_time_at_large_sizes), ctx, 30)
    alone, alone_flaky, theirs = hypothesis_alone(check, Calls(fails_first_time_at_large_sizes), ctx, 30)
    assert flaky and alone_flaky
    assert failure.case == alone and ours == theirs


def aborts_at_the_fifth_case(case, calls):
    if len(calls) == 5:
        raise Aborted("the call timed out", kind="timeout")


def test_an_aborted_call_stops_the_search_at_once_with_its_case():
    check = Check("forward: aborts", "forward", sequences(), lambda ctx, case: None)
    prop = Calls(aborts_at_the_fifth_case)
    with pytest.raises(Aborted) as stopped:
        searched(check, prop, ctx_for(ASSIGNMENT, "one"), 30)
    assert len(prop.seen) == 5 and stopped.value.case == prop.seen[-1]


def test_a_property_that_rejects_every_case_is_unsatisfiable_as_under_hypothesis():
    check = Check("forward: rejects everything", "forward", sequences(), lambda ctx, case: None)
    with pytest.raises(Unsatisfiable):
        searched(check, Calls(lambda case, calls: assume(False)), ctx_for(ASSIGNMENT, "one"), 10)


def kept(tmp_path, salt):
    """A context whose oracle keeps its answers, and the checks' passing runs, in a cache folder."""
    return Ctx(None, ASSIGNMENT, LiveOracle(ASSIGNMENT, tmp_path), None, salt)


def test_a_later_search_runs_the_kept_cases_without_drawing_them_and_another_salt_draws_its_own(tmp_path,
                                                                                                 monkeypatch):
    check = Check("forward: searched twice", "forward", sequences(), Calls(rejecting))
    assert _search(check, kept(tmp_path, "one"), 30, frozenset(), []) == (None, False)
    first = list(check.prop.seen)
    assert list((tmp_path / "answers").glob("*/*.npz"))

    engine = core.ConjectureRunner
    monkeypatch.setattr(core, "ConjectureRunner", lambda *a, **k: pytest.fail("the kept cases were drawn again"))
    check.prop.seen.clear()
    assert _search(check, kept(tmp_path, "one"), 30, frozenset(), []) == (None, False)
    assert check.prop.seen == first

    monkeypatch.setattr(core, "ConjectureRunner", engine)
    check.prop.seen.clear()
    assert _search(check, kept(tmp_path, "two"), 30, frozenset(), []) == (None, False)
    assert check.prop.seen == hypothesis_alone(check, Calls(rejecting), kept(tmp_path, "two"), 30)[2] != first


@pytest.mark.parametrize("then", [fails_at_large_sizes, lambda case, calls: assume(mark(case) % 3 != 0)],
                         ids=["a case fails", "other cases are rejected"])
def test_when_a_kept_case_ends_otherwise_the_search_goes_on_as_hypothesis_alone_would(then, tmp_path):
    verdicts = [rejecting]
    prop = Calls(lambda case, calls: verdicts[-1](case, calls))
    check = Check("forward: changes its mind", "forward", sequences(), prop)
    _search(check, kept(tmp_path, "two"), 30, frozenset(), [])
    verdicts.append(then)
    prop.seen.clear()
    failure, flaky, ours = searched(check, prop, kept(tmp_path, "two"), 30)
    alone, alone_flaky, theirs = hypothesis_alone(check, Calls(then), kept(tmp_path, "two"), 30)
    assert (failure and failure.case, flaky) == (alone, alone_flaky)
    assert ours == theirs


class RenamedInternals(core.ConjectureRunner):
    """Hypothesis's engine as another version may have it: no ``valid_examples`` after a run."""

    def run(self):
        super().run()
        del self.valid_examples


def test_an_engine_whose_internals_differ_leaves_the_search_to_hypothesis_with_the_same_calls(monkeypatch):
    monkeypatch.setattr(core, "ConjectureRunner", RenamedInternals)
    check = Check("forward: another engine", "forward", sequences(), lambda ctx, case: None)
    ctx = ctx_for(ASSIGNMENT, "one")
    for verdict in (rejecting, fails_at_large_sizes):
        failure, flaky, ours = searched(check, Calls(verdict), ctx, 30)
        alone, alone_flaky, theirs = hypothesis_alone(check, Calls(verdict), ctx, 30)
        assert (failure and failure.case, flaky) == (alone, alone_flaky) and ours == theirs
