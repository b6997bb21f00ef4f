"""Checks of train(text, params, n_updates, eta=<conventions>, seq_length=<conventions>) -> (params, smooth_loss).

Error carried forward: train is judged against the contract's loop run by the grader with the student's
OWN compute_gradients, clip_gradients and optimizer step (grader.driven). A run that matches the reference
passes; one that differs from it but matches the loop with the student's functions is those functions'
fault (forgiven here, counted in their checks); one that matches neither is train's own fault, and the
differential diagnosis names the departure from the contract's loop it reproduces, or says it is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from grader.checks import train_trace
from grader.checks.compare import mismatch
from grader.checks.core import Aborted, Failed, Raised, ask, check
from grader.checks.forward import other_reduction
from grader.checks.strategies import Fixed, Text, clipped_run, copy_params, flat, texts
from grader.checks.train_trace import Finding
from grader.contract import OPTIMIZERS, LossReduction
from grader.driven import DrivenLoop, Rules, SandboxFunctions, Update
from grader.mistakes import named
from grader.oracle import NotRecorded

FUNCTION_THRESHOLD = 1e-6  # a function's answer in the loop against the reference's, where a check sets none
UNKNOWN = ("cause unknown: the run is neither the contract's loop with your compute_gradients, clip_gradients and "
           "adagrad_step, nor any departure from it the grader knows; the smallest differing case is above.")
UNWATCHED = ("your train does not call your compute_gradients, so the grader could not watch its loop update by "
             "update")
UNVERIFIED = ("this run differs from the contract's loop, and the grader can tell neither why nor whether {fact}: no "
              "departure it knows reproduces the run{unwatched}.")


@dataclass(frozen=True)
class Cause:
    """A known departure from the contract's loop: what it is, which check owns it, and how to run it."""

    id: str  # the mistake (grader.mistakes)
    text: str
    owner: str  # "clipping", "carried", "reset" or "" (only the main check counts it)
    switches: dict
    eta: float | None = None  # a fixed step size instead of the eta argument

    @property
    def hint(self) -> str:
        return named(self.id, self.text)


def _other_years(ctx) -> list[Cause]:
    """The other years' conventions a submission may have been written for (loss reduction, optimizer)."""
    conventions = ctx.conventions
    this = type(conventions.optimizer)
    other_optimizer = next(name for name, kind in OPTIMIZERS.items() if kind is not this)
    other_loss = other_reduction(conventions)
    words = {"sum": "sums the loss over the sequence", "mean": "takes the mean of the loss over the sequence"}
    this_loss = "sum" if conventions.loss is LossReduction.SUM else "mean"
    found = []
    for loss, optimizer in ((other_loss, None), (None, other_optimizer), (other_loss, other_optimizer)):
        yours = [words[loss]] if loss else []
        ours = [words[this_loss]] if loss else []
        if optimizer:
            yours.append(f"updates with {OPTIMIZERS[optimizer].title}")
            ours.append(f"updates with {this.title}")
        cause = "train.other_year" if loss and optimizer else "train.other_year_loss" if loss else "train.other_year_optimizer"
        found.append(Cause(cause, f"your train {' and '.join(yours)}, as another year's version of the assignment did; "
                           f"this assignment {' and '.join(ours)}.", "", {"loss": loss, "optimizer": optimizer}))
    return found


def _causes(ctx) -> list[Cause]:
    conventions = ctx.conventions
    step, eps = conventions.optimizer.function, conventions.optimizer.eps
    causes = [
        *_other_years(ctx),
        Cause("train.not_clipped", f"the gradients are not clipped: train passes clip_gradients(grads) (bound {conventions.clip_bound:g}) "
              f"to {step}.", "clipping", {"clip": False}),
        Cause("train.hprev_not_carried", "hprev is not carried between updates: each update must start from the previous update's h_last.",
              "carried", {"carry": False}),
        Cause("train.hprev_not_reset", "hprev is not reset when the position wraps to 0: set hprev back to zeros there.", "reset",
              {"reset": False}),
        Cause("train.wrap_early", "the position wraps one window too early: wrap when e > len(text) - seq_length - 1 (a window may end on "
              "the last character).", "reset", {"early_wrap": True}),
        Cause("train.smooth_start", "the smooth loss starts at -log(1/K) * seq_length (as in min-char-rnn); the contract starts it at the "
              "first update's loss.", "", {"uniform_start": True}),
        Cause("train.smooth_decay", f"the smooth loss uses the factor 0.99 (smooth = 0.99 * smooth + 0.01 * loss); the contract's is "
              f"{conventions.smooth_decay:g}.", "", {"smooth_decay": 0.99}),
        Cause("train.loss_after_update", f"the loss in the smooth loss is taken after the update (a second forward pass); the contract uses the "
              f"loss compute_gradients returns, before the {step}.", "", {"loss_after_update": True}),
        Cause("train.targets_not_shifted", "Y is the same window as X; the targets are the next characters, text[e+1:e+seq_length+1].", "",
              {"target_offset": 0}),
        *(Cause("train.optimizer_eps", f"the optimizer step in train uses eps = {other:g}; the contract's is {eps:g}.", "", {"eps": other})
          for other in (np.finfo(np.float64).eps, 1e-12, 1e-10, 1e-6, 1e-4) if other != eps),
        Cause("train.eta_ignored", f"the step size is always {conventions.eta:g}: train ignores its eta argument.", "", {},
              eta=conventions.eta),
    ]
    if conventions.optimizer.function == "adagrad_step":
        causes.append(Cause("train.memory_of_unclipped", "AdaGrad's memory accumulates the squares of the gradients before clipping; it takes the "
                            "clipped ones.", "", {"memory_of_unclipped": True}))
        causes.append(Cause("train.memory_float32", "AdaGrad's memory is a float32 array, so m += g**2 rounds every sum to float32; "
                            "make it float64 (np.zeros_like(param)).", "", {"memory_float32": True}))
    return causes


