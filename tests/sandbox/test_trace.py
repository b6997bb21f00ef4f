"""Sandbox.call(trace=...): the calls a call makes to the submission's own functions, recorded in the worker."""

import numpy as np

from grader.sandbox import CallFailed, TraceSpec

from .conftest import IN_ONE_TIER

TRACED = """
import numpy as np


def step(values, scale):
    values["x"] *= scale          # in place: the trace keeps the argument as it was before the call
    return values["x"].sum(), "not recorded"


class Model:
    def step(self, values, scale):
        return step(values, scale)


def train(n):
    values = {"x": np.ones(3)}
    for _ in range(n):
        step(values, 2.0)
    return float(values["x"][0])


def train_with_class(n):
    values, model = {"x": np.ones(3)}, Model()
    for _ in range(n):
        model.step(values, scale=3.0)
    return float(values["x"][0])


def fails_after_two():
    step({"x": np.ones(2)}, 1.0)
    step({"x": np.ones(2)}, 1.0)
    raise ValueError("stop")


def restored():
    return hasattr(step, "__wrapped__")
"""
FUNCTIONS = ("train", "train_with_class", "fails_after_two", "restored")


def traced_box(open_box, tmp_path):
    (tmp_path / "rnn.py").write_text(TRACED)
    return open_box(tmp_path, functions=FUNCTIONS)


@IN_ONE_TIER
def test_each_call_to_a_traced_function_is_recorded_with_its_arguments_before_the_call(open_box, tmp_path):
    box = traced_box(open_box, tmp_path)
    reply = box.call("train", 3, trace={"step": TraceSpec(args=(0, 1), returns=(0,))})
    assert reply.value == 8.0
    assert reply.trace.complete and [c.function for c in reply.trace.calls] == ["step"] * 3
    first, third = reply.trace.calls[0], reply.trace.calls[2]
    assert np.array_equal(first.args[0]["x"], np.ones(3)) and first.args[1] == 2.0
    assert np.array_equal(third.args[0]["x"], np.full(3, 4.0)) and third.returned == [24.0]


@IN_ONE_TIER
def test_methods_of_the_submissions_classes_are_traced_by_name_and_keyword_arguments_are_placed(open_box, tmp_path):
    box = traced_box(open_box, tmp_path)
    reply = box.call("train_with_class", 2, trace={"step": TraceSpec(args=(1,))})
    # Model.step and the module's step it calls: both are the submission's "step"
    assert [c.args for c in reply.trace.calls] == [(3.0,)] * 4


@IN_ONE_TIER
def test_a_failed_call_keeps_the_trace_up_to_the_failure(open_box, tmp_path):
    box = traced_box(open_box, tmp_path)
    try:
        box.call("fails_after_two", trace={"step": TraceSpec()})
    except CallFailed as failed:
        assert failed.trace is not None and len(failed.trace.calls) == 2
    else:
        raise AssertionError("the call should have failed")


@IN_ONE_TIER
def test_the_functions_are_restored_after_the_traced_call_and_untraced_calls_record_nothing(open_box, tmp_path):
    box = traced_box(open_box, tmp_path)
    box.call("train", 1, trace={"step": TraceSpec()})
    reply = box.call("restored")
    assert reply.value is False and reply.trace is None


@IN_ONE_TIER
def test_the_recording_is_bounded_and_says_so(open_box, tmp_path):
    box = traced_box(open_box, tmp_path)
    reply = box.call("train", 5000, trace={"step": TraceSpec(args=(0,))})
    assert not reply.trace.complete and len(reply.trace.calls) <= 4096
