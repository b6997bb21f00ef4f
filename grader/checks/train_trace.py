"""What a submission's train did, read from the calls it made to its own contract functions.

A train that calls the module's compute_gradients (and clip_gradients, the optimizer step) can be watched:
the sandbox records each such call (grader.sandbox.trace). One update is one compute_gradients call, and
from the sequence the loop's facts can be stated one by one, each with its evidence:

* windows: update i reads X = text[e_i : e_i + seq_length] with e_0 = 0, e_{i+1} = e_i + seq_length, and
  e = 0 again once e > len(text) - seq_length - 1 (so a window may end on the last character);
* targets: Y = text[e_i + 1 : e_i + seq_length + 1];
* carried: an update that does not start at 0 starts from h0 = the previous update's h_last;
* reset: the first update, and one that starts at 0 again, starts from h0 = zeros;
* clipping: the optimizer step gets clip(grads, -bound, bound), or what the submission's clip_gradients
  returned, where some gradient is beyond the bound;
* smoothing: smooth_1 = loss_1 and smooth_i = decay * smooth_{i-1} + (1 - decay) * loss_i, with the
  losses compute_gradients returned; a different factor or start is estimated and named;
* all updates made: n_updates compute_gradients calls.

A fact is True (seen to hold), False (seen broken, with the update that shows it) or None (this run cannot
show it: no wrap, no gradient beyond the bound, a step train does not call). The trace is the
submission's claim: the checks use it only to explain a result they already judged from train's return
value, and to refuse a side check a pass that the result alone cannot justify.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from grader.sandbox import Trace, TraceSpec

# compute_gradients(params, X, Y, h0) -> (grads, loss, h_last); clip_gradients(grads, bound) -> grads;
# the optimizer step's gradients are its second argument (adagrad_step and adam_step alike).
TRACED = MappingProxyType({"compute_gradients": TraceSpec(args=(1, 2, 3)), "clip_gradients": TraceSpec(args=(0,)),
                           "adagrad_step": TraceSpec(args=(1,), returns=()),
                           "adam_step": TraceSpec(args=(1,), returns=())})
LOSSES_ONLY = MappingProxyType({"compute_gradients": TraceSpec(args=(), returns=(1,))})
CLOSE = 1e-9  # relative: the same numbers passed on (copies in float64 are exact)
KEYS = ("b", "c", "U", "W", "V")


@dataclass(frozen=True)
class Finding:
    """One fact of the loop: the part of a check that owns it ("carried", "reset", "clipping"; "" for the
    main check), whether it held (None: not shown by this run), and the evidence in words."""

    owner: str
    holds: bool | None
    evidence: str = ""
    cause: str = ""  # the mistake a broken fact is (grader.mistakes), when it is a known one


@dataclass
class Update:
    """One update as the trace shows it: the window's ids, the arguments and results of compute_gradients,
    and the gradients the step and clip_gradients saw."""

    X: np.ndarray | None
    Y: np.ndarray | None
    h0: np.ndarray | None
    grads: dict | None
    loss: float | None
    h_last: np.ndarray | None
    stepped: dict | None = None  # the gradients the optimizer step received
    clipped: list = field(default_factory=list)  # what clip_gradients returned during this update


def updates(trace: Trace, step: str) -> list[Update]:
    """The trace's calls grouped into updates (a compute_gradients call starts one)."""
    found: list[Update] = []
    for call in trace.calls:
        if call.function == "compute_gradients":
            X, Y, h0 = (call.args + (None, None, None))[:3]
            grads, loss, h_last = _triple(call.returned)
            found.append(Update(_matrix(X), _matrix(Y), _column(h0), _grads(grads), _number(loss), _column(h_last)))
        elif found and call.function == "clip_gradients":
            found[-1].clipped.append(_grads(call.returned))
        elif found and call.function == step and found[-1].stepped is None:
            found[-1].stepped = _grads(call.args[0] if call.args else None)
    return found


