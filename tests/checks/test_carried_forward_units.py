"""The small pieces error carried forward rests on: float32 noted once, optional expected values kept out of
the kit's replay numbering, and the contract's backward pass from a submission's own forward outputs."""

import numpy as np
import pytest
from shipped_course import shipped

from grader import oracle
from grader.checks.strategies import Sequence
from grader.contract import ContractViolation, conform
from grader.oracle import LiveOracle, NotRecorded, RecordingOracle, ReplayingOracle

ASSIGNMENT = shipped()
CASE = Sequence(K=4, m=3, tau=5, scale=0.5, seed=3)


def test_float32_is_refused_unless_the_caller_notes_it_and_then_comes_back_as_float64():
    contract = ASSIGNMENT.contract
    value = [np.array(2.5, np.float32), np.zeros((4, 5), np.float32), np.zeros((3, 5))]  # as the sandbox sends them
    with pytest.raises(ContractViolation, match="float32"):
        conform(contract, "forward", value, CASE.dims)
    seen = []
    loss, P, H = conform(contract, "forward", value, CASE.dims, float32=seen)
    assert seen == ["forward's loss is a float32 array", "forward's P is a float32 array"]
    assert P.dtype == np.float64 and loss == 2.5


def test_a_float64_array_of_float32_numbers_is_noted_as_float32_and_round_numbers_are_not():
    rng = np.random.default_rng(0)
    computed_in_float32 = rng.standard_normal((3, 5)).astype(np.float32).astype(np.float64)
    value = [2.5, np.full((4, 5), 0.25), computed_in_float32]
    seen = []
    conform(ASSIGNMENT.contract, "forward", value, CASE.dims, float32=seen)
    assert seen == ["forward's H holds float32 numbers"]
    seen.clear()
    conform(ASSIGNMENT.contract, "forward", [2.5, np.full((4, 5), 0.25), rng.standard_normal((3, 5))], CASE.dims,
            float32=seen)
    assert seen == []


def test_calls_made_aside_are_keyed_by_their_arguments_and_do_not_move_the_numbering():
    oracle = RecordingOracle(ASSIGNMENT)
    with oracle.scope("a check|case"):
        oracle.reference.forward(*CASE.args)
        with oracle.aside():
            oracle.reference.compute_gradients(*CASE.args)
            oracle.variants.gradients(CASE.params, CASE.xs, CASE.ys, CASE.h0, through_time=False)
        oracle.reference.compute_gradients(*CASE.args)
    numbered = sorted(key for key in oracle.recorded if "#" in key)
    assert numbered == ["a check|case#0", "a check|case#1"]
    assert oracle.recorded["a check|case#1"]["call"] == "reference.compute_gradients"
    aside = {key for key in oracle.recorded if "#" not in key}
    assert {key.split("|")[2] for key in aside} == {"reference.compute_gradients", "variants.gradients"}
    assert all(key.startswith("a check|case|") for key in aside)


def test_the_kit_answers_a_call_made_aside_with_the_same_arguments_in_the_same_scope_only(tmp_path):
    recording = RecordingOracle(ASSIGNMENT)
    with recording.scope("a check|case"), recording.aside():
        expected = recording.variants.gradients(CASE.params, CASE.xs, CASE.ys, CASE.h0, through_time=False)
        with pytest.raises(ValueError, match="shorter than seq_length"):
            recording.variants.train("ab", CASE.params, 1, 0.1, 25)  # a known mistake that cannot run on the case
    oracle.save_fixtures(recording.recorded, tmp_path / oracle.FIXTURES)
    kit = ReplayingOracle(ASSIGNMENT.contract, oracle.load_fixtures(tmp_path / oracle.FIXTURES))
    with kit.scope("a check|case"), kit.aside():
        got = kit.variants.gradients(CASE.params, CASE.xs, CASE.ys, CASE.h0, through_time=False)
        assert all(np.array_equal(got[k], expected[k]) for k in expected)
        with pytest.raises(ValueError, match="shorter than seq_length"):
            kit.variants.train("ab", CASE.params, 1, 0.1, 25)
        with pytest.raises(NotRecorded):  # a switch, or an argument, that was not recorded: the student's own output
            kit.variants.gradients(CASE.params, CASE.xs, CASE.ys, CASE.h0, through_time=True)
        moved = CASE.params
        moved["W"] = moved["W"] + 1e-12
        with pytest.raises(NotRecorded):
            kit.variants.gradients(moved, CASE.xs, CASE.ys, CASE.h0, through_time=False)
    with kit.scope("another check|case"), kit.aside(), pytest.raises(NotRecorded):
        kit.variants.gradients(CASE.params, CASE.xs, CASE.ys, CASE.h0, through_time=False)
    with pytest.raises(NotRecorded):  # numbered calls are not answered from calls made aside
        with kit.scope("a check|case"):
            kit.variants.gradients(CASE.params, CASE.xs, CASE.ys, CASE.h0, through_time=False)


def test_the_contracts_backward_of_the_references_forward_is_the_references_gradients():
    oracle = LiveOracle(ASSIGNMENT)
    _, P, H = oracle.reference.forward(*CASE.args)
    composed = oracle.variants.backward(CASE.params, CASE.xs, CASE.ys, CASE.h0, P, H)
    expected = oracle.reference.compute_gradients(*CASE.args)[0]
    assert all(np.allclose(composed[k], expected[k], rtol=1e-10, atol=1e-14) for k in expected)
