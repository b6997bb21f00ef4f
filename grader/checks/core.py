"""How a check runs: Hypothesis draws the cases, the sandbox runs the submission, a failure becomes feedback.

A check is a property over cases from one strategy. Hypothesis runs it without an example database and
without deadlines or health checks (both depend on timing), seeded from a salt and the check's name, so
the same submission gets the same cases, the same smallest failing case and the same words every run,
whatever ran before. The salt and the check's name also go into every numpy seed of a case (its fields
named ``seed`` or ``*_seed``), so no two checks share a case. The full grader's salt is the course's
secret, the student kit's a public one (grader.secret): the cases the kit recorded answers for are not
the cases that are graded, down to the simplest case Hypothesis always tries first.

Most checks pass, and a passing search needs none of Hypothesis's shrinking: the drawn cases run without
Hypothesis's wrapping of each case, and a passing run's cases are kept beside the oracle's answers in the
cache folder, so every later search of the check under the salt runs them without drawing them again. The first case that fails hands the search over to Hypothesis, which draws the same
cases again, is given back each outcome so far instead of calling the sandbox again, and shrinks: the same
calls, the same smallest case and the same words as a search Hypothesis ran from the start (_search).

Two ways a case can go wrong:

* ``Failed`` (an AssertionError): the submission answered, and the answer breaks the contract. Hypothesis
  shrinks towards the smallest such case, which is what the student reads.
* ``Aborted`` (a BaseException, which Hypothesis re-raises at once instead of shrinking): the sandbox
  could not finish the call (timeout, crash, memory, budget). Shrinking would repeat the expensive
  failure dozens of times, so the check stops and reports the case that triggered it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import platform
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from random import Random
from typing import TYPE_CHECKING, Any

import hypothesis
import numpy as np
from hypothesis import (
    HealthCheck,
    Phase,
    Verbosity,
    example,
    given,
    reject,
    seed,
    settings,
)
from hypothesis._settings import local_settings
from hypothesis.control import BuildContext
from hypothesis.errors import HypothesisException, UnsatisfiedAssumption
from hypothesis.internal.conjecture import providers
from hypothesis.internal.conjecture.data import ConjectureData
from hypothesis.internal.conjecture.engine import ConjectureRunner
from hypothesis.strategies import SearchStrategy

from grader.answers import Answers
from grader.answers import context as code_context
from grader.checks.compare import Mismatch, formula, mismatch
from grader.checks.outcome import WHOLE, Outcome
from grader.contract import (
    Contract,
    ContractViolation,
    Conventions,
    conform,
    conform_params,
)
from grader.mistakes import cause_of, joined
from grader.oracle import LiveOracle, NotRecorded, Oracle, case_scope
from grader.results import NOT_WRITTEN
from grader.sandbox import Call, CallFailed, Reply, RngSeed, Sandbox, Trace, TraceSpec
from grader.sandbox.judged import each_judged

if TYPE_CHECKING:  # only for the annotations: importing them here would make an import cycle
    from grader.assignment import Assignment
    from grader.scoring import CheckSpec

# A student's exception or a malformed reply is cheap and deterministic, so shrinking it is worth it.
SHRINKABLE_FAILURES = frozenset({"exception", "malformed"})


class Failed(AssertionError):
    """The submission answered a case, and the answer breaks the contract.

    ``parts`` names the parts of the check this case fails (empty: all of them). ``hint`` may be a
    callable, evaluated once for the final (smallest) case only, since it may need more sandbox calls.
    ``carried_from`` names another of the student's functions when the answer is exactly what the contract
    gives composed with that function's wrong output (error carried forward): under grading.yaml's
    ``carried_errors: forgive`` (the default) such a case passes, and the check's feedback says which
    function to fix; under ``penalize`` it fails like any other.
    """

    def __init__(self, reason: str, details: str = "", hint: str | Callable[[], str] = "", parts=(),
                 carried_from: str = ""):
        super().__init__(reason)
        # A clause, which the report ends or goes on with: the sandbox's failure messages come as sentences.
        self.reason = reason[:-1] if reason.endswith(".") and not reason.endswith("..") else reason
        self.details = details
        self.hint = hint
        self.parts = frozenset(parts)
        self.carried_from = carried_from  # another function, whose fault alone this difference is
        self.case: Any = None
        self.trace: Trace | None = None  # a traced call's record up to this failure (Ctx.call_traced)


class Malformed(Failed):
    """The answer breaks the contract's form (a kind, a shape, a range): the reason names the fault and is its
    own evidence, so no mistake need reproduce it."""


class Raised(Failed):
    """The submission's function raised an exception on the case (rather than answering it wrongly)."""

    def raised_inside(self, function: str) -> bool:
        """Whether the student traceback shows the exception passing through ``function`` below the
        function that was called: the first frame is the called function's own, so a crash of its own
        code (or an alias of another function) is never put down to ``function``."""
        frames = re.findall(r'^ *File "[^"]*", line \d+, in (\S+)$', self.details, re.MULTILINE)
        return function in frames[1:]