def losses(trace: Trace | None) -> list[float] | None:
    """The losses compute_gradients returned, one per update (a trace made with LOSSES_ONLY), up to a call
    that did not return; None without a complete trace."""
    if trace is None or not trace.complete:
        return None
    calls = trace.of("compute_gradients")
    if calls and calls[-1].returned is None:
        calls = calls[:-1]  # the call the traced function failed in
    found = []
    for call in calls:
        value = _number(call.returned[0] if isinstance(call.returned, list) and call.returned else None)
        if value is None:
            return None
        found.append(value)
    return found


@dataclass(frozen=True)
class Loop:
    """What the contract's loop does on one run: the text (as ids), seq_length, n_updates, the clip bound
    and the smoothing factor."""

    text: str
    seq_length: int
    n_updates: int
    clip_bound: float
    smooth_decay: float
    step: str

    @property
    def ids(self) -> np.ndarray:
        vocab = sorted(set(self.text))
        return np.searchsorted(np.array([ord(c) for c in vocab]), [ord(c) for c in self.text])

    def starts(self) -> list[int]:
        """The contract's window starts, update by update."""
        starts, e = [], 0
        for _ in range(self.n_updates):
            starts.append(e)
            e += self.seq_length
            if e > len(self.text) - self.seq_length - 1:
                e = 0
        return starts


def facts(trace: Trace | None, loop: Loop, smooth: Sequence[float] | None = None, returned: bool = True
          ) -> list[Finding] | None:
    """Each fact of the loop this trace shows, or None when train made no call the grader can read (it does
    not call the contract's compute_gradients) or the record is incomplete. ``returned``: train returned (a
    run that raised did not stop early: it failed)."""
    if trace is None or not trace.complete:
        return None
    seen = updates(trace, loop.step)
    if not seen or any(u.X is None or u.h0 is None for u in seen):
        return None
    starts = _starts(seen, loop)
    found = [*_windows(seen, starts, loop), *_hprev(seen, starts), _clipping(seen, loop)]
    if smooth is not None and all(u.loss is not None for u in seen):
        found.append(smoothing([u.loss for u in seen if u.loss is not None], smooth, loop))
    if returned and len(seen) < loop.n_updates:
        found.append(Finding("", False, f"train made {len(seen)} of the {loop.n_updates} updates: it stopped early"
                                        + (f" (the smooth loss was then {smooth[len(seen) - 1]:.6g})"
                                           if smooth is not None and len(smooth) >= len(seen) else "") + ".", "train.stopped_early"))
    return found


def replay_steps(trace: Trace | None, loop: Loop) -> list[tuple] | None:
    """What the trace says each update did, as Variants.replay takes it: (X, Y, h0 or None for the previous
    h_last, whether the step got clipped gradients); None when it does not say (no readable updates)."""
    if trace is None or not trace.complete:
        return None
    seen = updates(trace, loop.step)
    if not seen or any(u.X is None or u.Y is None or u.h0 is None for u in seen):
        return None
    steps = []
    for i, update in enumerate(seen):
        carried = i > 0 and seen[i - 1].h_last is not None and _same(update.h0, seen[i - 1].h_last)
        h0 = None if carried and not _is_zero(update.h0) else update.h0
        unclipped = (update.grads is not None and update.stepped is not None and _same_grads(update.stepped, update.grads)
                     and not _same_grads(update.stepped, {k: np.clip(v, -loop.clip_bound, loop.clip_bound)
                                                          for k, v in update.grads.items()}))
        steps.append((update.X, update.Y, h0, not unclipped))
    return steps


def plausible(found: list[Finding], trace: Trace | None, step: str) -> bool:
    """Whether broken facts can explain a failed run: facts of the loop's shape (wrap, hprev, clipping), seen
    after two updates or more. A lone call with garbage arguments explains nothing."""
    return (bool(found) and trace is not None and len(updates(trace, step)) >= 2
            and all(f.owner for f in found))


