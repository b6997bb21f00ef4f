"""Grading tasks in parallel on this machine: a few grading processes, each running one sandbox at a time.

Processes, not threads: the grader's own work (Hypothesis drawing and shrinking cases, comparing with the
reference) is Python-bound. Each is a grader.batch.grading_process, which dies with this process however
it dies and can be stopped from here whatever it is doing: a task that runs past the class run's limit per
submission (Limits.task_wall_seconds) has its process killed and becomes that submission's result.

Interruption: Ctrl-C reaches the grading processes too (they share the terminal's process group), and
this process interrupts them as well when it is interrupted itself. Either way a process's task unwinds
through the Sandbox's context manager, which kills the submission's process tree; each process turns only
the first interrupt into KeyboardInterrupt so that a second one cannot cut that cleanup short.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from typing import Any

from grader.batch.grading_process import INTERRUPTED, RESULT, STARTED, GradingProcess
from grader.batch.task import Task, over_time
from grader.diagnostics.beside import usable_cores
from grader.scoring import grader_failed

OnResult = Callable[[Task, dict[str, Any]], None]
OnStart = Callable[[Task], None]
POLL_SECONDS = 0.2  # how often the parent looks at the clock between messages
STOP_SECONDS = 10.0  # how long an interrupted process has to unwind its sandbox before it is killed


def default_jobs() -> int:
    return usable_cores()


def run_local(tasks: Iterable[Task], grade: Callable, jobs: int, on_result: OnResult, on_start: OnStart | None = None,
              *, stop: Callable[[], bool] = lambda: False, clock: Callable[[], float] = time.monotonic) -> None:
    """Grade every task with up to `jobs` processes, calling on_start(task) when a process starts it and
    on_result(task, result dict) when it is done, both in this process.

    A task whose process dies (killed from outside, or out of memory in the grader) is graded again alone
    once the others are done, and one that kills its process again is a result saying the grader failed on it. A task that runs
    past its limit (task.limits.task_wall_seconds() on `clock`) is stopped, and that is its result.
    KeyboardInterrupt (here, or raised in a grading process) stops the processes and propagates. Once
    `stop()` says so (asked between messages), every process is killed and the rest is dropped.
    """
    pool = _Pool(grade, on_result, on_start or (lambda task: None), stop, clock)
    lost = pool.run(list(tasks), jobs)
    for task in lost:
        if pool.run([task], 1) and not stop():
            on_result(task, _died(task))


class _Pool:
    def __init__(self, grade: Callable, on_result: OnResult, on_start: OnStart, stop: Callable[[], bool],
                 clock: Callable[[], float]):
        self.grade, self.on_result, self.on_start, self.stop, self.clock = grade, on_result, on_start, stop, clock
        self.processes: list[GradingProcess] = []
        self.jobs = 1
        self.lost: list[Task] = []

    def run(self, tasks: list[Task], jobs: int) -> list[Task]:
        """Grade `tasks` with up to `jobs` processes; return those whose process died."""
        waiting, self.jobs, self.lost = deque(enumerate(tasks)), jobs, []
        try:
            with _CtrlC() as ctrl_c:
                while waiting or self._busy():
                    if self.stop():
                        while self.processes:
                            self._retire(self.processes[0], kill=True)
                        return []
                    self._hand_out(waiting)
                    interrupted = False
                    for ready in wait([p.replies for p in self._busy()], timeout=POLL_SECONDS):
                        interrupted |= self._read(next(p for p in self.processes if p.replies is ready))
                    self._stop_overdue()
                    if interrupted or ctrl_c.heard:
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            self._interrupt()
            raise
        finally:
            for process in self.processes:
                process.close()
            self.processes = []
        return self.lost

    def _busy(self) -> list[GradingProcess]:
        return [p for p in self.processes if p.task is not None]

    def _hand_out(self, waiting: deque) -> None:
        idle = [p for p in self.processes if p.task is None]
        while waiting and (idle or len(self.processes) < self.jobs):
            if not idle:
                self.processes.append(GradingProcess())
                idle.append(self.processes[-1])
            index, task = waiting.popleft()
            # The cores left to each grading: with as many gradings as cores, every core is busy already, and
            # a grading's diagnostics beside its checks would only take CPU from its neighbours.
            share = max(1, usable_cores() // self.jobs)
            task = dataclasses.replace(task, cores=share if task.cores is None else min(task.cores, share))
            idle.pop().send(task, self.grade, index)

    def _read(self, process: GradingProcess) -> bool:
        """Take the process's message; True if it reports an interrupt."""
        task = process.task
        if task is None:  # only a busy process is read
            return False
        try:
            message = process.receive()
        except EOFError:  # it died: its task is graded again alone
            self._retire(process, kill=True)
            self.lost.append(task)
            return False
        if message[0] == STARTED:
            process.since = self.clock()
            self.on_start(task)
        elif message[0] == RESULT:
            process.task = process.since = None
            self.on_result(task, message[2])
        elif message[0] == INTERRUPTED:  # Ctrl-C reached that process
            self._retire(process)
            return True
        return False

    def _stop_overdue(self) -> None:
        now = self.clock()
        for process in self._busy():
            task = process.task
            if task is None:
                continue
            limit = task.limits.task_wall_seconds() if task.limits is not None else None
            if process.since is not None and limit is not None and now - process.since > limit:
                self._retire(process, kill=True)
                self.on_result(task, over_time(task, limit))

    def _retire(self, process: GradingProcess, kill: bool = False) -> None:
        self.processes.remove(process)
        if kill:
            process.kill()
        else:
            process.close()

    def _interrupt(self) -> None:
        """Make the running processes unwind (killing their sandboxes), then end every process."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        try:
            for process in self.processes:
                process.interrupt()
            for process in self.processes:
                process.close(wait=STOP_SECONDS)
            self.processes = []
        finally:
            signal.signal(signal.SIGINT, previous)


class _CtrlC:
    """Whether Ctrl-C (SIGINT) reached this process while the pool ran, kept apart from the KeyboardInterrupt
    it raises, which can be lost: raised inside a garbage collector's callback (Hypothesis registers one), it
    is printed and dropped (CI saw a class run go on to its end so). The pool stops once either is seen. Only
    where SIGINT already raises KeyboardInterrupt, and from the main thread, the only one that may set it."""

    def __init__(self) -> None:
        self.heard = False
        self._previous: Callable | None = None

    def __enter__(self) -> _CtrlC:
        previous = signal.getsignal(signal.SIGINT)
        if callable(previous) and threading.current_thread() is threading.main_thread():
            def hear(signum: int, frame: Any) -> None:
                self.heard = True
                previous(signum, frame)

            self._previous = previous
            signal.signal(signal.SIGINT, hear)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _died(task: Task) -> dict[str, Any]:
    # The grader's own process, not the submission's sandbox: no grade (a rerun grades it again).
    what = "the grading process died while grading it, twice (killed from outside, or out of memory)"
    return grader_failed(task.name, what, task.required_assignment).to_dict()
