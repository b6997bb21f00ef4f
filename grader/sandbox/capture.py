"""Size-capped capture of the worker's stdout and stderr."""

from __future__ import annotations

import os
import select
import threading

from .protocol import printable


class CappedBuffer:
    """Keeps the first `cap` bytes written and counts the rest.

    Draining continues past the cap so a flooding worker never blocks on a full pipe
    (it would then look like a timeout instead of the flood it is).
    """

    def __init__(self, cap: int):
        self.cap = cap
        self.kept = bytearray()
        self.dropped = 0
        self.lock = threading.Lock()

    def add(self, data: bytes) -> None:
        with self.lock:
            room = self.cap - len(self.kept)
            self.kept += data[:max(room, 0)]
            self.dropped += max(len(data) - max(room, 0), 0)

    def text(self) -> tuple[str, bool]:
        with self.lock:
            text = printable(self.kept.decode("utf-8", errors="replace"))
            if self.dropped:
                text += f"\n[output truncated: {self.dropped} more bytes not kept]\n"
            return text, bool(self.dropped)


class PipeDrain:
    """A daemon thread copying one pipe into a CappedBuffer until end of file.

    ``settle()`` copies what is already in the pipe before returning, so output printed before a reply is
    in the buffer once the reply has arrived (the worker's streams are unbuffered). Reads happen under a
    lock, so nothing can be read by the thread but not yet added when settle() returns; only the thread
    closes the pipe, so it never waits on a closed descriptor. Where pipes cannot be made non-blocking or
    select()ed (Windows), settle() does nothing.
    """

    def __init__(self, fd: int, buffer: CappedBuffer):
        self.fd = fd
        self.buffer = buffer
        self._lock = threading.Lock()
        self._closed = False
        try:
            os.set_blocking(fd, False)
            self._settles = True
        except (OSError, AttributeError):  # Windows before Python 3.12
            self._settles = False
        self.thread = threading.Thread(target=self._run, name="sandbox-output", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        done = False
        while not done:
            if self._settles:
                try:
                    select.select([self.fd], [], [])
                except (OSError, ValueError):  # a platform whose select() takes sockets only
                    with self._lock:
                        self._settles = False
                        os.set_blocking(self.fd, True)
            with self._lock:
                try:
                    done = self._copy()
                except BaseException:
                    done = True
                    raise
                finally:
                    if done:  # under the lock: settle() never reads a descriptor closed (and reused) meanwhile
                        self._closed = True
                        os.close(self.fd)

    def _copy(self) -> bool:
        """Copy what the pipe holds (blocking: one read's worth); True at end of file."""
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return False
            except OSError:
                return True
            if not data:
                return True
            self.buffer.add(data)
            if not self._settles:
                return False

    def settle(self) -> None:
        if self._settles:
            with self._lock:
                if not self._closed:
                    self._copy()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)