@dataclass
class Verdict:
    """How a submission's run relates to the reference, the loop with its own functions, and known causes."""

    problems: list  # (part, Mismatch) against the reference
    expected: dict  # the reference's run (flat params, smooth loss)
    carried_from: str = ""  # the student's functions explain the whole difference
    cause: Cause | None = None
    diagnosed: bool = True  # False: the known causes could not be tried (the student kit has no reference)
    facts: list[Finding] | None = None  # the loop's facts from a trace of train's calls (None: no trace)
    confirmed: bool = False  # the reference, run as the trace says train ran, gives train's params

    @property
    def broken(self) -> list[Finding]:
        return train_trace.broken(self.facts)


def reference_run(ctx, case: Text):
    """The reference's (params, smooth_loss) for this run."""
    return ctx.reference.train(*case.args)


def _rules(ctx, **switches) -> Rules:
    return Rules.from_conventions(ctx.conventions, **switches)


def _loop(ctx, case: Text) -> train_trace.Loop:
    conventions = ctx.conventions
    return train_trace.Loop(case.text, case.seq_length, case.n_updates, conventions.clip_bound,
                            conventions.smooth_decay, conventions.optimizer.function)


def _train(ctx, case: Text, *uses: str):
    """The submission's train on ``case``, traced: (params, smooth_loss, trace). If it fails where the
    contract's loop with the student's own functions fails too, the failure is carried from the function that
    failed there; a failure the trace explains (a window past the end of the text, an early stop) says so."""
    try:
        (params, smooth), trace = ctx.call_traced("train", *case.args, trace=train_trace.TRACED, dims=case.dims,
                                                  describe=case.summary(), uses=uses or None)
        return params, smooth, trace
    except Failed as failure:
        _carried_crash(ctx, failure, case.text, case.params, case.n_updates, case.eta, case.seq_length)
        loop = _loop(ctx, case)
        found = train_trace.broken(train_trace.facts(failure.trace, loop, returned=not isinstance(failure, Raised)))
        if train_trace.plausible(found, failure.trace, loop.step):
            raise Explained(failure, found, _evidence(ctx, case, found, None)) from None
        if found and not failure.hint:  # said, but it does not explain the failure away
            failure.hint = _named_by(found, " ".join(f.evidence for f in found))
        raise


def _carried_crash(ctx, failure: Failed, text: str, params, n_updates: int, eta: float, seq_length: int) -> None:
    """Raise train's ``failure`` carried from the student's function it was raised in, when the contract's loop
    with the student's own functions, run on the same arguments, fails in that function too."""
    functions = _Watched(ctx)
    try:
        DrivenLoop(functions, text, params, eta=eta, seq_length=seq_length, rules=_rules(ctx)).run(n_updates)
    except (Failed, Aborted):
        if isinstance(failure, Raised) and failure.raised_inside(functions.calling):
            raise Failed(failure.reason, failure.details, f"fix your {functions.calling} first: it fails in "
                         "the contract's loop too.", carried_from=functions.calling) from None


class Explained(Failed):
    """train failed (raised, or returned something the contract does not allow) and its trace shows why:
    ``found``, the facts of the loop seen broken. Only the checks that own those facts count it."""

    def __init__(self, failure: Failed, found: list[Finding], hint):
        super().__init__(failure.reason, failure.details, hint)
        self.found = found


def _side_train(ctx, case: Text, owners: tuple[str, ...], parts: tuple[str, ...] = ()):
    """_train for a check that counts only the facts of ``owners``: a failure the trace puts down to another
    fact of the loop is that fact's check's (None here); one of its own fails the parts of those facts."""
    try:
        return _train(ctx, case, "params")
    except Explained as explained:
        mine = sorted({f.owner for f in explained.found if f.owner in owners})
        if not mine:
            return None
        raise Failed(explained.reason, explained.details, _evidence(ctx, case, explained.found, tuple(mine)),
                     parts=mine if parts else ()) from None