class Aborted(BaseException):
    """The sandbox could not complete a call; the check stops at once."""

    def __init__(self, message: str, detail: str = "", kind: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.kind = kind  # the sandbox's FailureKind value: timeout, signal, memory, exited, budget, ...
        self.case: Any = None


@dataclass(frozen=True)
class Check:
    name: str
    function: str  # the contract function under test
    cases: SearchStrategy
    prop: Callable[[Ctx, Any], None]
    parts: tuple[str, ...] = ()  # names of independently scored parts, if any
    settings: tuple[str, ...] = ()  # numbers this check reads from grading.yaml (threshold, ...)
    applies: Callable[[Conventions], bool] | None = None  # None: under every course's conventions
    # Cases tried after the drawn ones find nothing: each built so that a known mistake certainly shows, so
    # that whether it loses points does not depend on the draw. Their seeds are salted like every case's.
    triggers: tuple = ()
    # Asks the oracle, aside, what the check's diagnoses and hints may ask about a case whatever the answer (the
    # known mistakes' outputs on it): the kit builder runs it on every case it records (grader.oracle).
    probes: Callable[[Ctx, Any], None] | None = None

    @property
    def doc(self) -> str:
        return " ".join((self.prop.__doc__ or "").split())


def check(name: str, cases: SearchStrategy, *, parts: tuple[str, ...] = (), settings: tuple[str, ...] = (),
          applies: Callable[[Conventions], bool] | None = None, triggers: tuple = (),
          probes: Callable[[Ctx, Any], None] | None = None):
    """Make the decorated property the check ``name`` ("function: behaviour"); the name then holds the Check.

    ``triggers`` are cases run whenever the drawn ones find no failure (see Check.triggers); ``probes`` see
    Check.probes.

    Nothing is registered: a check module's checks are the Check objects it defines, and the suite is
    the explicit tuple of check modules in grader.checks.suite.
    """

    def make(prop) -> Check:
        return Check(name, name.split(":", 1)[0], cases, prop, parts, settings, applies, triggers, probes)

    return make


def ask(known: Iterable[tuple[str, Callable[[], Any]]]) -> None:
    """Build every known mistake's output (a probe, see Check.probes); a mistake that cannot run on the case
    (ValueError) is an answer too."""
    for _, build in known:
        try:
            build()
        except ValueError:
            pass


FORGIVE = "forgive"  # grading.yaml's carried_errors default (grader.scoring.CARRIED_ERRORS)
# float32 carries about 7 significant digits; sums over a few dozen terms lose one or two more.
FLOAT32_SCALE = 1e-2  # with float32 values, an entry is compared relative to at least this share of the largest
FLOAT32_THRESHOLD = 1e-4
# What the student kit says where the hint needs the reference's variants, which it does not hold.
KIT_CANNOT_TELL = ("the student kit cannot try the mistakes the grader knows for this check (that needs the reference, "
                   "which it does not hold); the full grader names the likely cause.")
# What a comparison's hint says when none of the known mistakes reproduces the answer: no guess as a fact.
UNKNOWN_CAUSE = ("cause unknown: none of the mistakes the grader knows for this check reproduces your answer; "
                 "the smallest failing case above shows what differs.")


class Ctx:
    """What a property sees: the sandbox, the assignment, the oracle, its own entry in grading.yaml and the
    salt its cases are drawn under (by default the assignment's, see Assignment.case_salt).

    ``float32`` lists the return values of the current case that came back as float32; comparisons then
    allow float32 rounding (FLOAT32_THRESHOLD), since one check names float32 and no other should fail
    for its noise.
    """

    def __init__(self, box: Sandbox, assignment: Assignment, oracle: Oracle, spec: CheckSpec, salt: str | None = None):
        self.box = box
        self.assignment = assignment
        self.oracle = oracle
        self.spec = spec  # this check's entry in grading.yaml
        self.salt = assignment.case_salt if salt is None else salt
        self.float32: list[str] = []

    @property
    def carried_errors(self) -> str:
        """grading.yaml's choice for a difference that is another function's fault alone: forgive or penalize."""
        return self.assignment.grading.carried_errors

    @property
    def contract(self) -> Contract:
        return self.assignment.contract

    @property
    def conventions(self) -> Conventions:
        return self.assignment.contract.conventions

    @property
    def reference(self):
        """The reference bound to the assignment's conventions: ``ctx.reference.forward(...)``."""
        return self.oracle.reference

    @property
    def variants(self):
        """The reference with one classic mistake switched on (grader.checks.variants), for hints."""
        return self.oracle.variants

    @property
    def floor(self) -> float:
        return self.assignment.grading.floor

    def setting(self, key: str) -> float:
        return self.spec.settings[key]

    @property
    def threshold(self) -> float:
        threshold = self.spec.settings["threshold"]
        return max(threshold, FLOAT32_THRESHOLD) if self.float32 else threshold

    def call(self, function: str, *args, dims: dict[str, int], describe: str, uses: tuple[str, ...] | None = None,
             repair: Callable[[Any], Any] | None = None):
        """Call ``function`` in the sandbox; return its return values, conformed to the contract.

        ``uses`` names the return values the check reads; the others come back as None, unchecked.
        ``repair`` may undo, before conforming, a known deviation that another check counts (x0 included).
        """
        return self._exchange(function, args, (), dims, describe, uses, repair)[0]

    def call_keeping(self, function: str, *args, keep: tuple[int, ...], dims: dict[str, int], describe: str,
                     uses: tuple[str, ...] | None = None, repair: Callable[[Any], Any] | None = None):
        """Like ``call``, plus the params-dict arguments at positions ``keep`` as the call left them (for an
        RngSeed argument: the generator's next draw, rng.integers(2**53), after the call)."""
        return self._exchange(function, args, keep, dims, describe, uses, repair)[:2]

    def call_traced(self, function: str, *args, trace: Mapping[str, TraceSpec], dims: dict[str, int], describe: str,
                    uses: tuple[str, ...] | None = None) -> tuple[Any, Trace | None]:
        """Like ``call``, plus what the call's own calls to the functions in ``trace`` were (the submission's
        claim: grader.sandbox.trace). A Failed it raises carries the trace up to the failure as ``.trace``."""
        values, _, recorded = self._exchange(function, args, (), dims, describe, uses, None, trace)
        return values, recorded

    def call_each(self, function: str, arguments: Sequence[tuple], *, dims: dict[str, int], describe: Sequence[str],
                  uses: tuple[str, ...] | None = None, after: Callable[[int, Any], None] | None = None) -> list:
        """``call(function, *args, dims=dims, describe=describe[i], uses=uses)`` for each ``args`` of ``arguments``,
        in order, then ``after(i, values)`` (the caller's own work on them, which must not raise: it sees this
        Ctx as a loop of calls would, e.g. ``float32`` as it was after that call): their return values, or what
        the first call that fails raises. The worker makes the calls that loop makes, no more, in few exchanges
        (grader.sandbox.judged.each_judged: conform judges a value by its kinds, shapes and finiteness, unless
        ``uses`` names the contract's indices, whose range it checks: those go one by one)."""
        kinds = {r.name: r.kind for r in self.contract.functions[function].returns}
        judged: list = []

        def judge(args: tuple, text: str, reply: Reply | None = None):
            values = (self.call(function, *args, dims=dims, describe=text, uses=uses) if reply is None
                      else self._judged(reply, function, args, (), dims, uses, None)[0])
            judged.append(values)
            if after is not None:
                after(len(judged) - 1, values)

        if any(kinds[name] == "indices" for name in (uses or kinds)):
            for args, text in zip(arguments, describe, strict=True):
                judge(args, text)
            return judged
        calls = [Call(function, args, describe=text) for args, text in zip(arguments, describe, strict=True)]
        _, failure = each_judged(self.box, calls, lambda reply: judge(calls[len(judged)].args, "", reply),
                                 batch=len(calls))
        if isinstance(failure, CallFailed):
            raise _failed(failure) from None
        if failure is not None:
            raise failure
        return judged

    def _exchange(self, function, args, keep, dims, describe, uses, repair, trace=None):
        try:
            reply = self.box.call(function, *args, return_args=keep, describe=describe,
                                  **({} if trace is None else {"trace": trace}))
        except CallFailed as exc:
            raise _failed(exc) from None
        return self._judged(reply, function, args, keep, dims, uses, repair)

    def _judged(self, reply: Reply, function, args, keep, dims, uses, repair):
        """A reply's return values conformed to the contract, the arguments at ``keep`` as the call left them and
        its trace; Failed when it breaks the contract."""
        names = [a.name for a in self.contract.functions[function].args]
        try:
            value = reply.value if repair is None else repair(reply.value)
            values = conform(self.contract, function, value, dims, uses, float32=self.float32)
            after = tuple(
                reply.args_after[i] if isinstance(args[i], RngSeed) else
                conform_params(self.contract, reply.args_after[i], dims, f"after the call, {function} left {names[i]}")
                for i in keep
            )
        except ContractViolation as exc:
            raise _traced(Malformed(str(exc)), reply.trace) from None
        return values, after, reply.trace

    def mismatch(self, label: str, got, expected) -> Mismatch | None:
        """With float32 values in the case, entries far below an array's largest are judged against the
        rounding of the largest ones (a sum of float32 terms is off by their scale times float32's epsilon)."""
        floor = self.floor
        if self.float32:
            scale = max(float(np.max(np.abs(got), initial=0.0)), float(np.max(np.abs(expected), initial=0.0)))
            floor = max(floor, FLOAT32_SCALE * scale)
        return mismatch(label, got, expected, self.threshold, floor)

    def expect_close(self, label: str, got, expected, *, reason: str, hint: str | Callable[[], str] = "", parts=()):
        """Fail with ``reason`` unless ``got`` is within the check's threshold of ``expected``."""
        found = self.mismatch(label, got, expected)
        if found is not None:
            raise Failed(f"{reason} (relative error {found.error:.1e})", found.text, hint, parts)


def run_check(check: Check, ctx: Ctx, examples: int) -> Outcome:
    """Run one check to completion; never raises for anything the submission does.

    Hypothesis stops at the first failing case, so a check with parts searches again, ignoring the parts
    already failed, until it passes or every part has failed: a part scores only if no case fails it.
    """
    start = time.perf_counter()
    failed: set[str] = set()
    reasons: list[str] = []
    reports: list[str] = []
    hints: list[str] = []
    forgiven: list[Failed] = []
    while WHOLE not in failed and not (check.parts and failed >= set(check.parts)):
        try:
            final, flaky = _search(check, ctx, examples, frozenset(failed), forgiven)
        except Aborted as abort:
            lines = [abort.message, f"Case: {abort.case.describe()}"] + ([abort.detail] if abort.detail else [])
            reason = f"{_one_line(abort.message)} ({abort.case.summary()})"
            return Outcome(frozenset({WHOLE}), reason, "\n".join(reports + lines), "", time.perf_counter() - start,
                           abort.kind)
        if final is None:
            break
        if (unwritten := not_written(final, check.function, ctx.contract.functions)) is not None:
            return Outcome(frozenset({WHOLE}), unwritten, unwritten, "", time.perf_counter() - start)
        failed |= final.parts or set(check.parts) or {WHOLE}
        hint = _resolve_hint(final, check, ctx.oracle) or (
            UNKNOWN_CAUSE if "threshold" in check.settings and not isinstance(final, Malformed) else "")
        reasons.append(f"{final.reason} (smallest failing case: {final.case.summary()})")
        reports.append(_report(final, flaky, hint))
        hints.append(hint)
    if not failed:
        if forgiven:
            first = forgiven[0]
            note = (f"Passed: {first.reason} only because of your {first.carried_from}, which is graded (and "
                    f"loses its points) in its own checks; this function does the right thing with what it gets. "
                    f"Fix {first.carried_from} first.\nCase: {first.case.describe()}")
            if first.details:
                note += f"\n{first.details}"
            return Outcome(frozenset(), feedback=note, hint=_resolve_hint(first, check, ctx.oracle),
                           seconds=time.perf_counter() - start, carried_from=first.carried_from)
        return Outcome(frozenset(), seconds=time.perf_counter() - start)
    if "threshold" in check.settings:
        reports.append(f"Compared by {formula(ctx.floor)}; allowed: {ctx.threshold:g}.")
    return Outcome(frozenset(failed), reasons[0], "\n\n".join(reports), str(joined(hints)),
                   time.perf_counter() - start, cause=cause_of(*hints))


def not_written(failure: Failed, function: str, contract_functions: Collection[str]) -> str | None:
    """The one line for a check whose call raised the template's NotImplementedError, None otherwise (its
    hints, which guess at a wrong computation, would mislead): ``function`` is not written yet, or, when the
    traceback's innermost contract function is another one, ``function`` could not be checked because it
    calls that one."""
    if failure.carried_from or not re.search(rf"\b{re.escape(function)} \(.*\) raised NotImplementedError\b",
                                             failure.reason):
        return None
    frames = re.findall(r'^ *File "[^"]*", line \d+, in (\S+)$', failure.details, re.MULTILINE)
    raising = next((name for name in reversed(frames) if name in contract_functions), function)
    if raising == function:
        return NOT_WRITTEN.format(function)
    return f"{function} could not be checked: it calls {raising}, which is not written yet (it raises NotImplementedError)"


def _search(check: Check, ctx: Ctx, examples: int, ignore: frozenset[str],
            forgiven: list[Failed]) -> tuple[Failed | None, bool]:
    """One Hypothesis search for the smallest case that fails a part not in ``ignore``.

    Returns (that failure or None, whether it failed to repeat when Hypothesis ran it again). Cases that
    differ only by another function's fault go to ``forgiven`` instead, when carried errors are forgiven.

    The drawn cases run first without Hypothesis's per-case machinery (_passes_drawn), which is most of its
    cost when every case passes; the first case that fails hands the search over to Hypothesis, which
    draws the same cases again, is given back each outcome so far instead of calling the sandbox again,
    and shrinks from there: the same calls, the same smallest case and the same words as a search that
    Hypothesis ran from the start.
    """

    def test(case):
        ctx.float32.clear()
        try:
            with ctx.oracle.scope(case_scope(check.name, case)):
                check.prop(ctx, case)
                if check.probes is not None and ctx.oracle.asks_probes:
                    with ctx.oracle.aside():
                        check.probes(ctx, case)
        except NotRecorded:
            reject()  # the student kit has no expected values for this case: not a case for it
        except Failed as failure:
            if failure.parts and failure.parts <= ignore:
                return
            failure.case = case
            if failure.carried_from and ctx.carried_errors == FORGIVE:
                if not forgiven:
                    forgiven.append(failure)
                return
            raise
        except Aborted as abort:
            abort.case = case
            raise
        except HypothesisException:  # assume() and friends: Hypothesis's own control flow
            raise
        except Exception as exc:  # noqa: BLE001 - a value no check foresaw must not stop the grading
            unforeseen = Failed(f"the grader could not check this case ({type(exc).__name__}: {exc}); "
                                "if your code looks right, show this message to the course staff")
            unforeseen.case = case
            raise unforeseen from None

    tried = _Tried(test)
    with _suite_constants_only():
        passed = _passes_drawn(check, ctx.salt, tried, examples,
                               ctx.oracle.answers if isinstance(ctx.oracle, LiveOracle) else None)
    searches = [] if passed else [_hypothesis(check, ctx, tried.replay, examples,
                                              (Phase.explicit, Phase.generate, Phase.shrink))]
    if check.triggers:  # after the draws: a drawn failure shrinks to a smaller case than a trigger
        searches.append(_hypothesis(check, ctx, test, 1, (Phase.explicit,), check.triggers))
    for search in searches:
        try:
            with _suite_constants_only():
                search()
        except Failed as failure:
            return failure, False
        except BaseExceptionGroup as group:  # Hypothesis's FlakyFailure: the failure did not repeat on rerun
            first = _first_failed(group)
            if first is None:
                raise
            return first, True
    return None, False


class _Tried:
    """``test`` with a record of each case it ran and how it ended, in order; ``replay`` gives those
    outcomes back, in the same order, to the Hypothesis search that takes over after a failure."""

    def __init__(self, test: Callable[[Any], None]):
        self.test = test
        self.outcomes: deque[tuple[Any, BaseException | None]] = deque()

    def __call__(self, case: Any) -> None:
        try:
            self.test(case)
        except Exception as exc:  # a failure or a rejection; an Aborted stops the check at once
            self.outcomes.append((case, exc))
            raise
        self.outcomes.append((case, None))

    def replay(self, case: Any) -> None:
        """The recorded outcome while Hypothesis asks for the recorded cases in order, then ``test``'s."""
        if self.outcomes and self.outcomes[0][0] == case:
            error = self.outcomes.popleft()[1]
            if error is not None:
                raise error
            return
        self.outcomes.clear()
        self.test(case)


def _passes_drawn(check: Check, salt: str, tried: _Tried, examples: int, store: Answers | None = None) -> bool:
    """Whether ``tried`` passes on the cases ``_hypothesis`` draws, run in its order without the wrapping of
    each case that makes Hypothesis's ``given`` cost more than the draws themselves (_draws_passing).

    With ``store`` (the oracle's answers in the cache folder), a passing run is kept there, its cases and
    which of them were rejected, in order, keyed by the code that draws the cases, the salt, the check and
    ``examples``: every later search of the check under the salt (the hidden phase's opening check, the
    class's other submissions, later runs) runs those cases without drawing them (_passes_again).
    """
    if store is None:
        return _draws_passing(check, salt, tried, examples)
    drawn = False

    def draw() -> list:
        nonlocal drawn
        if not _draws_passing(check, salt, tried, examples):
            raise _NotKept
        drawn = True
        return [[_plain_case(case), error is not None] for case, error in tried.outcomes]

    try:
        plain = store.answer(KEPT_RUN, (_drawing_code(check.prop.__module__), salt, check.name, examples), {}, draw)
        known = () if drawn else tuple((_case_of(case), bool(rejected)) for case, rejected in plain)
    except _NotKept:
        return False
    except (KeyError, ValueError, TypeError, AttributeError):  # a kept run this code cannot read: draw anew
        return _draws_passing(check, salt, tried, examples)
    return drawn or _passes_again(known, tried)


def _draws_passing(check: Check, salt: str, tried: _Tried, examples: int) -> bool:
    """Whether ``tried`` passes on the cases ``_hypothesis`` draws: Hypothesis's engine, seeded alike, picks
    the cases, a case the test rejects (assume) counts as invalid as there, and the first exception the
    test raises ends the run (False, unshrunk), as does a run with no valid case (False: ``given`` says why).

    This drives Hypothesis's internal engine directly, as ``given`` does; tests/checks/test_search.py holds
    it to drawing exactly ``given``'s cases for every check of the suite.
    """
    cases = _cases(check, salt)

    def run(data: ConjectureData) -> None:
        try:
            with BuildContext(data, wrapped_test=run) as context:
                tried(context.prep_args_kwargs_from_strategies({"case": cases})[0]["case"])
        except UnsatisfiedAssumption as rejected:
            data.mark_invalid(rejected.reason)

    chosen = _settings(examples, (Phase.explicit, Phase.generate, Phase.shrink))
    runner = ConjectureRunner(run, settings=chosen, random=Random(_seed(salt, check)))
    try:
        with local_settings(chosen):
            runner.run()
        return runner.valid_examples > 0
    except Exception:  # noqa: BLE001 - a case failed, or the grader did (another Hypothesis's engine, whose
        return False  # internals differ): Hypothesis's given takes over from here, as it ran every search before


class _NotKept(Exception):
    """The drawn cases did not all pass: there is no run to keep."""


KEPT_RUN = "checks.drawn_cases"  # the kept runs' name among the oracle's answers (grader.answers)


@functools.cache
def _drawing_code(module: str) -> str:
    """Digest of what draws a check's cases: this module, the check's (``module``) and the grader modules they
    use (the strategies), Hypothesis's and Python's versions."""
    versions = {"hypothesis": hypothesis.__version__, "python": platform.python_version()}
    return code_context(versions, (sys.modules[__name__], sys.modules[module]))


def _plain_case(case: Any) -> Any:
    """A case as plain data for the store: a dataclass as its class's name and its fields."""
    if not dataclasses.is_dataclass(case) or isinstance(case, type):
        return case
    return {"type": f"{type(case).__module__}:{type(case).__qualname__}",
            "fields": {f.name: _plain_case(getattr(case, f.name)) for f in dataclasses.fields(case) if f.init}}


def _case_of(plain: Any) -> Any:
    """The case ``_plain_case`` made ``plain`` of; its class must be a dataclass of a loaded grader.checks module."""
    if not isinstance(plain, dict):
        return plain
    module, name = plain["type"].split(":")
    kind = getattr(sys.modules[module], name) if module.startswith("grader.checks.") else None
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        raise ValueError(f"a kept case of type {plain['type']!r}")
    return kind(**{k: _case_of(v) for k, v in plain["fields"].items()})


def _passes_again(known: tuple[tuple[Any, bool], ...], tried: _Tried) -> bool:
    """Whether ``tried`` ends every case of a kept run as that run did, passed or rejected: then Hypothesis's
    engine would draw those very cases again (what it draws next depends only on how each case ended)."""
    for case, rejected in known:
        try:
            with BuildContext(ConjectureData.for_choices([]), wrapped_test=tried):
                tried(case)
        except UnsatisfiedAssumption:
            if not rejected:
                return False
        except Exception:  # noqa: BLE001 - a case failed (or the grader did): Hypothesis takes over from here
            return False
        else:
            if rejected:
                return False
    return True


def _hypothesis(check: Check, ctx: Ctx, test, examples: int, phases, explicit=()):
    """``test`` as a Hypothesis test over the check's cases, seeded from the salt and the check's name; the
    ``explicit`` cases run first. Every case's seeds are salted."""
    salt = f"{ctx.salt}|{check.name}"
    runner = given(_cases(check, ctx.salt))(test)
    for case in reversed(explicit):  # decorators apply inside out: keep the given order
        runner = example(salted(case, salt))(runner)
    runner = _settings(examples, phases)(runner)
    return seed(_seed(ctx.salt, check))(runner)


def _cases(check: Check, salt: str) -> SearchStrategy:
    """The check's cases with their seeds salted with ``salt`` and the check's name."""
    salt = f"{salt}|{check.name}"
    return check.cases.map(lambda case: salted(case, salt))


def _seed(salt: str, check: Check) -> int:
    return _digest(salt, "hypothesis", check.name, size=16)


def _settings(examples: int, phases) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,  # the seed takes precedence
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=phases,
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def salted(case: Any, salt: str) -> Any:
    """``case`` with each numpy seed in it (nested cases included) mixed with ``salt``."""
    if not dataclasses.is_dataclass(case) or isinstance(case, type):
        return case
    changes = {}
    for f in dataclasses.fields(case):
        value = getattr(case, f.name)
        if f.name == "seed" or f.name.endswith("_seed"):
            changes[f.name] = _digest(salt, f.name, value, size=4)
        elif dataclasses.is_dataclass(value):
            changes[f.name] = salted(value, salt)
    return dataclasses.replace(case, **changes) if changes else case


def _digest(*parts: Any, size: int) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(map(str, parts)).encode()).digest()[:size], "little")


