"""The contract's loop driven by the grader: with the reference's functions it is the reference's train, with a
submission's functions in the sandbox it is what that submission's train should return, and it resumes."""

from pathlib import Path

import numpy as np
import pytest
from shipped_course import shipped

from grader.checks.strategies import Text
from grader.checks.variants import ReferenceFunctions, Variants
from grader.contract import wraps
from grader.driven import DrivenLoop, Rules, SandboxFunctions, box_caller
from grader.sandbox import Sandbox
from reference import rnn as reference

ASSIGNMENT = shipped()

ALICE = Path(__file__).resolve().parents[2] / "submissions" / "alice"
CASE = Text(K=4, m=3, seq_length=5, windows=3, extra=0, n_updates=9, eta=0.3, scale=1.0, seed=7)


def test_with_the_reference_functions_it_is_the_reference_train():
    params, smooth = DrivenLoop(ReferenceFunctions(reference.RNN()), CASE.text, CASE.params, eta=CASE.eta,
                                seq_length=CASE.seq_length).run(CASE.n_updates)
    expected_params, expected_smooth = reference.train(*CASE.args)
    assert np.allclose(smooth, expected_smooth, rtol=1e-12)
    assert all(np.allclose(params[k], expected_params[k], rtol=1e-12, atol=1e-15) for k in params)


def test_updates_report_losses_positions_and_wraps_and_the_loop_resumes():
    whole = DrivenLoop(ReferenceFunctions(reference.RNN()), CASE.text, CASE.params, eta=CASE.eta, seq_length=CASE.seq_length)
    updates = list(whole.updates(CASE.n_updates))
    assert [u.number for u in updates] == list(range(1, CASE.n_updates + 1))
    assert [u.number for u in updates if u.wrapped] == wraps(len(CASE.text), CASE.seq_length, CASE.n_updates)
    assert [u.smooth_loss for u in updates] == whole.curve
    resumed = DrivenLoop(ReferenceFunctions(reference.RNN()), CASE.text, CASE.params, eta=CASE.eta, seq_length=CASE.seq_length)
    resumed.run(4)
    params, smooth = resumed.run(CASE.n_updates - 4)
    assert np.array_equal(smooth, whole.curve)
    assert all(np.array_equal(params[k], whole.params[k]) for k in params)


@pytest.mark.parametrize("switch", [{"smooth_decay": 0.99}, {"target_offset": 0}, {"loss_after_update": True}])
def test_each_new_departure_changes_the_run(switch):
    _, correct = reference.train(*CASE.args)
    _, wrong = DrivenLoop(ReferenceFunctions(reference.RNN()), CASE.text, CASE.params, eta=CASE.eta, seq_length=CASE.seq_length,
                          rules=Rules(**switch)).run(CASE.n_updates)
    assert not np.allclose(correct, wrong, rtol=1e-9)


def test_with_a_submissions_functions_in_the_sandbox_it_matches_its_train():
    contract = ASSIGNMENT.contract
    with Sandbox(ALICE, functions=ASSIGNMENT.functions) as box:
        loop = DrivenLoop(SandboxFunctions(box_caller(box, contract)), CASE.text, CASE.params, eta=CASE.eta,
                          seq_length=CASE.seq_length, rules=Rules.from_conventions(contract.conventions))
        params, smooth = loop.run(CASE.n_updates)
        calls = {name: len(times) for name, times in box.timings.items()}
    expected_params, expected_smooth = reference.train(*CASE.args)
    assert np.allclose(smooth, expected_smooth, rtol=1e-10)
    assert all(np.allclose(params[k], expected_params[k], rtol=1e-9, atol=1e-12) for k in params)
    assert calls == dict.fromkeys(("compute_gradients", "clip_gradients", "adagrad_step"), CASE.n_updates)


@pytest.mark.parametrize("mistake", [{"eps": 2.2e-16}, {"memory_of_unclipped": True}])
def test_each_adagrad_departure_changes_a_run_with_large_gradients(mistake):
    case = Text(K=3, m=3, seq_length=12, windows=2, extra=0, n_updates=6, eta=0.1, scale=2.0, seed=1)
    _, correct = reference.train(*case.args)
    _, wrong = Variants(reference.RNN()).train(*case.args, **mistake)
    assert not np.allclose(correct, wrong, rtol=1e-9)