class _Watched(SandboxFunctions):
    """The student's functions, each answer also compared with the reference's on the same input: which of
    them make the loop differ from the reference's. (The student kit has no reference: it names none.)"""

    def __init__(self, ctx):
        super().__init__(self._calling, "the contract's loop with your functions", ctx.conventions.optimizer.function)
        self.ctx = ctx
        self.differ: list[str] = []
        self.calling = ""  # the function called last: the one that failed, if a call fails
        self.clipped_reference: dict | None = None  # the reference's gradients of this update, clipped

    def _calling(self, function, *args, **kwargs):
        self.calling = function
        return self.ctx.call_keeping(function, *args, **kwargs)

    def _note(self, name: str, got, expected):
        threshold = self.ctx.spec.settings.get("threshold", FUNCTION_THRESHOLD)
        if name not in self.differ and mismatch(name, flat(got), flat(expected), threshold, self.ctx.floor) is not None:
            self.differ.append(name)

    def compute_gradients(self, params, X, Y, h):
        grads, loss, h_last = super().compute_gradients(params, X, Y, h)
        self.clipped_reference = None
        try:
            with self.ctx.oracle.aside():
                expected = self.ctx.reference.compute_gradients(params, X, Y, h)[0]
            self._note("compute_gradients", grads, expected)
            self.clipped_reference = _clipped(self.ctx, expected)
        except NotRecorded:
            pass
        return grads, loss, h_last

    def clip_gradients(self, grads, bound):
        clipped = super().clip_gradients(grads, bound)
        self._note("clip_gradients", clipped, {k: np.clip(v, -bound, bound) for k, v in grads.items()})
        return clipped

    def step(self, params, grads, memory, eta, unclipped):
        before_params, before_memory = copy_params(params), copy_params(memory)
        params, memory = super().step(params, grads, memory, eta, unclipped)
        if self.optimizer != "adagrad_step":
            return params, memory  # Adam's state is more than memory: its step is judged by its own checks only
        try:
            expected_params, expected_memory = copy_params(before_params), copy_params(before_memory)
            with self.ctx.oracle.aside():
                try:
                    self.ctx.reference.adagrad_step(expected_params, grads, expected_memory, eta)
                except NotRecorded:  # the student kit: the step on the reference's clipped gradients, if these are
                    known = self.clipped_reference
                    threshold = self.ctx.spec.settings.get("threshold", FUNCTION_THRESHOLD)
                    if known is None or mismatch("", flat(grads), flat(known), threshold, self.ctx.floor) is not None:
                        raise
                    self.ctx.reference.adagrad_step(expected_params, known, expected_memory, eta)
            self._note("adagrad_step", {**params, **{f"m{k}": v for k, v in memory.items()}},
                       {**expected_params, **{f"m{k}": v for k, v in expected_memory.items()}})
        except NotRecorded:
            pass
        return params, memory


def _differences(ctx, got: dict, expected: dict, parts) -> list:
    return [(p, found) for p in parts if (found := ctx.mismatch(p, got[p], expected[p])) is not None]


def _run(params, smooth) -> dict:
    return {"params": flat(params), "smooth_loss": np.asarray(smooth, dtype=np.float64)}


def _replays(ctx, case: Text, trace, params) -> bool:
    """Whether the reference, run on the windows, h0 and clipping the trace says train used, ends at ``params``
    (flat): then the trace is what train did, checked by the grader, not merely what it recorded. The student
    kit has no reference to run it with and takes the trace as it comes: there a submission could only
    deceive its own author's self-check, and the kit must judge honest code as the grader does."""
    steps = train_trace.replay_steps(trace, _loop(ctx, case))
    if not steps or params is None or len(params) == 0:
        return False
    try:
        with ctx.oracle.aside():
            replayed = ctx.variants.replay(case.params, steps, case.eta)
    except NotRecorded:
        return True
    except Exception:  # noqa: BLE001 - windows the reference cannot take: not what train did
        return False
    threshold = ctx.spec.settings.get("threshold", FUNCTION_THRESHOLD)  # "decreases" has none of its own
    return mismatch("params", params, flat(replayed), threshold, ctx.floor) is None


def judge(ctx, case: Text, got: dict, parts=("smooth_loss", "params"), trace=None) -> Verdict:
    """Compare a submission's run (``got``: flat params, smooth loss) with the reference, then with the
    contract's loop with its own functions, then with the known causes and the facts its trace shows;
    ``parts`` are the ones compared."""
    expected = _run(*reference_run(ctx, case))
    problems = _differences(ctx, got, expected, parts)
    if not problems:
        return Verdict([], expected)
    facts = train_trace.facts(trace, _loop(ctx, case), got["smooth_loss"] if "smooth_loss" in parts else None)
    confirmed = facts is not None and _replays(ctx, case, trace, got["params"])
    functions = _Watched(ctx)
    try:
        own = _run(*DrivenLoop(functions, case.text, case.params, eta=case.eta, seq_length=case.seq_length,
                               rules=_rules(ctx)).run(case.n_updates))
    except (Failed, Aborted):
        own = None  # one of the student's functions fails on the loop's inputs: its own checks say why
    if own is not None and not _differences(ctx, got, own, parts):
        return Verdict(problems, expected, carried_from=" and ".join(functions.differ) or
                       f"compute_gradients, clip_gradients or {functions.optimizer}")
    if own is not None and _differences(ctx, own, expected, parts):
        # the student's functions differ too: the reference's variants cannot tell, the trace still can
        return Verdict(problems, expected, diagnosed=False, facts=facts, confirmed=confirmed)
    try:
        with ctx.oracle.aside():
            return Verdict(problems, expected, cause=_diagnose(ctx, case, got, parts), facts=facts, confirmed=confirmed)
    except NotRecorded:
        return Verdict(problems, expected, diagnosed=False, facts=facts, confirmed=confirmed)


