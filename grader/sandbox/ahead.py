"""A sandbox whose worker starts ahead of its use, so that its start-up (the interpreter, numpy: about a tenth of
a second of CPU) overlaps other work of the grading instead of coming after it.

Only the start-up runs ahead (Sandbox.start), in a sandbox made without its submission: the submission is
copied in when its user takes it (Sandbox.admit), and no code of the submission's runs in the worker before
its user first uses it. That lets a command line start workers before it has read the submission, and a
grading start the hidden checks' worker while the sandboxes whose output the student reads still run
(grader.grading).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from .sandbox import Sandbox


class SandboxAhead:
    """A sandbox made by ``open_box`` and started once some thread calls start(); its user take()s it (it is then
    theirs to close), and close() closes it if no one did. After close() or take(), start() does nothing, so a
    thread that asks late cannot leave a worker behind.

    The sandbox is made and started in a thread of this object's own, which lives until close(): the kernel
    kills a worker when the *thread* that started it ends (the parent-death signal the worker sets, and bwrap's
    --die-with-parent, follow the thread, not the process), so a short-lived thread that asks for the start (the
    report's, as it ends) must not start the worker itself. Use it as a context manager, or call close().
    """

    def __init__(self, open_box: Callable[[], Sandbox]):
        self._open = open_box
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()  # the start is over, done or failed
        self._released = threading.Event()  # the worker no longer needs its starting thread
        self._box: Sandbox | None = None
        self._error: BaseException | None = None
        self._done = False  # taken or closed

    def __enter__(self) -> SandboxAhead:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        """Have the sandbox made and its worker started, unless that was asked already or it is too late."""
        with self._lock:
            if self._thread is not None or self._done:
                return
            self._thread = threading.Thread(target=self._start_and_hold, name="sandbox-ahead", daemon=True)
            self._thread.start()

    def take(self, submission: Path) -> Sandbox | None:
        """The sandbox started ahead, now the caller's, with ``submission`` (a folder) admitted, once its start
        is over; None if none was asked for, or it was taken already. An error its start raised is raised here."""
        with self._lock:
            self._done = True
            if self._thread is None:
                return None
        self._started.wait()
        box, self._box = self._box, None
        if self._error is not None:
            raise self._error
        if box is not None:
            try:
                box.admit(submission)
            except BaseException:
                box.close()
                raise
        return box

    def close(self) -> None:
        """Close the sandbox if no one took it, and end the thread that started it (the sandbox, if taken, must
        be closed by then)."""
        with self._lock:
            self._done = True
            thread = self._thread
        if thread is None:
            return
        self._started.wait()
        box, self._box = self._box, None
        try:
            if box is not None:
                box.close()
        finally:
            self._released.set()
            thread.join()

    def _start_and_hold(self) -> None:
        try:
            box = self._open()
            try:
                box.start()
            except BaseException:
                box.close()
                raise
            self._box = box
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that takes the sandbox
            self._error = exc
        finally:
            self._started.set()
        self._released.wait()
