"""The report's diagnostics beside the checks: a second stream of work for a second core.

The checks keep about one core busy (the grader and the checks' worker take turns); the report's diagnostics
(the training run above all) are independent of them: a sandbox, time budget and limits of their own. With
two cores to use they run in a thread beside the checks; with one (``usable_cores``, or a class run grading
as many submissions at once as it has cores) they run after the checks, in the grading's own thread.
Either way they make the same calls in a fresh sandbox, so the report is the same.

A call's time is judged on its own sandbox's CPU time (grader.sandbox.clock), so the two sandboxes do not
count against each other; the thread adds one runnable worker, on a core of its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from grader.sandbox import TimeBudget

T = TypeVar("T")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Beside(Generic[T]):
    """One piece of work, ``work(budget)``: run in a thread from start() when ``beside``, else on result() in
    the caller's thread.

    The caller waits for it however the grading ends: leaving the ``with`` block on an exception spends the
    work's budget (TimeBudget.stop), so its running sandbox call stops within the channel's poll and no call
    starts after it, then waits for the thread, which closes its sandbox on the way out. So no process of
    the submission's outlives the grading.
    """

    def __init__(self, beside: bool):
        self.beside = beside
        self._work: Callable[[TimeBudget], T] | None = None
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

    def start(self, work: Callable[[TimeBudget], T], budget: TimeBudget) -> None:
        """Run ``work(budget)``: from now on in a thread when beside, else when result() is asked."""
        if self._work is not None:
            raise RuntimeError("the work has started already")
        self._work, self._budget = work, budget
        if self.beside:
            self._thread = threading.Thread(target=self._run, args=(work, budget), name="report-diagnostics")
            self._thread.start()

    def result(self) -> T:
        """The work's value, once it is done (it runs now if it is not beside); its exception, if it raised."""
        if self._work is None or self._budget is None:
            raise RuntimeError("the work was never started")
        if self._thread is None:
            return self._work(self._budget)
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

    def _run(self, work: Callable[[TimeBudget], T], budget: TimeBudget) -> None:
        try:
            self._value = work(budget)
        except BaseException as exc:  # noqa: BLE001 - handed to the grading's thread by result()
            self._error = exc
