"""A sandbox started ahead of its use (grader.sandbox.ahead): by whichever thread asks first, before it has its
submission, kept alive for the thread that takes it (and the submission with it), and never left behind by a
late request."""

import contextlib
import os
import threading

import numpy as np
import pytest

from grader.sandbox import FailureKind, Sandbox, SandboxError
from grader.sandbox.ahead import SandboxAhead

from .conftest import FAST, FUNCTIONS, GOOD, PACKAGES, policy_for


def thread_gone(thread: threading.Thread) -> bool:
    return not os.path.exists(f"/proc/self/task/{thread.native_id}")


def test_the_worker_outlives_the_short_lived_thread_that_asked_for_it():
    """The kernel kills a worker when the thread that started it ends (the parent-death signal follows the
    thread): the report's thread asks for the hidden checks' worker as it ends, and the grading's thread uses it."""
    with SandboxAhead(lambda: Sandbox(None, FAST, functions=FUNCTIONS, packages=PACKAGES)) as ahead:
        asker = threading.Thread(target=ahead.start)
        asker.start()
        asker.join()
        while not thread_gone(asker):  # its exit, the parent-death signal with it, is over once /proc says so
            os.sched_yield()
        box = ahead.take(GOOD)
        assert box is not None
        with box:
            worker = box._process
            assert box.load_failure is None
            assert box.call("clip_gradients", {"b": np.ones(2)}, 0.5).value["b"].tolist() == [0.5, 0.5]
            assert box._process is worker and worker.poll() is None  # the worker started ahead, still running


def test_a_start_asked_too_late_makes_no_sandbox():
    made = []
    with SandboxAhead(lambda: made.append("box")) as ahead:
        assert ahead.take(GOOD) is None  # nothing was asked: the caller opens its own
        ahead.start()
    ahead.start()
    assert made == []


def test_an_error_of_the_start_is_raised_to_the_taker():
    def fails():
        raise OSError("no space left for the scratch copy")

    with SandboxAhead(fails) as ahead:
        ahead.start()
        with pytest.raises(OSError, match="no space left"):
            ahead.take(GOOD)


def test_a_worker_started_before_its_submission_imports_the_helper_modules_copied_in_after(tmp_path, tier):
    """The worker waits while the submission is copied in (Sandbox.admit), in every tier: then its files are
    the worker's user's to read (a tier that switches uid gives them over) and a helper module rnn.py imports
    is found, though the folder was empty when the worker started."""
    (tmp_path / "helpers.py").write_text("def halve(x):\n    return x / 2\n")
    (tmp_path / "rnn.py").write_text("from helpers import halve\n\n\ndef clip_gradients(grads, bound):\n"
                                     "    return {k: halve(v) for k, v in grads.items()}\n")
    box = Sandbox(None, FAST, functions=FUNCTIONS, packages=PACKAGES, policy=policy_for(tier),
                  tier=None if tier == "portable" else tier)
    with contextlib.closing(box):
        box.start()
        worker = box._process
        assert worker is not None and not any(box.scratch_dir.iterdir())
        box.admit(tmp_path)
        assert box.load_failure is None, box.load_failure
        assert box.call("clip_gradients", {"b": np.ones(2)}, 5.0).value["b"].tolist() == [0.5, 0.5]
        assert box._process is worker


def test_a_refused_submission_admitted_after_the_start_is_the_load_failure_and_stops_the_worker(tmp_path):
    (tmp_path / "notes.txt").write_text("no rnn.py here")
    box = Sandbox(None, FAST, functions=FUNCTIONS, packages=PACKAGES)
    try:
        box.start()
        worker = box._process
        box.admit(tmp_path)
        assert box.load_failure is not None and box.load_failure.kind is FailureKind.refused
        assert "no file named rnn.py" in box.load_failure.message
        assert worker is not None and worker.poll() is not None and box._process is None
    finally:
        box.close()


def test_a_sandbox_is_not_used_before_it_has_its_submission_and_takes_only_one():
    box = Sandbox(None, FAST, functions=FUNCTIONS, packages=PACKAGES)
    with pytest.raises(SandboxError, match="no submission was admitted"), box:
        pass
    box = Sandbox(None, FAST, functions=FUNCTIONS, packages=PACKAGES)
    with contextlib.closing(box):
        box.admit(GOOD)
        with pytest.raises(SandboxError, match="one submission"):
            box.admit(GOOD)
        assert box.load_failure is None