def broken(found: list[Finding] | None, owners: Sequence[str] | None = None) -> list[Finding]:
    """The facts seen broken, of ``owners`` only if given."""
    return [f for f in found or () if f.holds is False and (owners is None or f.owner in owners)]


def held(found: list[Finding] | None, owners: Sequence[str]) -> bool:
    """Whether every fact of ``owners`` that this run shows held, and it shows at least one."""
    mine = [f for f in found or () if f.owner in owners and f.holds is not None]
    return bool(mine) and all(f.holds for f in mine)


def smoothed(loss: Sequence[float], decay: float) -> np.ndarray:
    """The contract's smooth loss of these losses: the first loss, then decay * smooth + (1 - decay) * loss."""
    curve = np.empty(len(loss))
    for i, value in enumerate(loss):
        curve[i] = value if i == 0 else decay * curve[i - 1] + (1 - decay) * value
    return curve


def _chars(start: int, length: int) -> str:
    return f"characters {start + 1}-{start + length}"


def _ids(onehot: np.ndarray) -> np.ndarray | None:
    if onehot.ndim != 2 or 0 in onehot.shape or not np.all((onehot == 0) | (onehot == 1)) or not np.all(
            onehot.sum(axis=0) == 1):
        return None
    return onehot.argmax(axis=0)


def _starts(seen: list[Update], loop: Loop) -> list[int | None]:
    """Where each update's window starts in the text: the contract's position if it fits, else where the
    previous window ended, else the start of the text, else the first place that fits (None: nowhere)."""
    ids, expected = loop.ids, loop.starts()
    starts: list[int | None] = []
    for i, update in enumerate(seen):
        window = _ids(_x(update))
        if window is None:
            starts.append(None)
            continue
        fits = [e for e in range(len(ids) - len(window) + 1) if np.array_equal(ids[e:e + len(window)], window)
                and (len(window) == loop.seq_length or e + len(window) == len(ids))]  # a short one: the text's end
        previous = starts[-1] if starts else None
        order = [expected[i] if i < len(expected) else None, None if previous is None else previous + loop.seq_length, 0]
        starts.append(next((e for e in order if e in fits), fits[0] if fits else None))
    return starts


def _windows(seen: list[Update], starts: list[int | None], loop: Loop) -> list[Finding]:
    """The windows and the wrap (owned by 'reset': the wrap is where hprev resets), and the targets."""
    expected, text_length = loop.starts(), len(loop.text)
    window = Finding("reset", None)
    for i, (update, start) in enumerate(zip(seen, starts)):
        tau = _x(update).shape[1]
        if start is None:
            window = Finding("", False, f"update {i + 1} read an X that is not a window of the text.", "train.window_wrong")
            break
        if start + loop.seq_length + 1 > text_length:
            read = f"only {tau} characters, {_chars(start, tau)}" if tau < loop.seq_length else _chars(start, tau)
            window = Finding("reset", False, f"update {i + 1} read {read} of {text_length}, whose targets run past the "
                                             "end of the text: the position did not wrap to 0 in time; wrap when "
                                             "e > len(text) - seq_length - 1.", "train.wrap_late")
            break
        if start != expected[i]:
            due = expected[i]
            if start == 0 and due + loop.seq_length + 1 == text_length:
                window = Finding("reset", False, f"update {i + 1} read {_chars(0, tau)}, back at the start, but the "
                                                 f"window at {_chars(due, tau)} (of {text_length}), which ends on the "
                                                 "last character, was still due: the position wraps one window early "
                                                 "(wrap when e > len(text) - seq_length - 1).", "train.wrap_early")
            else:
                window = Finding("", False, f"update {i + 1} read {_chars(start, tau)}; the contract's loop reads "
                                            f"{_chars(due, tau)} there (e += seq_length after each update).",
                                  "train.window_wrong")
            break
        if any(e == 0 for e in expected[1:i + 1]):
            window = Finding("reset", True)
    found = [window]
    ids = loop.ids
    for i, (update, start) in enumerate(zip(seen, starts)):
        targets = None if update.Y is None else _ids(update.Y)
        if start is None or targets is None or start + 1 + len(targets) > len(ids):
            continue
        if not np.array_equal(targets, ids[start + 1:start + 1 + len(targets)]):
            same = np.array_equal(targets, ids[start:start + len(targets)])
            found.append(Finding("", False, f"update {i + 1}'s Y is "
                                 + ("the same window as X" if same else "not the characters after X's")
                                 + f"; the targets are the next characters, {_chars(start + 1, len(targets))}.",
                                 "train.targets_not_shifted"))
            break
    return found


