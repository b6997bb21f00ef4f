"""No process a grading started outlives it: adopted, killed and reaped before the grade leaves the grader.

While ``no_leftovers()`` is open the grading process is a child subreaper (Linux's
PR_SET_CHILD_SUBREAPER): a process whose parent ends is re-parented to the grader instead of init, however
it detached (a double fork, a session of its own, a cleared environment), so none can leave the grader's
view. When the block ends, every child the grader did not have when it began is killed and waited for,
round after round, until none is left. A sandbox's PID namespace counts as one such child: the kernel
kills every process in the namespace before its first process can be reaped, so reaping that one means
the whole namespace is gone. The sandboxes kill what they started themselves (a process group, a uid, a
control group, a PID namespace); this is what makes "all of it is dead" a fact the grader has waited for
rather than a sweep that may have missed one.

Where the kernel has no subreaper (not Linux) nothing is adopted, and ``Leftovers`` says so to a caller
that must not go on without it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from grader.errors import GraderError

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
MAX_SECONDS = 30.0  # a process killed with SIGKILL ends within this, unless the kernel itself is stuck


class Leftovers(GraderError):
    """Processes the grading started could not be adopted, or did not end; the message says which."""


def subreaper_available() -> bool:
    return sys.platform.startswith("linux")


@contextmanager
def no_leftovers() -> Iterator[None]:
    """Adopt every orphan of the block; when it ends, kill and reap each child begun inside it."""
    libc = _libc()
    before = set(children())
    was = ctypes.c_int(0)
    libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(was), 0, 0, 0)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise Leftovers(f"the grader could not adopt orphaned processes (prctl: {os.strerror(ctypes.get_errno())})")
    try:
        yield
    finally:
        try:
            end_children_except(before)
        finally:
            libc.prctl(PR_SET_CHILD_SUBREAPER, was.value, 0, 0, 0)


def end_children_except(kept: set[int], max_seconds: float = MAX_SECONDS) -> None:
    """Kill and reap every child of this process not in `kept`, and those their deaths hand over, until
    none is left; Leftovers if some still run after `max_seconds`."""
    deadline = time.monotonic() + max_seconds
    while left := [pid for pid in children() if pid not in kept]:
        if time.monotonic() > deadline:
            raise Leftovers(f"processes {', '.join(map(str, left))} started by the grading did not end")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in left:
            _reap(pid, deadline)


def children() -> list[int]:
    """The live or not yet reaped children of this process."""
    me, found = os.getpid(), []
    for name in os.listdir("/proc"):
        if name.isdigit() and _parent(int(name)) == me:
            found.append(int(name))
    return found


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rfind(b")") + 2:].split()[1])  # the name, in parentheses, may hold spaces and ")"


def _reap(pid: int, deadline: float) -> None:
    while time.monotonic() <= deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped meanwhile (a subprocess.Popen of the grader's own waited for it)
            return
        if done:
            return
        time.sleep(0.002)


def _libc():
    if not subreaper_available():
        raise Leftovers("only Linux lets the grader adopt the processes a submission leaves behind")
    return ctypes.CDLL(None, use_errno=True)
