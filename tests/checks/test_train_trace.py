"""What a trace of train's calls says about its loop: each fact stated from the calls, with its evidence."""

from dataclasses import replace

import numpy as np
import pytest

from grader.checks import train_trace
from grader.checks.strategies import Text
from grader.checks.train import _telling
from grader.checks.train_trace import Loop
from grader.sandbox import Trace, TracedCall

TEXT = "abcabca"  # 7 characters, K = 3: with seq_length 2 the windows start at 0, 2, 4 (ending on the last character), then wrap
LOOP = Loop(TEXT, seq_length=2, n_updates=5, clip_bound=5.0, smooth_decay=0.999, step="adagrad_step")


def onehot(start: int, length: int = 2) -> np.ndarray:
    ids = [sorted(set(TEXT)).index(c) for c in TEXT[start:start + length]]
    return np.eye(3)[:, ids]


def grads(value: float) -> dict:
    return {k: np.full((2, 2), value) for k in ("b", "c", "U", "W", "V")}


def run(starts, h0s, losses=None, stepped=None, grad_value=1.0, targets=1):
    """A trace of train: one compute_gradients call per start (h_last of update i is [i+1, i+1]) and one step."""
    calls = []
    for i, (start, h0) in enumerate(zip(starts, h0s)):
        loss = losses[i] if losses else 1.0 + i
        calls.append(TracedCall("compute_gradients", (onehot(start), onehot(start + targets), np.asarray(h0, float)),
                                [grads(grad_value), loss, np.full((2, 1), i + 1.0)]))
        calls.append(TracedCall("adagrad_step", (grads(stepped if stepped is not None else min(grad_value, 5.0)),), None))
    return Trace(tuple(calls), complete=True)


def zeros():
    return np.zeros((2, 1))


def carried(i):
    return np.full((2, 1), float(i))


def test_the_contracts_loop_holds_every_fact():
    trace = run([0, 2, 4, 0, 2], [zeros(), carried(1), carried(2), zeros(), carried(4)])
    facts = train_trace.facts(trace, LOOP)
    assert not train_trace.broken(facts)
    assert train_trace.held(facts, ("carried", "reset"))


def test_hprev_reset_before_the_wrap_is_named_with_the_update_that_shows_it():
    trace = run([0, 2, 4, 0, 2], [zeros(), carried(1), zeros(), zeros(), carried(4)])
    (broken,) = train_trace.broken(train_trace.facts(trace, LOOP))
    assert broken.owner == "carried"
    assert "update 3 read characters 5-6" in broken.evidence and "reset before the wrap" in broken.evidence


def test_hprev_never_carried():
    trace = run([0, 2, 4, 0, 2], [zeros()] * 5)
    (broken,) = train_trace.broken(train_trace.facts(trace, LOOP))
    assert broken.owner == "carried" and "never carried" in broken.evidence


def test_hprev_not_reset_at_the_wrap():
    trace = run([0, 2, 4, 0, 2], [zeros(), carried(1), carried(2), carried(3), carried(4)])
    (broken,) = train_trace.broken(train_trace.facts(trace, LOOP))
    assert broken.owner == "reset" and "update 4" in broken.evidence and "not reset" in broken.evidence


def test_an_early_wrap_and_a_late_one_are_the_wraps_fact():
    early = train_trace.broken(train_trace.facts(run([0, 2, 0, 2, 0], [zeros(), carried(1), zeros(), carried(3),
                                                                        zeros()]), LOOP))
    assert [f.owner for f in early] == ["reset"] and "one window early" in early[0].evidence
    late = train_trace.broken(train_trace.facts(run([0, 2, 4, 6], [zeros(), carried(1), carried(2), carried(3)]),
                                                Loop(TEXT, 2, 4, 5.0, 0.999, "adagrad_step")))
    assert late[0].owner == "reset" and "did not wrap to 0 in time" in late[0].evidence


def test_targets_that_are_not_the_next_characters():
    trace = run([0, 2, 4, 0, 2], [zeros(), carried(1), carried(2), zeros(), carried(4)], targets=0)
    (broken,) = train_trace.broken(train_trace.facts(trace, LOOP))
    assert broken.owner == "" and "same window as X" in broken.evidence


@pytest.mark.parametrize(("stepped", "holds"), [(5.0, True), (7.0, False)])
def test_clipping_is_seen_where_a_gradient_is_beyond_the_bound(stepped, holds):
    trace = run([0, 2, 4, 0, 2], [zeros(), carried(1), carried(2), zeros(), carried(4)], grad_value=7.0,
                stepped=stepped)
    (fact,) = [f for f in train_trace.facts(trace, LOOP) if f.owner == "clipping"]
    assert fact.holds is holds
    if not holds:
        assert "not clipped" in fact.evidence and "7" in fact.evidence


