"""Grading tasks in parallel on this machine: a pool of worker processes, each running one sandbox at a time.

Processes, not threads: the grader's own work (Hypothesis drawing and shrinking cases, comparing with the
reference) is Python-bound. The workers start by 'forkserver' (or 'spawn'), never by forking this possibly
threaded process.

Interruption: Ctrl-C reaches the workers too (they share the terminal's process group), and a worker
may also be told to stop by the parent. Either way the worker's grading unwinds through the Sandbox's
context manager, which kills the submission's process tree; each worker turns only the first interrupt
into KeyboardInterrupt so that a second one cannot cut that cleanup short.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from grader.batch.task import Task, run_task
from grader.scoring import not_graded

# Address space of a grading process (the grader's side; the submission's own limit is in Limits), so a
# runaway in the grader on one submission fails that submission instead of the machine.
GRADER_MEMORY_BYTES = 4 * 1024**3

OnResult = Callable[[Task, dict[str, Any]], None]
OnStart = Callable[[Task], None]
POLL_SECONDS = 0.2  # how often the parent looks for tasks the workers started


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_local(tasks: Iterable[Task], grade: Callable, jobs: int, on_result: OnResult, on_start: OnStart | None = None) -> None:
    """Grade every task with up to `jobs` processes, calling on_start(task) when a worker starts it and
    on_result(task, result dict) when it is done, both in this process.

    A worker process that dies (killed from outside, or out of memory in the grader) takes down the pool;
    the tasks it held are then retried alone, and a task that kills its worker again is reported as such.
    KeyboardInterrupt (here, or raised by a worker) stops the workers and propagates.
    """
    on_start = on_start or (lambda task: None)
    suspects = _run_pool(list(tasks), grade, jobs, on_result, on_start)
    for task in suspects:
        if _run_pool([task], grade, 1, on_result, on_start):
            on_result(task, _died(task))


def _run_pool(tasks: list[Task], grade: Callable, jobs: int, on_result: OnResult, on_start: OnStart) -> list[Task]:
    """Run `tasks`; return those lost because a worker process died."""
    if not tasks:
        return []
    context = _context()
    stop = context.Event()
    started = context.SimpleQueue()  # the workers put the index of each task they start
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(jobs, len(tasks))),
        mp_context=context,
        initializer=_start_worker,
        initargs=(stop, started),
    )
    lost = []
    try:
        pending = {pool.submit(_run_in_worker, task, grade, i): task for i, task in enumerate(tasks)}
        while pending:
            done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            while not started.empty():
                on_start(tasks[started.get()])
            interrupted = False
            # Every result that arrived is kept, even when another worker reports an interrupt.
            for future in sorted(done, key=lambda f: tasks.index(pending[f])):
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    lost.append(task)
                    continue
                except KeyboardInterrupt:  # Ctrl-C reached that worker
                    interrupted = True
                    continue
                on_result(task, result)
            if interrupted:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        _stop_workers(pool, stop)
        raise
    pool.shutdown(wait=True)
    return lost


def _stop_workers(pool: ProcessPoolExecutor, stop) -> None:
    """Cancel what has not started and make the running workers unwind (killing their sandboxes)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
    try:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def _died(task: Task) -> dict[str, Any]:
    reason = "the grading process died while grading it (killed from outside, or out of memory), twice"
    return not_graded(task.name, reason, task.assignment).to_dict()


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


# --- in the worker processes ---------------------------------------------------------------------

_interrupted = threading.Event()  # this worker was told to stop: it starts no more tasks
_busy = threading.Event()  # a task is running: an interrupt unwinds it
_started = None  # the queue on which this worker announces each task it starts


def _start_worker(stop, started) -> None:
    global _started
    _started = started
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = GRADER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(GRADER_MEMORY_BYTES, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        # Only the soft limit: the sandbox's worker, a child of this process, sets its own limit.
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.signal(signal.SIGINT, _on_interrupt)
    threading.Thread(target=_watch, args=(stop,), daemon=True).start()


def _on_interrupt(signum, frame) -> None:
    # Only the first interrupt, and only during a task, raises: an idle worker waits for the pool to
    # shut it down (no traceback on the terminal), and a second Ctrl-C cannot cut the sandbox's cleanup short.
    first = not _interrupted.is_set()
    _interrupted.set()
    if first and _busy.is_set():
        raise KeyboardInterrupt


def _watch(stop) -> None:
    # A signal sent to the process may be taken by any thread that does not block it, and then the main
    # thread would notice only when its current blocking call returns: aim at the main thread.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    stop.wait()
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def _run_in_worker(task: Task, grade: Callable, index: int) -> dict[str, Any]:
    if _interrupted.is_set():  # queued before the stop; the parent no longer waits for it
        raise KeyboardInterrupt
    _started.put(index)
    _busy.set()
    try:
        return run_task(task, grade)
    except KeyboardInterrupt:
        _interrupted.set()
        raise
    finally:
        _busy.clear()
