"""The time rules of grader.sandbox.clock, on a clock the test moves by hand."""

import pytest

from grader.sandbox import clock
from grader.sandbox.clock import TimeBudget
from grader.sandbox.limits import Limits


class Clocks:
    """The wall clock (monotonic) and the sandbox's CPU clock, both set by the test; counts CPU looks."""

    def __init__(self):
        self.wall = 100.0
        self.cpu_time: float | None = 0.0
        self.looks = 0

    def cpu(self):
        self.looks += 1
        return self.cpu_time


@pytest.fixture
def clocks(monkeypatch):
    clocks = Clocks()
    monkeypatch.setattr(clock.time, "monotonic", lambda: clocks.wall)
    return clocks


def allowance(clocks, limits=Limits(call_seconds=10.0, total_seconds=100.0, wall_factor=4.0)):
    budget = TimeBudget(limits)
    return budget, budget.allowance(limits.call_seconds, clocks.cpu, clocks.cpu_time)


def test_within_the_limit_the_cpu_clock_is_not_read(clocks):
    _, call = allowance(clocks)
    clocks.wall += 9.0
    assert call.left() == pytest.approx(1.0)
    assert clocks.looks == 0


def test_past_the_limit_a_call_that_has_used_its_cpu_time_is_stopped(clocks):
    _, call = allowance(clocks)
    clocks.wall += 10.0
    clocks.cpu_time = 10.0
    assert call.left() == 0.0 and not call.starved


def test_past_the_limit_a_starved_call_runs_on_for_the_cpu_time_it_still_has(clocks):
    _, call = allowance(clocks)
    clocks.wall += 10.0
    clocks.cpu_time = 3.0
    assert call.left() == pytest.approx(7.0)
    clocks.wall += 7.0
    clocks.cpu_time = 10.0
    assert call.left() == 0.0


def test_a_call_that_waits_is_stopped_at_the_wall_clock_cap_as_idle(clocks):
    _, call = allowance(clocks)
    clocks.wall += 39.0
    assert call.left() == pytest.approx(1.0)  # no CPU used: the cap, 4 x 10 s, is what is left
    clocks.wall += 1.0
    assert call.left() == 0.0 and call.idle and not call.starved


def test_a_call_that_got_some_cpu_but_too_little_is_stopped_at_the_cap_as_starved(clocks):
    _, call = allowance(clocks)
    clocks.wall += 40.0
    clocks.cpu_time = 5.0  # an eighth of a CPU: other load took the rest
    assert call.left() == 0.0 and call.starved and not call.idle


def test_a_failed_look_at_the_cpu_clock_keeps_the_last_reading(clocks):
    _, call = allowance(clocks)
    clocks.wall += 10.0
    clocks.cpu_time = 3.0
    assert call.left() == pytest.approx(7.0)
    clocks.wall += 7.0
    clocks.cpu_time = None  # a thread ended while /proc was read
    assert call.left() == pytest.approx(7.0)  # still 3 s used of 10: it runs on, towards the cap


def test_without_a_cpu_clock_the_limit_is_the_wall_clocks(clocks):
    clocks.cpu_time = None
    _, call = allowance(clocks)
    clocks.wall += 10.0
    assert call.left() == 0.0 and not call.starved


def test_the_budget_is_charged_the_cpu_time_of_a_starved_call_and_the_wall_time_of_a_fast_one(clocks):
    budget, call = allowance(clocks)
    clocks.wall += 12.0
    clocks.cpu_time = 2.0
    assert budget.charge(call) == 2.0  # the reading the next call starts from
    assert budget.charged == 2.0 and budget.wall == 12.0
    call = budget.allowance(10.0, clocks.cpu, 2.0)
    clocks.wall += 1.0
    clocks.cpu_time = 4.0  # more CPU than wall time: threads
    budget.charge(call)
    assert budget.charged == 3.0


def test_the_budget_also_runs_out_on_the_clock(clocks):
    limits = Limits(call_seconds=10.0, total_seconds=100.0, wall_factor=4.0)
    budget = TimeBudget(limits)
    budget.wall = 380.0  # 20 s of wall clock left: 5 s in CPU terms
    call = budget.allowance(10.0, clocks.cpu, 0.0)
    assert call.limit == pytest.approx(5.0) and call.budget_first


def test_a_stopped_budget_stops_its_running_call_and_has_nothing_left(clocks):
    budget, call = allowance(clocks)
    clocks.wall += 1.0
    assert call.left() == pytest.approx(9.0)
    budget.stop()  # from another thread: the grading that owns the sandbox is given up
    assert call.left() == 0.0 and budget.remaining() == 0.0
    assert budget.allowance(10.0, clocks.cpu, 0.0).left() == 0.0