def _departures(ctx, case: Text) -> list[tuple[Cause, Callable[[], dict]]]:
    """The known departures from the contract's loop that can differ on ``case``, each with its run."""
    found = []
    for cause in _causes(ctx):
        if cause.eta is not None and cause.eta == case.eta:
            continue
        args = case.args if cause.eta is None else (case.text, case.params, case.n_updates, cause.eta, case.seq_length)
        found.append((cause, _departure_run(ctx, args, cause.switches)))
    return found


def _departure_run(ctx, args: tuple, switches: dict) -> Callable[[], dict]:
    return lambda: _run(*ctx.variants.train(*args, **switches))


def _diagnose(ctx, case: Text, got: dict, parts) -> Cause | None:
    """The first known departure from the contract's loop that reproduces ``got``, or None."""
    for cause, run in _departures(ctx, case):
        try:
            candidate = run()
        except ValueError:  # this departure cannot run on this text
            continue
        if not _differences(ctx, got, candidate, parts):
            return cause
    return None


def _judge_probes(*cases: Callable[[Text], Text]) -> Callable:
    """The probes (Check.probes) of a check that judges train's run on each of ``cases`` (of its case): the
    known departures' runs, which judge tries when the run differs."""

    def probes(ctx, case: Text) -> None:
        for made in cases:
            ask((cause.id, run) for cause, run in _departures(ctx, made(case)))
            _first_update_probe(ctx, *made(case).args)

    return probes


def _first_update_probe(ctx, text: str, params, n_updates: int, eta: float, seq_length: int) -> None:
    """The reference's gradients and AdaGrad step on the first update of the contract's loop, which _Watched
    compares the student's with: the one update whose inputs (the starting params, the first window, zeros,
    and for the step the reference's clipped gradients, which the kit takes where the student's are those)
    are the case's."""
    loop = DrivenLoop(_Watched(ctx), text, params, eta=eta, seq_length=seq_length, rules=_rules(ctx))
    params, X, Y, h = loop.next_inputs()  # the loop is not run: no call reaches the sandbox
    grads = ctx.reference.compute_gradients(params, X, Y, h)[0]
    if ctx.conventions.optimizer.function == "adagrad_step":
        ctx.reference.adagrad_step(copy_params(params), _clipped(ctx, grads), copy_params(loop.memory), eta)


def _clipped(ctx, grads: dict) -> dict:
    bound = ctx.conventions.clip_bound
    return {k: np.clip(v, -bound, bound) for k, v in grads.items()}


def _same(case: Text) -> Text:
    return case


def _reduction_hint(ctx, got: dict, expected, case: Text) -> str:
    """The smooth loss off by exactly the factor seq_length: the other loss reduction."""
    smooth = got["smooth_loss"]
    if case.seq_length < 2:
        return ""
    if ctx.conventions.loss is LossReduction.SUM and np.allclose(smooth * case.seq_length, expected, rtol=1e-6):
        return "the smooth loss is seq_length times too small: the loss is averaged over the window instead of summed."
    if ctx.conventions.loss is LossReduction.MEAN and np.allclose(smooth, expected * case.seq_length, rtol=1e-6):
        return "the smooth loss is seq_length times too large: the loss is summed over the window instead of averaged."
    return ""


PROBE_DRAWS = 16  # draws of a probe run's sizes tried for a text whose windows all differ


def _telling(case: Text) -> Text:
    """``case``, or the first of the next draws of its sizes whose windows (at the contract's positions) all
    differ: where one window's characters come again at another position, which of the two train read is a
    guess, and with it whether it wrapped early or reset hprev early (a draw's coincidence, which the student
    kit's draws and the grader's need not share)."""
    for seed in range(case.seed, case.seed + PROBE_DRAWS):
        candidate = replace(case, seed=seed)
        text, length = candidate.text, candidate.seq_length
        windows = [text[e:e + length] for e in range(0, len(text) - length, length)]
        if len(set(windows)) == len(windows):
            return candidate
    return case


