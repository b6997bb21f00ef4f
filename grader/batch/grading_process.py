"""A grading process: one of the grader's own processes, grading one task at a time, that dies with the grader.

Class runs grade in these (a few at once on this machine, one per task on a Dask worker) so that a task can
be stopped from outside, whatever it is doing, by killing its process, and so that nothing outlives the
grader, however the grader dies (SIGKILL included):

- the process asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG), and its sandboxes die
  with it in turn (bubblewrap's --die-with-parent, the sandbox worker's own parent-death signal);
- it holds only its own ends of its two pipes (started by fork and exec, with no other descriptor), so
  the parent's death is also an end of file on the task pipe, where an idle process waits;
- it claims the scratch folders it makes (grader.sandbox.claims) and, when it starts, sweeps what grading
  processes killed before it left on this machine (grader.sandbox.sweep).

No multiprocessing: its forkserver and resource tracker are processes of their own that a killed grader
leaves behind (each pool worker held the forkserver's "parent alive" pipe), and a Dask worker's process,
being a daemon, may not start multiprocessing children at all.

The pipes carry pickles between two processes of the grader; student code runs only in the sandboxes
these processes start, and nothing it sends is unpickled.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from grader.batch.task import Task, run_task
from grader.sandbox.processes import die_with_parent
from grader.sandbox.sweep import sweep

# Address space of a grading process (the grader's side; the submission's own limit is in Limits), so a
# runaway in the grader on one submission fails that submission instead of the machine.
GRADER_MEMORY_BYTES = 4 * 1024**3
# sys.path is the parent's, so the child imports the same grader (a checkout, a venv, a test's folder).
BOOT = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
        "from grader.batch.grading_process import serve; serve(*map(int, sys.argv[2:]))")
STARTED, RESULT, INTERRUPTED = "started", "result", "interrupted"


class GradingProcess:
    """The parent's handle on one grading process: send it a task, read what it says, stop it."""

    def __init__(self) -> None:
        call_r, self._call_w = os.pipe()
        reply_r, reply_w = os.pipe()
        for fd in (self._call_w, reply_r):
            os.set_inheritable(fd, False)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", BOOT, json.dumps(sys.path), str(os.getpid()), str(call_r), str(reply_w)],
                stdin=subprocess.DEVNULL, pass_fds=(call_r, reply_w), close_fds=True)
        except BaseException:
            for fd in (self._call_w, reply_r):
                os.close(fd)
            raise
        finally:
            for fd in (call_r, reply_w):
                os.close(fd)
        self.calls = Connection(self._call_w, readable=False)
        self.replies = Connection(reply_r, writable=False)
        self.task: Task | None = None  # the task it grades, if any
        self.since: float | None = None  # when it said it started that task (the parent's clock)

    def send(self, task: Task, grade: Callable, index: int) -> None:
        self.task, self.since = task, None
        self.calls.send((index, task, grade))

    def receive(self) -> tuple:
        """The next message: (STARTED, index), (RESULT, index, result dict) or (INTERRUPTED, index); EOFError
        when the process died (killed from outside, or out of memory)."""
        try:
            return self.replies.recv()
        except (OSError, EOFError):
            raise EOFError from None

    def interrupt(self) -> None:
        """Ask it to unwind its task (its sandbox is killed on the way out) and end."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def kill(self) -> None:
        """End it now; its sandboxes die with it, and the folders it claimed are swept."""
        if self.process.poll() is None:
            self.process.kill()
        self.close(wait=None)
        sweep()

    def close(self, wait: float | None = 10.0) -> None:
        """Tell it no more tasks come (an idle process ends at once); wait up to `wait` seconds, then kill."""
        for connection in (self.calls, self.replies):
            connection.close()
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- in the grading process ------------------------------------------------------------------------

_interrupted = threading.Event()  # told to stop: it starts no more tasks
_busy = threading.Event()  # a task is running: an interrupt unwinds it


def serve(parent: int, call_fd: int, reply_fd: int) -> None:
    die_with_parent(parent)
    _cap_memory()
    signal.signal(signal.SIGINT, _on_interrupt)
    sweep()  # what grading processes killed before this one left
    calls, replies = Connection(call_fd, writable=False), Connection(reply_fd, readable=False)
    try:
        while True:
            try:
                index, task, grade = calls.recv()
            except EOFError:  # the parent is done, or dead
                return
            if _interrupted.is_set():  # sent before the stop
                replies.send((INTERRUPTED, index))
                return
            replies.send((STARTED, index))
            try:
                _busy.set()
                result = run_task(task, grade)
            except KeyboardInterrupt:  # the sandbox was killed on the way out
                replies.send((INTERRUPTED, index))
                return
            finally:
                _busy.clear()
            replies.send((RESULT, index, result))
    except (BrokenPipeError, ConnectionResetError):  # the parent stopped listening: nothing left to do
        return


def _cap_memory() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = GRADER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(GRADER_MEMORY_BYTES, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        # Only the soft limit: the sandbox's worker, a child of this process, sets its own limit.
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _on_interrupt(signum: int, frame: Any) -> None:
    # Only the first interrupt, and only during a task, raises: an idle process waits for its pipe to close
    # (no traceback on the terminal), and a second Ctrl-C cannot cut the sandbox's cleanup short.
    first = not _interrupted.is_set()
    _interrupted.set()
    if first and _busy.is_set():
        raise KeyboardInterrupt
