"""Sandbox.call_many: several calls in one exchange, each with its own limits and verdict, as call() gives."""

import numpy as np
import pytest

from grader.sandbox import Call, CallFailed, FailureKind, Limits, Reply, RngSeed, Stop, TimeBudget, protocol

from .conftest import CPU_ONLY, GOOD, IN_ONE_TIER


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


@IN_ONE_TIER
def test_bad_return_args_are_refused_before_any_call_runs(open_box):
    box = open_box("batch_calls")
    with pytest.raises(ValueError, match="return_args"):
        box.call_many([Call("init_params", (1, 1, 0.1, RngSeed(0))), Call("forward", (0,), return_args=(3,))])
    assert box.call("init_params", 1, 1, 0.1, RngSeed(0)).value == 1  # the first one never ran


COUNT = Call("init_params", (1, 1, 0.1, RngSeed(0)))  # batch_calls: how many calls this worker has made


def loop(box, calls):
    """What a loop of call()s that stops at the first failure gets."""
    results = []
    for call in calls:
        try:
            results.append(box.call(call.function, *call.args, return_args=call.return_args, describe=call.describe))
        except CallFailed as failed:
            results.append(failed)
            break
    return results


def test_under_a_stop_a_failing_call_ends_the_batch_where_a_loop_of_calls_ends(open_box):
    looped_box, batched_box = open_box("batch_calls"), open_box("batch_calls")
    # A raise and a missing function leave the worker to count on; an exit starts a fresh one at 1.
    for failing, next_count in ((Call("clip_gradients", ({}, 5.0)), 3), (Call("compute_gradients", (0, 0, 0, 0)), 6),
                                (Call("adagrad_step", (0, 0, 0, 0.1)), 1)):
        calls = [COUNT, Call("forward", (0.0, 0, 0, 0)), failing, COUNT, Call("forward", (0.0, 0, 0, 0))]
        looped = loop(looped_box, calls)
        batched = batched_box.call_many(calls, Stop())
        assert kinds(batched) == kinds(looped) and len(batched) == 3 and type(batched[2]) is CallFailed
        assert batched[2].failure.message == looped[2].failure.message
        # The calls after the failing one were never made, in either.
        assert kinds([batched_box.call_many([COUNT])[0], looped_box.call_many([COUNT])[0]]) == [next_count] * 2
    assert {name: len(seconds) for name, seconds in batched_box.timings.items()} == {
        name: len(seconds) for name, seconds in looped_box.timings.items()}


def test_under_a_stop_like_a_value_the_batch_ends_after_the_first_value_of_another_shape(open_box):
    box = open_box("batch_calls")
    # init_params counts (an int: its shape is its value); forward returns what it is given.
    alike = box.call_many([Call("forward", (0.0, 0, 0, 0)), Call("forward", (0.5e-3, 0, 0, 0)), COUNT, COUNT],
                          Stop.unlike(1.0))
    assert kinds(alike) == [0.0, 0.5e-3, 3]  # a float, a float, then an int: the batch stops after it
    nan = box.call_many([Call("forward", (0.0, 0, 0, 0)), Call("forward", (float("nan"), 0, 0, 0)), COUNT],
                        Stop.unlike(1.0))
    assert len(nan) == 2 and np.isnan(nan[1].value)  # not finite: another shape
    assert kinds(box.call_many([COUNT, COUNT, COUNT], Stop.unlike(6))) == [6, 7]  # ints alike only when equal
    assert kinds(box.call_many([COUNT, COUNT, COUNT])) == [8, 9, 10]  # without a stop, every call is made


def test_a_deep_value_is_judged_by_a_key_of_one_size_and_a_value_too_long_to_tell_is_like_none(open_box):
    """A shape as deep as its value could not be sent (MAX_DEPTH) where the value could: the request carries a
    digest. A value too long for its shape to be told in full ends a batch under any Stop.like."""
    deep = 1.0
    for _ in range(protocol.MAX_DEPTH // 2 + 1):
        deep = [deep]
    box = open_box("batch_calls")
    echo = Call("train", (deep,))
    assert kinds(box.call_many([echo, echo, COUNT, COUNT], Stop.unlike(deep))) == [deep, deep, 3]
    assert protocol.shape_key(protocol.decode_frame(wire(deep), 1 << 30)) == protocol.shape_key(deep)
    long = [1.0] * protocol.MAX_SHAPE_NODES
    assert protocol.shape_key(long) is None and Stop.unlike(long) == Stop()  # the caller goes one call at a time
    made = box.call_many([Call("train", (long,)), COUNT], Stop.unlike(1.0))
    assert len(made) == 1 and made[0].value == long


def test_a_shape_is_the_same_before_the_channel_and_after_it():
    rng = np.random.default_rng(0)
    values = [(1.5, rng.standard_normal((3, 2)), np.float64(2.0), [np.int64(3), True, None, "text"]),
              {"b": np.zeros((2, 1)), "W": np.array([[np.inf]])}, [float("nan"), np.zeros(0, np.float32)],
              {"\x1b[31m": 1}]
    for value in values:
        assert protocol.shape(protocol.decode_frame(wire(value), 1 << 30)) == protocol.shape(value)
    assert protocol.shape(np.zeros((2, 3))) != protocol.shape(np.zeros((3, 2)))
    assert protocol.shape(np.zeros(2)) != protocol.shape(np.array([0.0, np.nan]))
    assert protocol.shape(np.zeros(2, np.float32)) != protocol.shape(np.zeros(2))
    assert protocol.shape({"b": 1.0, "c": 1.0}) != protocol.shape({"c": 1.0, "b": 1.0})

    class Number(float):
        pass

    # What the encoder converts matches nothing decoded.
    assert protocol.shape(Number(1.0)) == protocol.shape(np.zeros(2).astype(">f8")) == ["other"]