def _probe(ctx, case: Text, keep_extra: bool = False) -> tuple[Text, list[Finding] | None, bool]:
    """A run long enough to show each fact of the loop: (the run, its facts, whether they can be relied on:
    the trace replays to the params train returned, or, for a run that failed, its broken facts explain a
    failure). Three windows or more, the last ending on the last character (unless ``keep_extra``), two
    passes and one more update (a shrunk case may be too short to tell an hprev reset before the wrap from
    one never carried), over a text whose windows all differ."""
    windows = max(case.windows, 3)
    probe = _telling(replace(case, windows=windows, extra=case.extra if keep_extra else 0, n_updates=2 * windows + 1))
    try:
        (params, smooth), trace = ctx.call_traced("train", *probe.args, trace=train_trace.TRACED, dims=probe.dims,
                                                  describe=probe.summary())
    except Failed as failure:
        found = train_trace.facts(failure.trace, _loop(ctx, probe), returned=not isinstance(failure, Raised))
        return probe, found, train_trace.plausible(train_trace.broken(found), failure.trace, _loop(ctx, probe).step)
    return probe, train_trace.facts(trace, _loop(ctx, probe), smooth), _replays(ctx, probe, trace, flat(params))


def _evidence(ctx, case: Text, seen: list[Finding], owners: tuple[str, ...] | None, otherwise: str = ""):
    """A hint (evaluated for the smallest failing case only): the broken facts of ``owners`` as a longer run
    of the same draw shows them, else as the failing case showed them, else ``otherwise``."""
    def hint() -> str:
        probe, facts, _ = _probe(ctx, case)
        found = train_trace.broken(facts, owners)
        if found:
            return _named_by(found, f"Watched on a longer run ({probe.summary()}): " + " ".join(f.evidence for f in found))
        return _named_by(seen, " ".join(f.evidence for f in seen)) or otherwise
    return hint


def _named_by(found: list[Finding], text: str) -> str:
    """``text`` naming the mistake of the first of the broken facts ``found`` that is a known one."""
    cause = next((f.cause for f in found if f.cause), "")
    return named(cause, text) if cause else text


def _fail(ctx, case: Text, verdict: Verdict, reason: str, details: str, owners: tuple[str, ...] = (), parts=(),
          fact: str = ""):
    """Raise what the verdict says: carried, the facts the trace saw broken, a named cause, or unknown.

    With ``owners`` (a side check, which ``fact`` describes), only those facts count: the check fails for one
    seen broken (its part named by the fact's owner), passes when the difference is another fact's or another
    known cause's (the check that owns that counts it) or when the trace saw its own facts hold, and fails as
    unverified when nothing tells why the run differs: it never passes because the cause is unknown.
    """
    if verdict.carried_from:
        raise Failed(reason, details, f"fix your {verdict.carried_from} first; train itself runs the contract's loop.",
                     parts=parts, carried_from=verdict.carried_from)
    if owners:
        mine = train_trace.broken(verdict.facts, owners)
        if mine:
            raise Failed(reason, details, _evidence(ctx, case, mine, owners),
                         parts=sorted({f.owner for f in mine}) if parts else ())
        if verdict.cause is not None and verdict.cause.owner in owners:
            raise Failed(reason, details, verdict.cause.hint, parts=parts)
        if verdict.cause is not None:  # a known departure the reference reproduces: its check counts it
            return
        if verdict.confirmed and (verdict.broken or train_trace.held(verdict.facts, owners)):
            return  # the trace, replayed, is what train did: another fact explains the run, or this one held
        if verdict.facts is not None:  # the failing case shows no fact broken: a longer run of it may
            probe, probed, confirmed = _probe(ctx, case)
            if mine := train_trace.broken(probed, owners):
                raise Failed(reason, details, _named_by(mine, f"Watched on a longer run ({probe.summary()}): "
                                                        + " ".join(f.evidence for f in mine)), parts=sorted({f.owner for f in mine}) if parts else ())
            if confirmed and train_trace.broken(probed):
                return
        if not verdict.diagnosed and verdict.facts is None:
            raise Failed(reason, details, "the student kit cannot name the cause (it holds no reference) and your train "
                         "does not call your compute_gradients, so its loop could not be watched; the full grader "
                         "compares it with the departures it knows.", parts=parts)
        unwatched = "" if verdict.facts is not None else f", and {UNWATCHED}"
        raise Failed(reason, details, UNVERIFIED.format(fact=fact, unwatched=unwatched), parts=parts)
    if verdict.broken:
        raise Failed(reason, details, _evidence(ctx, case, verdict.broken, None), parts=parts)
    if verdict.cause is not None:
        raise Failed(reason, details, verdict.cause.hint, parts=parts)
    if not verdict.diagnosed and verdict.facts is None:
        raise Failed(reason, details, "the student kit cannot name the cause (it holds no reference); the full grader "
                     "does.", parts=parts)
    if verdict.facts is None:
        raise Failed(reason, details, f"{UNKNOWN} Also, {UNWATCHED}.", parts=parts)
    # the failing case may be too short to show it (one update shows no smoothing): watch a longer one
    raise Failed(reason, details, _evidence(ctx, case, [], None, otherwise=UNKNOWN), parts=parts)