@contextmanager
def _suite_constants_only():
    """Keep Hypothesis from mixing constants found in whatever local modules are imported into its draws.

    Hypothesis occasionally draws a literal from the source of every loaded non-library module (and caches
    them under .hypothesis/constants). Which modules are loaded differs between the CLI, the tests and a
    batch run, so the cases, and with them scores and messages, would depend on how the grader was
    started. Hypothesis has no setting for this; its provider looks the pool up through this private
    function. Versions without it have no local constants to keep out; should a later version rename it,
    tests/checks/test_determinism.py fails.
    """
    if not hasattr(providers, "_get_local_constants"):
        yield
        return
    original = providers._get_local_constants
    providers._get_local_constants = providers.Constants
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE.cache.clear()


def _report(failure: Failed, flaky: bool, hint: str) -> str:
    lines = [f"{failure.reason}.", f"Smallest failing case: {failure.case.describe()}"]
    if failure.details:
        lines.append(failure.details)
    if failure.carried_from:
        lines.append(f"The difference comes from your {failure.carried_from}; this course's grading.yaml counts "
                     "such carried errors again (carried_errors: penalize).")
    if flaky:
        lines.append(
            "Running this case again gave a different result: the function depends on something besides "
            "its arguments (global random state, or state kept between calls)."
        )
    if hint:
        lines.append(f"Hint: {hint}")
    return "\n".join(lines)


