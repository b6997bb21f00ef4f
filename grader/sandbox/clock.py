"""How long a submission's calls may run, judged on the CPU time they get rather than on the clock alone.

On a quiet machine a call's CPU time and its wall-clock time are the same. On a loaded one (a class graded in
parallel, a shared Gradescope host) a slow but correct submission gets less CPU per second, and a wall-clock
limit would time it out because of its neighbours. So a call with a limit of L seconds is stopped once it has
had L seconds of wall-clock time *and* L seconds of CPU time, or ``wall_factor * L`` seconds of wall-clock time
whatever it used: a call that sleeps or waits for input uses no CPU, and only that second bound stops it. The
submission's whole budget is charged the same way: min(wall, CPU) per call, with ``wall_factor`` times the
budget of wall-clock time in all.

The CPU time is the sandbox's: every process it started, by the count of its control group (grader.sandbox.
cgroups), which keeps the time of children the kernel reaps; without one, the worker's process tree in /proc
(grader.sandbox.processes.TreeClock), looked at every SAMPLE_SECONDS while a call runs so that a child reaped
by the kernel loses at most what it used since the last look. Where it cannot be measured (the kit's portable
tier on macOS or Windows), the limits are plain wall-clock ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .limits import Limits

CpuClock = Callable[[], float | None]
MIN_STEP = 0.05  # never look again sooner: each look reads /proc
SAMPLE_SECONDS = 0.1  # how often a clock read from /proc is looked at while a call runs
# A call stopped by the cap that got less than this share of a CPU was waiting (sleep, input, a pipe), not
# starved: starved by more than 1 / IDLE_SHARE times the load a core can take, it could not finish anyway.
IDLE_SHARE = 0.05


class TimeBudget:
    """What one submission has used of its time, over every call in every sandbox it is graded in."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.charged = 0.0  # min(wall, CPU) of each call, against total_seconds
        self.wall = 0.0  # against wall_factor * total_seconds
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Spend the budget now, from any thread: the call running on it stops within the channel's poll
        (grader.sandbox.channel.POLL_SECONDS) and none starts after it; for a grading given up while its
        sandbox is busy in another thread, which then closes it as usual."""
        self._stopped.set()

    def remaining(self) -> float:
        """Seconds of the budget left, in the CPU-time sense (the wall-clock allowance scaled back)."""
        if self._stopped.is_set():
            return 0.0
        return min(self.limits.total_seconds - self.charged,
                   (self.limits.wall_factor * self.limits.total_seconds - self.wall) / self.limits.wall_factor)

    def allowance(self, seconds: float, cpu: CpuClock, cpu_started: float | None,
                  sample_every: float | None = None) -> Allowance:
        """The allowance of one call whose own limit is `seconds`, started now; `cpu_started` is the sandbox's
        CPU clock at its start (the previous call's last reading: the worker is idle between calls);
        `sample_every`: look at the clock that often while the call runs (a clock that forgets, see above)."""
        remaining = self.remaining()
        return Allowance(min(seconds, remaining), seconds, remaining < seconds, self.limits.wall_factor, cpu,
                         cpu_started, sample_every, self._stopped.is_set)

    def charge(self, allowance: Allowance) -> float | None:
        """Charge the call's time to the budget; return the CPU clock's reading now."""
        wall, cpu = allowance.used()
        self.wall += wall
        self.charged += wall if cpu is None else min(wall, cpu)
        return allowance.cpu_reading


class Allowance:
    """One call's time: `limit` seconds of wall-clock and of CPU time, within `factor * limit` of wall clock.

    The channel asks ``left()`` while it waits; only once the wall-clock limit has passed does it cost a look
    at the CPU clock, or every `sample_every` seconds for a clock that must be looked at while it runs.
    """

    def __init__(self, limit: float, seconds: float, budget_first: bool, factor: float, cpu: CpuClock,
                 cpu_started: float | None, sample_every: float | None = None,
                 stopped: Callable[[], bool] = lambda: False):
        self.limit = limit
        self.seconds = seconds  # the call's own limit, for messages
        self.budget_first = budget_first  # the submission's remaining budget, not the call's limit, sets it
        self._cpu = cpu
        self._stopped = stopped  # the budget was stopped (TimeBudget.stop): stop now
        self._started = time.monotonic()
        self._cpu_started = self.cpu_reading = cpu_started
        self._until = self._started + limit
        self._cap = self._started + factor * limit
        self._sample_every = sample_every
        self._next_sample = self._started + (sample_every or 0.0)
        self.stopped_by_cap = False  # stopped by the wall-clock cap with CPU time to spare
        self.idle = False  # ... and it had used almost none of the CPU: it was waiting, not starved

    def left(self) -> float:
        """Seconds until the call may be stopped; 0 when it is to be stopped now."""
        if self._stopped():
            return 0.0
        now = time.monotonic()
        if self._sample_every is not None and now >= self._next_sample and self._cpu_started is not None:
            self._next_sample = now + self._sample_every
            self._cpu_used()  # the reading is kept: the clock's own record of children it saw
        if now < self._until:
            return self._until - now
        used = self._cpu_used()
        if used is None or used >= self.limit:
            return 0.0
        if now >= self._cap:
            self.stopped_by_cap = True
            self.idle = used < IDLE_SHARE * (now - self._started)
            return 0.0
        self._until = min(self._cap, now + max(self.limit - used, MIN_STEP))
        return self._until - now

    def used(self) -> tuple[float, float | None]:
        """(wall-clock seconds, CPU seconds or None) since the call started."""
        return time.monotonic() - self._started, self._cpu_used()

    @property
    def starved(self) -> bool:
        """Stopped by the cap while it got some CPU, too little: the load of other processes may be the cause."""
        return self.stopped_by_cap and not self.idle

    def _cpu_used(self) -> float | None:
        if self._cpu_started is None:
            return None
        now = self._cpu()
        if now is not None:  # a look that failed (a thread ending as /proc was read) keeps the last one
            self.cpu_reading = now
        # Without a control group, a child that left the tree takes its CPU time with it (processes.TreeClock):
        # the sum is then an underestimate, which only lets the call run on to the wall-clock cap.
        reading = self._cpu_started if self.cpu_reading is None else self.cpu_reading
        return max(0.0, reading - self._cpu_started)