@check("train: smooth loss and params match the contract's loop", texts(), parts=("smooth_loss", "params"),
       settings=("threshold",), triggers=(clipped_run(),), probes=_judge_probes(_same))
def matches_reference(ctx, case: Text):
    """From the same starting params, train returns the smooth loss after every update and the final params of
    the contract's loop: windows X = text[e:e+seq_length], Y = text[e+1:e+seq_length+1], gradients from
    hprev, clipped to [-5, 5], one AdaGrad step, smooth = 0.999 * smooth + 0.001 * loss (starting at the
    first loss), e += seq_length, wrapping to 0 (with hprev = zeros) when e > len(text) - seq_length - 1.
    Texts include lengths where the last window ends exactly on the last character, and always a run whose
    gradients exceed the clip bound at every update."""
    params, smooth, trace = _train(ctx, case)
    got = _run(params, smooth)
    verdict = judge(ctx, case, got, trace=trace)
    if not verdict.problems:
        return
    expected_smooth = verdict.expected["smooth_loss"]
    details = [f.text for _, f in verdict.problems]
    if verdict.problems[0][0] == "smooth_loss":
        errors = np.abs(smooth - expected_smooth) / np.maximum(ctx.floor, np.abs(smooth) + np.abs(expected_smooth))
        first = int(np.argmax(errors > ctx.threshold))
        details.insert(0, f"the smooth loss first differs after update {first + 1}: expected "
                          f"{expected_smooth[first]:.8g}, got {smooth[first]:.8g}")
    if verdict.cause is None and not verdict.carried_from and (hint := _reduction_hint(ctx, got, expected_smooth, case)):
        verdict.cause = Cause("train.loss_reduction", hint, "", {})
    _fail(ctx, case, verdict, f"the returned {' and '.join(p for p, _ in verdict.problems)} differ(s) from the reference",
          "\n".join(details), parts=[p for p, _ in verdict.problems])


@check("train: clipping applied",
       texts(seq_length=(12, 20), windows=(1, 2), passes=(1.0, 2.0), scale=st.just(1.0), K=(2, 3), v_scale=20.0),
       settings=("threshold",), probes=_judge_probes(_same))
def clipping_applied(ctx, case: Text):
    """With large parameters (V scaled up, so that the mean loss's gradients pass the bound too) the gradients
    exceed 5; the run must not be the contract's loop without clipping (compared on the returned params).
    Other differences are counted by the check above."""
    assume(not np.allclose(flat(reference_run(ctx, case)[0]), flat(ctx.variants.train(*case.args, clip=False)[0]),
                           rtol=1e-4))
    ran = _side_train(ctx, case, ("clipping",))
    if ran is None:
        return
    params, _, trace = ran
    verdict = judge(ctx, case, _run(params, ()), parts=("params",), trace=trace)
    if verdict.problems:
        _fail(ctx, case, verdict, "the params after training with large gradients differ from the reference",
              verdict.problems[0][1].text, owners=("clipping",), fact="the gradients are clipped")


@st.composite
def _hprev_runs(draw):
    """'carried': no wrap, several windows in a row; 'reset': one window per pass, so every update wraps."""
    part = draw(st.sampled_from(["carried", "reset"]))
    if part == "carried":
        windows = draw(st.integers(2, 4))
        return draw(texts(windows=(windows, windows), passes=(2 / windows, 1.0)))
    return draw(texts(windows=(1, 1), passes=(2.0, 4.0)))


# Runs that show every hprev fact whatever the draw: three windows, the last ending on the last character, run
# once through (an early wrap or a reset before the wrap shows at update 3), and one window run three times.
HPREV_TRIGGERS = (Text(K=3, m=3, seq_length=3, windows=3, extra=0, n_updates=3, eta=0.1, scale=0.5, seed=0),
                  Text(K=3, m=3, seq_length=3, windows=1, extra=0, n_updates=3, eta=0.1, scale=0.5, seed=0))


@check("train: hprev carried between updates and reset at the wrap", _hprev_runs(), parts=("carried", "reset"),
       settings=("threshold",), triggers=HPREV_TRIGGERS, probes=_judge_probes(_same))
def hprev(ctx, case: Text):
    """Each update's gradients start from hprev = the previous update's h_last, and hprev returns to zeros
    whenever the position wraps to 0. Compared on the returned params, on runs that never wrap (carried) and
    runs whose every update wraps (reset); fails for the departures that concern hprev or the wrap."""
    ran = _side_train(ctx, case, ("carried", "reset"), parts=("carried", "reset"))
    if ran is None:
        return
    params, _, trace = ran
    part = "reset" if case.windows == 1 else "carried"
    verdict = judge(ctx, case, _run(params, ()), parts=("params",), trace=trace)
    if verdict.problems:
        run = ("whose every update starts from position 0 (hprev must be zeros each time)" if part == "reset"
               else "that moves through the text without returning to 0 (hprev must carry over)")
        owner = verdict.cause.owner if verdict.cause and verdict.cause.owner in ("carried", "reset") else part
        fact = "hprev is reset at the wrap" if part == "reset" else "hprev is carried over"
        _fail(ctx, case, verdict, f"the params differ from the reference on a run {run}", verdict.problems[0][1].text,
              owners=("carried", "reset"), parts=(owner,), fact=fact)