def _hprev(seen: list[Update], starts: list[int | None]) -> list[Finding]:
    """hprev carried between updates (where the position moves on) and zeros where it starts at 0."""
    carried, reset = Finding("carried", None), Finding("reset", None)
    tau = _x(seen[0]).shape[1]
    if _is_zero(seen[0].h0) is False:
        reset = Finding("reset", False, "update 1 did not start from h0 = zeros.", "train.hprev_not_zero_at_start")
    for i in range(1, len(seen)):
        update, before, start = seen[i], seen[i - 1], starts[i]
        if start is None or before.h_last is None:
            continue
        zeros, continued = _is_zero(update.h0), _same(update.h0, before.h_last)
        if start == 0:
            if reset.holds is False:
                continue
            if continued and not zeros:
                reset = Finding("reset", False, f"update {i + 1} read {_chars(0, tau)} (the position wrapped to 0) "
                                                f"but started from update {i}'s h_last: hprev is not reset to zeros "
                                                "at the wrap.", "train.hprev_not_reset")
            elif zeros:
                reset = Finding("reset", True)
            continue
        if carried.holds is False:
            continue
        if continued:
            carried = Finding("carried", True)
        elif zeros:
            continuing = [u for u, e in zip(seen[1:], starts[1:]) if e not in (None, 0)]
            never = len(continuing) > 1 and all(_is_zero(u.h0) for u in continuing)
            some = any(not _is_zero(u.h0) for u in continuing)
            carried = Finding("carried", False, (
                "every update started from h0 = zeros: hprev is never carried over (each update must start from the "
                "previous update's h_last)." if never else
                f"update {i + 1} read {_chars(start, tau)}, continuing from update {i}, but h0 was zeros"
                + (": hprev was reset before the wrap." if some else f" instead of update {i}'s h_last.")),
                "train.hprev_reset_early" if some and not never else "train.hprev_not_carried")
        else:
            carried = Finding("carried", False, f"update {i + 1} started from an h0 that is neither zeros nor update "
                                                f"{i}'s h_last.", "train.hprev_not_carried")
    return [carried, reset]


def _clipping(seen: list[Update], loop: Loop) -> Finding:
    """Whether the step got clipped gradients, on the updates where clipping changes something."""
    for i, update in enumerate(seen):
        if update.grads is None or update.stepped is None:
            continue
        over = {k: np.abs(v) > loop.clip_bound for k, v in update.grads.items()}
        if not any(o.any() for o in over.values()):
            continue
        clipped = {k: np.clip(v, -loop.clip_bound, loop.clip_bound) for k, v in update.grads.items()}
        if _same_grads(update.stepped, clipped) or any(_same_grads(update.stepped, c) for c in update.clipped if c):
            return Finding("clipping", True)
        if _same_grads(update.stepped, update.grads):
            key = next(k for k in KEYS if k in over and over[k].any())
            index = np.unravel_index(int(np.argmax(np.abs(update.grads[key]))), update.grads[key].shape)
            value = float(update.grads[key][index])
            return Finding("clipping", False, f"update {i + 1}: compute_gradients returned d{key}{list(index)} = "
                                              f"{value:.4g}, and {loop.step} received {value:.4g}, not clipped to "
                                              f"[-{loop.clip_bound:g}, {loop.clip_bound:g}].", "train.not_clipped")
        return Finding("", False, f"update {i + 1}: the gradients {loop.step} received are neither compute_gradients' "
                                  "nor the clipped ones.", "train.gradients_altered")
    return Finding("clipping", None)


