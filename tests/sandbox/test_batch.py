"""Sandbox.call_many: several calls in one exchange, each with its own limits and verdict, as call() gives."""

import numpy as np
import pytest

from grader.sandbox import Call, CallFailed, FailureKind, Limits, Reply, RngSeed, TimeBudget, protocol

from .conftest import CPU_ONLY, GOOD


def wire(value) -> bytes:
    return protocol.encode(value, 1 << 30)


def kinds(results):
    return [result.failure.kind if isinstance(result, CallFailed) else result.value for result in results]


def test_a_batch_answers_as_the_same_calls_one_by_one(open_box, rnn_args):
    params, X, Y, h0 = rnn_args
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    calls = [Call("init_params", (4, 3, 0.01, RngSeed(1))),
             Call("forward", (params, X, Y, h0)),
             Call("compute_gradients", (params, X, Y, h0)),
             Call("adagrad_step", (params, {k: np.ones_like(v) for k, v in params.items()}, memory, 0.1),
                  return_args=(0, 2))]
    alone_box = open_box(GOOD)  # the same calls one by one in one worker, as the batch runs in one
    one_by_one = [alone_box.call(c.function, *c.args, return_args=c.return_args) for c in calls]
    batched = open_box(GOOD).call_many(calls)
    assert all(type(result) is Reply for result in batched)
    for alone, together in zip(one_by_one, batched):
        assert wire(together.value) == wire(alone.value)  # arrays, dicts and tuples alike, to the last bit
        assert wire({str(k): v for k, v in together.args_after.items()}) == wire(
            {str(k): v for k, v in alone.args_after.items()})


def test_a_call_the_submission_fails_leaves_the_worker_to_answer_the_next(open_box):
    box = open_box("batch_calls")
    results = box.call_many([
        Call("init_params", (1, 1, 0.1, RngSeed(0))),
        Call("clip_gradients", ({}, 5.0), describe="bound 5"),
        Call("compute_gradients", (0, 0, 0, 0)),
        Call("init_params", (1, 1, 0.1, RngSeed(0))),
        Call("adagrad_step", (0, 0, 0, 0.1)),
        Call("init_params", (1, 1, 0.1, RngSeed(0))),
    ])
    # The count goes on after the raise and the missing function (one worker), and starts again after the exit.
    assert kinds(results) == [1, FailureKind.exception, FailureKind.missing_function, 2, FailureKind.exited, 1]
    assert "clip_gradients always raises here" in results[1].failure.message
    assert "adagrad_step" in results[4].failure.message


def test_each_call_of_a_batch_has_its_own_time_limit(open_box):
    # Together the calls before the loop take longer than one call may; each alone does not.
    box = open_box("batch_calls", Limits(call_seconds=0.2, wall_factor=CPU_ONLY))
    results = box.call_many([Call("forward", (0.12, 0, 0, 0)), Call("forward", (0.12, 0, 0, 0)),
                             Call("forward", (1000.0, 0, 0, 0), describe="the loop"),
                             Call("init_params", (1, 1, 0.1, RngSeed(0)))])
    assert kinds(results) == [0.12, 0.12, FailureKind.timeout, 1]  # a fresh worker after the timeout
    assert "did not finish within 0.2 s" in results[2].failure.message and "the loop" in results[2].failure.message


def test_the_budget_running_out_in_a_batch_stops_that_call_and_refuses_the_rest(open_box):
    limits = Limits(call_seconds=5.0, total_seconds=0.5, wall_factor=CPU_ONLY)
    budget = TimeBudget(limits)
    box = open_box("batch_calls", limits, budget=budget)
    results = box.call_many([Call("forward", (0.3, 0, 0, 0)), Call("forward", (0.3, 0, 0, 0), describe="second"),
                             Call("init_params", (1, 1, 0.1, RngSeed(0)))])
    assert kinds(results) == [0.3, FailureKind.budget, FailureKind.budget]
    assert "ran out during forward (second)" in results[1].failure.message
    assert 0.5 <= budget.charged < 0.7  # each call charged once: what it used, not the first one's twice


def test_bad_return_args_are_refused_before_any_call_runs(open_box):
    box = open_box("batch_calls")
    with pytest.raises(ValueError, match="return_args"):
        box.call_many([Call("init_params", (1, 1, 0.1, RngSeed(0))), Call("forward", (0,), return_args=(3,))])
    assert box.call("init_params", 1, 1, 0.1, RngSeed(0)).value == 1  # the first one never ran