def _long_run(ctx, fixed) -> tuple[str, dict, int, float, int]:
    """The run of "smooth loss decreases": the training text's first text_chars characters, params the reference
    draws with the conventions' sigma, updates, and the conventions' eta and seq_length (train's arguments)."""
    text = ctx.assignment.text.text[: int(ctx.setting("text_chars"))]
    params = ctx.reference.init_params(len(set(text)), int(ctx.setting("m")), ctx.conventions.sigma,
                                       np.random.default_rng(fixed.seed))
    return text, params, int(ctx.setting("updates")), ctx.conventions.eta, ctx.conventions.seq_length


@check("train: smooth loss decreases over a longer run", st.just(Fixed("a training run on the default text, described above")),
       settings=("updates", "m", "text_chars", "fraction"),
       probes=lambda ctx, fixed: _first_update_probe(ctx, *_long_run(ctx, fixed)))
def decreases(ctx, fixed):
    """On the assignment's training text, from parameters drawn with the conventions' sigma, the smooth loss
    goes down: by the end of the run it has dropped, relative to where it started, at least a set fraction
    of the reference's relative drop on the same run (the conventions' eta and seq_length). If the
    contract's loop with your own functions does not drop either, those functions are at fault, not train."""
    text, params, n, eta, seq_length = _long_run(ctx, fixed)
    name, K, m = ctx.assignment.text.name, len(set(text)), int(ctx.setting("m"))
    case = f"the first {len(text)} characters of {name!r} (K={K}), m={m}, {n} updates, eta={eta:g}, seq_length={seq_length}"
    _, expected = ctx.reference.train(text, copy_params(params), n, eta, seq_length)
    needed = ctx.setting("fraction") * (1 - expected[-1] / expected[0])
    try:
        (_, smooth), trace = ctx.call_traced("train", text, params, n, eta, seq_length, trace=train_trace.LOSSES_ONLY,
                                             dims={"K": K, "m": m, "n_updates": n}, describe=case, uses=("smooth_loss",))
    except Failed as failure:
        if _learned_until_explained_failure(ctx, fixed, failure, expected, (text, params, eta, seq_length)):
            return
        # The loop run up to the update train failed in: a crash it shares is the failing function's, and
        # running the whole long run of a loop that does not fail would cost its every update.
        _carried_crash(ctx, failure, text, params, min(n, len(train_trace.losses(failure.trace) or ()) + 1), eta,
                       seq_length)
        raise
    if 1 - smooth[-1] / smooth[0] >= needed:
        return
    reason = f"on {case}, the smooth loss went from {smooth[0]:.4g} to {smooth[-1]:.4g}; it should drop by at least {needed:.1%}"
    details = (f"the reference goes from {expected[0]:.4g} to {expected[-1]:.4g} ({1 - expected[-1] / expected[0]:.1%} "
               f"lower); required: at least {ctx.setting('fraction'):.0%} of that relative drop")
    losses = train_trace.losses(trace)
    loop = train_trace.Loop(text, seq_length, n, ctx.conventions.clip_bound, ctx.conventions.smooth_decay,
                            ctx.conventions.optimizer.function)
    functions = _Watched(ctx)
    updates = _own_updates(functions, text, params, n, eta, seq_length)
    if (losses is not None and len(losses) == n and train_trace.smoothing(losses, smooth, loop).holds is False
            and _agree(losses, updates)):
        # The curve is these losses smoothed from another start or with another factor (the main check counts
        # that); whether train learns is judged on the same losses smoothed as the contract does.
        contract = train_trace.smoothed(losses, ctx.conventions.smooth_decay)
        if 1 - contract[-1] / contract[0] >= needed:
            return
    own = None if updates is None else [update.smooth_loss for update in updates]
    if own is None or not 1 - own[-1] / own[0] >= needed:
        culprit = " and ".join(functions.differ) or f"compute_gradients, clip_gradients or {functions.optimizer}"
        raise Failed(reason, details, f"the contract's loop with your {culprit} does not learn either: fix those first.",
                     carried_from=culprit)
    raise Failed(reason, details, "the contract's loop with your own compute_gradients, clip_gradients and "
                 f"{functions.optimizer} drops to {own[-1]:.4g}: the problem is in train itself.")


def _own_updates(functions: _Watched, text: str, params, n: int, eta: float, seq_length: int) -> list[Update] | None:
    """The updates of the contract's loop run by the grader with the student's own functions (None if one
    of them fails): their losses are what a trace's recorded losses must be to be believed."""
    loop = DrivenLoop(functions, text, params, eta=eta, seq_length=seq_length, rules=_rules(functions.ctx))
    try:
        return list(loop.updates(n))
    except (Failed, Aborted):
        return None


