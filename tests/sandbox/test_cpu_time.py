"""A call's time is judged on the CPU time it gets (grader.sandbox.clock), so load from other processes cannot
time out a correct submission, while a busy loop and a sleep are still stopped.

Starvation is made deterministic by stopping the sandbox's processes (SIGSTOP) in the middle of a call: a
stopped process gets no CPU, however quiet or busy the machine is.
"""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from grader.sandbox import CallFailed, FailureKind, Limits
from grader.sandbox.clock import TimeBudget
from grader.sandbox.processes import TreeClock

from .conftest import CPU_ONLY

STOPPED_SECONDS = 2.5


def starve(box, seconds: float) -> threading.Thread:
    """Stop every process of the sandbox for `seconds`, from another thread, starting shortly."""

    def run():
        time.sleep(0.1)
        pids = box.leftover_processes()
        signal_all(pids, signal.SIGSTOP)
        time.sleep(seconds)
        signal_all(pids, signal.SIGCONT)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def signal_all(pids, number):
    for pid in pids:
        try:
            os.kill(pid, number)
        except ProcessLookupError:  # killed meanwhile, when its call timed out
            pass


def test_a_call_starved_longer_than_its_limit_still_gets_its_cpu_time(open_box):
    box = open_box("cpu_work", Limits(call_seconds=1.0, wall_factor=CPU_ONLY))
    thread = starve(box, STOPPED_SECONDS)
    try:
        assert box.call("forward", 0.3).value == 0.3
    finally:
        thread.join()


def test_the_same_starvation_times_out_a_call_judged_on_the_clock_alone(open_box):
    box = open_box("cpu_work", Limits(call_seconds=1.0, wall_factor=1.0))
    thread = starve(box, STOPPED_SECONDS)
    try:
        with pytest.raises(CallFailed) as raised:
            box.call("forward", 0.3)
    finally:
        thread.join()
    assert raised.value.failure.kind in (FailureKind.timeout, FailureKind.stalled)


@pytest.mark.long
def test_a_busy_loop_is_stopped_when_its_cpu_time_is_used(open_box, rnn_args):
    box = open_box("loop_in_call", Limits(call_seconds=0.2, wall_factor=CPU_ONLY))
    with pytest.raises(CallFailed) as raised:
        box.call("forward", *rnn_args)
    assert raised.value.failure.kind is FailureKind.timeout
    assert "did not finish within 0.2 s" in raised.value.failure.message


def test_a_sleeping_call_is_stopped_by_the_wall_clock_cap(open_box):
    box = open_box("cpu_work", Limits(call_seconds=0.3, wall_factor=3.0))
    with pytest.raises(CallFailed) as raised:
        box.call("init_params", 60)
    failure = raised.value.failure
    assert failure.kind is FailureKind.timeout  # it slept: its own doing, so a class run does not regrade it
    assert "stopped after 0.9 s" in failure.message and "waiting" in failure.message


def test_sandboxes_sharing_a_budget_share_its_seconds(open_box):
    limits = Limits(call_seconds=10.0, total_seconds=0.2, wall_factor=CPU_ONLY)
    budget = TimeBudget(limits)
    first = open_box("cpu_work", limits, budget=budget)
    with pytest.raises(CallFailed) as raised:
        first.call("forward", 2.0)
    assert raised.value.failure.kind is FailureKind.budget
    second = open_box("cpu_work", limits, budget=budget)
    assert second.load_failure is not None and second.load_failure.kind is FailureKind.budget


def test_the_cpu_clock_reads_a_process_whose_threads_come_and_go():
    """A thread ending between listing /proc/<pid>/task and reading its children loses only that thread."""
    code = ("import threading\n"
            "while True:\n"
            "    threads = [threading.Thread(target=lambda: None) for _ in range(8)]\n"
            "    [t.start() for t in threads]; [t.join() for t in threads]\n")
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.3)
        clock = TreeClock()
        readings = [clock.seconds(process.pid) for _ in range(3000)]
    finally:
        process.kill()
        process.wait()
    assert None not in readings


@pytest.mark.long
def test_cpu_time_burnt_in_children_the_kernel_reaps_is_counted(open_box):
    """The submission ignores SIGCHLD and burns 3 s of CPU in children while its worker sleeps: the call is
    stopped once they have used its 1 s of CPU time, a timeout of its own (before, it ran on to 3 s, and with
    more children to its wall-clock cap, judged starved)."""
    box = open_box("reaped_burners", Limits(call_seconds=1.0, wall_factor=30.0))
    with pytest.raises(CallFailed) as raised:
        box.call("forward", 12, 0.25)
    failure = raised.value.failure
    assert failure.kind is FailureKind.timeout and "did not finish within 1 s" in failure.message
    assert 0.9 <= box.budget.charged <= 2.0