def test_clipping_is_not_shown_by_a_run_whose_gradients_are_inside_the_bound():
    trace = run([0, 2, 4, 0, 2], [zeros(), carried(1), carried(2), zeros(), carried(4)], grad_value=1.0)
    (fact,) = [f for f in train_trace.facts(trace, LOOP) if f.owner == "clipping"]
    assert fact.holds is None


def smooth_curve(losses, start, decay=0.999):
    curve, smooth = [], start
    for i, loss in enumerate(losses):
        smooth = loss if (smooth is None and i == 0) else decay * smooth + (1 - decay) * loss
        curve.append(smooth)
    return curve


@pytest.mark.parametrize(("start", "named"), [(0.0, "starts at 0"), (np.log(3) * 2, "min-char-rnn"), (7.5, "7.5")])
def test_the_smooth_losss_start_is_estimated_and_named(start, named):
    losses = [3.0, 2.9, 2.7, 2.8, 2.5]
    finding = train_trace.smoothing(losses, smooth_curve(losses, start), LOOP)
    assert finding.holds is False and named in finding.evidence


def test_the_smoothing_factor_is_estimated():
    losses = [3.0, 2.9, 2.7, 2.8, 2.5]
    finding = train_trace.smoothing(losses, smooth_curve(losses, None, decay=0.99), LOOP)
    assert finding.holds is False and "0.99 * smooth" in finding.evidence
    assert train_trace.smoothing(losses, smooth_curve(losses, None), LOOP).holds is True


def test_an_early_stop_is_named_with_the_updates_made():
    trace = run([0, 2], [zeros(), carried(1)])
    (broken,) = train_trace.broken(train_trace.facts(trace, LOOP))
    assert "made 2 of the 5 updates" in broken.evidence


def test_an_incomplete_or_unreadable_trace_states_nothing():
    assert train_trace.facts(None, LOOP) is None
    assert train_trace.facts(Trace((), complete=True), LOOP) is None
    partial = run([0, 2], [zeros(), carried(1)])
    assert train_trace.facts(Trace(partial.calls, complete=False), LOOP) is None
    garbled = Trace((TracedCall("compute_gradients", ("not an array", None, None), None),), complete=True)
    assert train_trace.facts(garbled, LOOP) is None


@pytest.mark.parametrize("raw", [None, [], {"calls": [], "complete": "yes"}, {"calls": [{"f": 1, "args": []}],
                                                                             "complete": True},
                                 {"calls": [{"f": "x", "args": [], "extra": 1}], "complete": True},
                                 {"calls": [{"f": "x", "args": []}] * 5000, "complete": True}])
def test_a_malformed_trace_from_the_sandbox_is_no_trace(raw):
    assert Trace.read(raw) is None


@pytest.mark.slow
@pytest.mark.parametrize("holds", [True, False])
def test_a_real_trace_of_train_shows_the_clipping(holds, tmp_path):
    """Recorded by the worker from a real train (compute_gradients' grads inside its returned tuple): on a
    run whose every gradient passes the bound, the step is seen to get clipped gradients."""
    from pathlib import Path

    from grader.assignment import load_assignment
    from grader.checks.strategies import clipped_run
    from grader.sandbox import Sandbox

    assignment = load_assignment()
    case = clipped_run()
    source = (Path(__file__).resolve().parents[2] / "submissions" / "alice" / "rnn.py").read_text()
    assert source.count("        grads = clip_gradients(grads, 5.0)\n") == 1
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "rnn.py").write_text(source if holds else source.replace("        grads = clip_gradients(grads, 5.0)\n", ""))
    with Sandbox(folder, functions=assignment.functions, packages=assignment.allowed_imports) as box:
        reply = box.call("train", *case.args, trace=train_trace.TRACED)
    loop = Loop(case.text, case.seq_length, case.n_updates, 5.0, 0.999, "adagrad_step")
    assert all(u.grads is not None and u.stepped is not None for u in train_trace.updates(reply.trace, loop.step))
    (clipping,) = [f for f in train_trace.facts(reply.trace, loop) if f.owner == "clipping"]
    assert clipping.holds is holds
    assert train_trace.replay_steps(reply.trace, loop) is not None


def _windows(case) -> list[str]:
    return [case.text[e:e + case.seq_length] for e in range(0, len(case.text) - case.seq_length, case.seq_length)]


def test_a_probe_run_reads_a_text_whose_windows_all_differ():
    """Where a window's characters come again at another window's position (K = 3, windows of 2: a coincidence
    of about one draw in three), an early wrap to 0 reads like an hprev reset before the wrap at the window
    due; so the longer run that shows train's facts takes the next draw of its sizes whose windows all differ."""
    draws = [Text(K=3, m=2, seq_length=2, windows=3, extra=0, n_updates=7, eta=0.1, scale=0.5, seed=s) for s in range(50)]
    repeated = next(case for case in draws if len(set(_windows(case))) < 3)
    told = _telling(repeated)
    assert told != repeated and len(set(_windows(told))) == 3
    assert replace(told, seed=repeated.seed) == repeated  # the same sizes, another draw
    assert _telling(told) == told