def _agree(losses: list[float] | None, updates: list[Update] | None) -> bool:
    """Whether recorded losses are those of these updates, one for one."""
    if not losses or updates is None or len(losses) != len(updates):
        return False
    return bool(np.allclose(losses, [update.loss for update in updates], rtol=1e-9, atol=0.0))


def _believed(ctx, losses: list[float] | None, text: str, params, eta: float, seq_length: int) -> bool:
    """Whether recorded losses are those of the contract's loop with the student's own functions."""
    if not losses:
        return False
    return _agree(losses, _own_updates(_Watched(ctx), text, params, len(losses), eta, seq_length))


def _learned_until_explained_failure(ctx, fixed, failure: Failed, expected, run) -> bool:
    """Whether train's failure on the long run is a fact of the loop that other checks count (a short run
    of the same train, watched, shows it broken) and its losses until then, which must be the contract's
    loop's with the student's own functions, drop as the reference's do over as many updates."""
    losses = train_trace.losses(failure.trace)
    if not losses or len(losses) < 2 or not _believed(ctx, losses, *run):
        return False
    # a text whose last window ends on its last character, and one that leaves characters over
    short = (Text(K=3, m=3, seq_length=4, windows=3, extra=extra, n_updates=7, eta=0.1, scale=1.0, seed=fixed.seed)
             for extra in (0, 3))
    if not any(_probe(ctx, case, keep_extra=True)[2] for case in short):
        return False
    own = train_trace.smoothed(losses, ctx.conventions.smooth_decay)
    reference = expected[: len(own)]
    return 1 - own[-1] / own[0] >= ctx.setting("fraction") * (1 - reference[-1] / reference[0])


# The degenerate sizes of a training run, and typical ones for the same draw.
TEXT_EDGES = MappingProxyType({"seq_length": 1, "m": 1, "K": 2, "windows": 1})
TEXT_TYPICAL = MappingProxyType({"seq_length": 3, "m": 3, "K": 4, "windows": 2})


@st.composite
def _edge_texts(draw):
    case = draw(texts())
    edges = draw(st.sets(st.sampled_from(sorted(TEXT_EDGES)), min_size=1))
    return replace(case, **{d: TEXT_EDGES[d] for d in edges}, **({"extra": 0} if "windows" in edges else {}))


def _train_agrees(ctx, case: Text, *, known_departures_pass: bool = False):
    """Fail unless train's run is the reference's; with ``known_departures_pass``, also pass a run that differs
    by a departure from the contract's loop the grader knows (those do not depend on the sizes)."""
    try:
        params, smooth, trace = _train(ctx, case)
    except Explained:
        if known_departures_pass:
            return
        raise
    verdict = judge(ctx, case, _run(params, smooth), trace=trace)
    if verdict.problems and not (known_departures_pass and (verdict.cause is not None or verdict.broken)):
        _fail(ctx, case, verdict, f"the returned {' and '.join(p for p, _ in verdict.problems)} differ(s) from the reference",
              "\n".join(f.text for _, f in verdict.problems))


def _typical_twin(case: Text) -> Text:
    """The same draw with its edge sizes made typical."""
    typical: dict[str, Any] = {d: TEXT_TYPICAL[d] for d, v in TEXT_EDGES.items() if getattr(case, d) == v}
    return replace(case, **typical)


@check("train: edge sizes (seq_length = 1, m = 1, K = 2, a text that barely fits)", _edge_texts(),
       settings=("threshold",), probes=_judge_probes(_typical_twin, _same))
def edge_sizes(ctx, case: Text):
    """train gives the contract's loop's results on degenerate runs: seq_length = 1, m = 1, a text over two
    characters, or a text of exactly one window (seq_length + 1 characters, so every update wraps). Counted
    only where the same draw at typical sizes is right and no known departure from the loop explains the
    answer, so that a wrong answer at every size costs nothing here (a crash at every size fails it: train
    works nowhere)."""
    twin = _typical_twin(case)
    try:
        _train_agrees(ctx, twin)  # first, and always: the student kit replays expected values in order
    except Raised as crash:
        raise Failed(f"train raises at typical sizes too ({crash.reason}): it works at no size", crash.details) from None
    except Failed:
        return
    try:
        # A known departure (smoothing factor, AdaGrad memory of unclipped gradients, ...) is the main check's,
        # at any size; whether the twin shows it too depends on the draw (a clip bound reached, a one-update run).
        _train_agrees(ctx, case, known_departures_pass=True)
    except Failed as failure:
        if failure.carried_from:
            raise
        raise Failed(f"{failure.reason}; at {twin.summary()} it is right", failure.details,
                     f"train works at typical sizes but not at {case.summary()}: look for code that assumes "
                     "seq_length > 1, m > 1, more than two characters, or a text longer than one window.") from None
