"""A sandbox started ahead of its use (grader.sandbox.ahead): by whichever thread asks first, kept alive for the
thread that takes it, and never left behind by a late request."""

import os
import threading

import numpy as np
import pytest

from grader.sandbox import Sandbox
from grader.sandbox.ahead import SandboxAhead

from .conftest import FAST, FUNCTIONS, GOOD, PACKAGES


def thread_gone(thread: threading.Thread) -> bool:
    return not os.path.exists(f"/proc/self/task/{thread.native_id}")


def test_the_worker_outlives_the_short_lived_thread_that_asked_for_it():
    """The kernel kills a worker when the thread that started it ends (the parent-death signal follows the
    thread): the report's thread asks for the hidden checks' worker as it ends, and the grading's thread uses it."""
    with SandboxAhead(lambda: Sandbox(GOOD, FAST, functions=FUNCTIONS, packages=PACKAGES)) as ahead:
        asker = threading.Thread(target=ahead.start)
        asker.start()
        asker.join()
        while not thread_gone(asker):  # its exit, the parent-death signal with it, is over once /proc says so
            os.sched_yield()
        box = ahead.take()
        assert box is not None
        with box:
            worker = box._process
            assert box.load_failure is None
            assert box.call("clip_gradients", {"b": np.ones(2)}, 0.5).value["b"].tolist() == [0.5, 0.5]
            assert box._process is worker and worker.poll() is None  # the worker started ahead, still running


def test_a_start_asked_too_late_makes_no_sandbox():
    made = []
    with SandboxAhead(lambda: made.append("box")) as ahead:
        assert ahead.take() is None  # nothing was asked: the caller opens its own
        ahead.start()
    ahead.start()
    assert made == []


def test_an_error_of_the_start_is_raised_to_the_taker():
    def fails():
        raise OSError("no space left for the scratch copy")

    with SandboxAhead(fails) as ahead:
        ahead.start()
        with pytest.raises(OSError, match="no space left"):
            ahead.take()
