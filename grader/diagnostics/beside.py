"""The report's diagnostics beside the checks: a second stream of work for a second core.

The checks keep about one core busy (the grader and the checks' worker take turns); the report's diagnostics
(the training run above all) are independent of them: a sandbox, time budget and limits of their own. With
two cores to use they run in a thread beside the visible checks; with one (``usable_cores``, or a class run
grading as many submissions at once as it has cores) they run after them, in the grading's own thread.
Either way they make the same calls in a fresh sandbox, so the report is the same, and they end before the
hidden checks' sandbox opens: the report shows the submission's own output to the student, so no sandbox of
the report's may run while a hidden call could show the submission something.

Two sandboxes side by side do not change a call's verdict. Each call is judged on its own sandbox's CPU time
(its control group's count, grader.sandbox.clock), and the budgets are separate, so neither sandbox's work
counts against the other; "stalled" needs a call to get less than 1/wall_factor of a core, and each stream is
a grader thread and a worker taking turns, so on two cores each worker has a core to itself: only other load
can starve it, as before. That is also why a class run that keeps every core busy runs them after the checks
(grader.batch.local gives each grading the cores over the gradings at once).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from grader.sandbox import TimeBudget

T = TypeVar("T")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cores(cgroup_root: Path = CGROUP_ROOT) -> int:
    """The cores this process may use: its CPU affinity, within its control group's CPU quota (a container
    started with --cpus 1 on a larger machine still has every core in its affinity)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota(cgroup_root, _own_groups())
    return cores if quota is None else max(1, min(cores, math.floor(quota)))


def cpu_quota(root: Path, groups: dict[str, str]) -> float | None:
    """The fewest CPUs a quota allows in ``groups`` (hierarchy: the group's path, as /proc/self/cgroup gives
    them) or any group above them, under ``root``: cgroup v2's cpu.max, v1's cpu.cfs_quota_us over
    cpu.cfs_period_us; None where none is set or none can be read."""
    found = []
    for hierarchy, path, quota_file in (("", "", "cpu.max"), ("cpu", "cpu", "cpu.cfs_quota_us")):
        if hierarchy not in groups:
            continue
        mount = root / path
        folder = mount / groups[hierarchy].lstrip("/")
        for level in (folder, *(above for above in folder.parents if above.is_relative_to(mount))):
            try:
                if quota_file == "cpu.max":
                    quota, period = (level / quota_file).read_text().split()
                else:
                    quota = (level / quota_file).read_text().strip()
                    period = (level / "cpu.cfs_period_us").read_text().strip()
                if quota not in ("max", "-1"):
                    found.append(int(quota) / int(period))
            except (OSError, ValueError):
                continue
    return min(found, default=None)


def _own_groups() -> dict[str, str]:
    """This process's control group in each hierarchy it names: "" for v2's unified one, else the v1
    controllers (each line of /proc/self/cgroup is id:controllers:path)."""
    groups = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


class Beside(Generic[T]):
    """One piece of work, ``work()`` on a time budget of its own: run in a thread from start() when ``beside``,
    else on result() in the caller's thread.

    The caller waits for it however the grading ends: leaving the ``with`` block on an exception spends the
    work's budget (TimeBudget.stop), so its running sandbox call stops within the channel's poll and no call
    starts after it, then waits for the thread, which closes its sandbox on the way out. So no process of
    the submission's outlives the grading.
    """

    def __init__(self, beside: bool):
        self.beside = beside
        self._work: Callable[[], T] | None = None
        self._budget: TimeBudget | None = None
        self._thread: threading.Thread | None = None
        self._value: T | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Beside[T]:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if error is not None:
            self.stop()

    @property
    def started(self) -> bool:
        return self._work is not None

    def start(self, work: Callable[[], T], budget: TimeBudget) -> None:
        """Run ``work()``, whose sandbox calls go on ``budget`` (stop() spends it): from now on in a thread when
        beside, else when result() is asked."""
        if self._work is not None:
            raise RuntimeError("the work has started already")
        self._work, self._budget = work, budget
        if self.beside:
            self._thread = threading.Thread(target=self._run, args=(work,), name="report-diagnostics")
            self._thread.start()

    def result(self) -> T:
        """The work's value, once it is done (it runs now if it is not beside); its exception, if it raised."""
        if self._work is None:
            raise RuntimeError("the work was never started")
        if self._thread is None:
            return self._work()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set by _run, which ended without an error

    def stop(self) -> None:
        """Stop the work as soon as it can be stopped and wait until it has cleaned up."""
        if self._budget is not None:
            self._budget.stop()
        if self._thread is not None:
            self._thread.join()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the grading's thread by result()
            self._error = exc