def _resolve_hint(failure: Failed, check: Check, oracle: Oracle) -> str:
    """The failure's hint for its case, asked aside in the case's scope (where the kit recorded the probes)."""
    hint = failure.hint
    if not callable(hint):
        return hint
    try:
        with oracle.scope(case_scope(check.name, failure.case)), oracle.aside():
            return hint()
    except (Failed, Aborted):  # a probe that itself fails tells us nothing more
        return ""
    except NotRecorded:  # the student kit cannot compute this hint
        return KIT_CANNOT_TELL


def _first_failed(group: BaseExceptionGroup) -> Failed | None:
    for exc in group.exceptions:
        found = _first_failed(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, Failed) and found.case is not None:
            return found
    return None


def _failed(exc: CallFailed) -> Failed | Aborted:
    """What a call the sandbox could not complete raises in a property: Failed (Raised for an exception) when
    the submission's own code failed, cheap and deterministic to shrink; Aborted otherwise."""
    failure = exc.failure
    kind = getattr(failure.kind, "value", failure.kind)
    if kind in SHRINKABLE_FAILURES:
        return _traced((Raised if kind == "exception" else Failed)(_one_line(failure.message), failure.detail),
                       exc.trace)
    return Aborted(failure.message, failure.detail, kind)


def _traced(failure: Failed, trace: Trace | None) -> Failed:
    failure.trace = trace
    return failure


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