def smoothing(loss: Sequence[float], smooth: Sequence[float], loop: Loop) -> Finding:
    """The smoothing factor and start that the returned curve ``smooth`` implies for the updates' losses
    (None: the curve is no smoothing of these losses, as when another loss is smoothed)."""
    n = min(len(loss), len(smooth))
    if n < 2:  # one update cannot tell a smoothing from another start from a smoothing of another loss
        return Finding("", None)
    s, ell = np.asarray(smooth[:n], dtype=np.float64), np.asarray(loss[:n], dtype=np.float64)
    scale = np.maximum(np.abs(s), 1e-12)
    decay = loop.smooth_decay
    if np.any(np.abs(s[1:] - decay * s[:-1] - (1 - decay) * ell[1:]) > 1e-6 * scale[1:]):
        usable = np.abs(s[:-1] - ell[1:]) > 1e-9 * scale[:-1]
        estimates = (s[1:] - ell[1:])[usable] / (s[:-1] - ell[1:])[usable]
        if not len(estimates) or np.ptp(estimates) > 1e-6:
            return Finding("", None)  # the curve is not a smoothing of these losses (another loss is smoothed)
        decay = float(np.median(estimates))
        return Finding("", False, f"the smooth loss follows smooth = {decay:.6g} * smooth + {1 - decay:.6g} * loss "
                                  f"(estimated from updates 2-{n}); the contract's factor is {loop.smooth_decay:g}.",
                       "train.smooth_decay")
    if abs(s[0] - ell[0]) <= 1e-6 * scale[0]:
        return Finding("", True)
    start = (s[0] - (1 - decay) * ell[0]) / decay
    uniform = -np.log(1.0 / len(set(loop.text))) * loop.seq_length
    named = ("0" if abs(start) <= 1e-6 * max(1.0, abs(ell[0])) else
             f"-log(1/K) * seq_length = {uniform:.6g} (as in min-char-rnn)" if abs(start - uniform) <= 1e-6 * uniform
             else f"{start:.6g}")
    return Finding("", False, f"the smooth loss starts at {named}: update 1 returned {s[0]:.8g}, where the contract's "
                              f"loop returns the first update's loss, {ell[0]:.8g}.", "train.smooth_start")


def _triple(value):
    if isinstance(value, list) and len(value) == 3:
        return value
    return None, None, None


def _matrix(value) -> np.ndarray | None:
    return value if isinstance(value, np.ndarray) and value.ndim == 2 else None


def _column(value) -> np.ndarray | None:
    if not isinstance(value, np.ndarray) or value.ndim not in (1, 2):
        return None
    return value.reshape(-1, 1)


def _x(update: Update) -> np.ndarray:
    """The update's X, which analyse made sure every update has."""
    if update.X is None:
        raise ValueError("an update without its X")
    return update.X


def _number(value) -> float | None:
    return float(value) if isinstance(value, float) and np.isfinite(value) else None


def _grads(value) -> dict | None:
    if type(value) is not dict or not all(isinstance(value.get(k), np.ndarray) for k in KEYS):
        return None
    return {k: value[k] for k in KEYS}


def _is_zero(h: np.ndarray | None) -> bool | None:
    return None if h is None else bool(np.all(h == 0))


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None or a.shape != b.shape:
        return False
    return bool(np.all(np.abs(a - b) <= CLOSE * np.maximum(1e-300, np.abs(a) + np.abs(b))))


def _same_grads(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and all(_same(a[k].reshape(-1, 1), b[k].reshape(-1, 1)) for k in KEYS)
