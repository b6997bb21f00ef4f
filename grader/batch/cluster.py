"""Grading tasks on an existing Dask distributed cluster (the optional extra: pip install ".[dask]").

Each task carries the submission's bytes, so the workers need not see the class folder; each runs the
sandbox on its worker machine (which therefore needs the grader installed, and bubblewrap for the
strongest isolation). Results come back to this process, which writes every file.

A Dask worker runs tasks in threads, but a grading process runs one sandbox and one Hypothesis run at a
time, so tasks in one worker process take turns; start workers with `--nthreads 1` and as many
processes as there are cores.

On the worker, each task grades in a grading process of its own (grader.batch.grading_process), which dies
with the worker however it dies, and is killed as soon as the task is cancelled (this process interrupted,
or killed: the scheduler then drops its tasks) or runs past its limit per submission. A task whose worker
is lost is graded again by another worker (Dask's retry); the first grading process that worker starts
sweeps what the lost one left on that machine.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any

from grader.batch.errors import BatchError
from grader.batch.local import run_local
from grader.batch.task import Task, failure_text
from grader.scoring import grader_failed

INSTALL_HINT = ('grading on a Dask cluster needs the dask extra: pip install "rnn-grader[dask]" '
                '(or: pip install "dask[distributed]")')

CONNECT_TIMEOUT = "20s"  # a scheduler that does not answer by then is reported as unreachable
_one_at_a_time = threading.Lock()


def run_dask(address: str, tasks: Iterable[Task], grade: Callable, on_result: Callable[[Task, dict[str, Any]], None],
             one_at_a_time: bool = False) -> None:
    """Grade every task on the cluster at `address`, calling on_result(task, result dict) here as each finishes;
    with `one_at_a_time`, each task is sent only when the one before it is done.

    A task whose worker keeps dying (Dask retries it on another) becomes a result saying the grader failed on it.
    KeyboardInterrupt cancels the tasks not yet started and propagates; Dask cannot stop a running task,
    so those finish on their workers, within the sandbox's limits, and their results are dropped.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BatchError(INSTALL_HINT) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
    tasks = list(tasks)
    with client:
        run = secrets.token_hex(8)  # keys unique to this run: other graders may share the cluster
        size = 1 if one_at_a_time else max(1, len(tasks))
        for first in range(0, len(tasks), size):
            batch = tasks[first:first + size]
            # One core each: a cluster's machines may run a worker per core, which cannot be seen from here,
            # and then a grading's diagnostics beside its checks would only take CPU from its neighbours.
            futures = {client.submit(_run_on_worker, dataclasses.replace(task, cores=1), grade,
                                     key=f"rnn-grader-{run}-{first + i}"): task
                       for i, task in enumerate(batch)}
            try:
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        result = future.result()
                    except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: one submission, not the class
                        # The grader's failure, not the submission's: no grade (a rerun grades it again).
                        failure = failure_text(exc, {str(future.key): "<its Dask task>"})
                        result = grader_failed(task.name, f"the Dask workers grading it failed: {failure}",
                                               task.required_assignment).to_dict()
                    if result is not None:  # None: cancelled on its worker, which only this process does
                        on_result(task, result)
            except KeyboardInterrupt:
                client.cancel(list(futures), force=True)
                raise


def _run_on_worker(task: Task, grade: Callable) -> dict[str, Any] | None:
    """The task's result; None when the task was cancelled while it ran (no one waits for it)."""
    cancelled = _cancelled()
    results: list[dict[str, Any]] = []
    with _one_at_a_time:
        run_local([task], grade, 1, lambda task, result: results.append(result), stop=cancelled)
    return results[0] if results else None


def _cancelled() -> Callable[[], bool]:
    """Whether the scheduler has dropped the task this thread runs (its client cancelled it, or is gone)."""
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()

    def cancelled() -> bool:
        state = worker.state.tasks.get(key)
        return state is None or state.state not in ("executing", "long-running", "resumed")

    return cancelled
