"""Size-capped capture of the worker's stdout and stderr."""

from __future__ import annotations

import os
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
    """A daemon thread copying one pipe into a CappedBuffer until end of file."""

    def __init__(self, fd: int, buffer: CappedBuffer):
        self.fd = fd
        self.buffer = buffer
        self.thread = threading.Thread(target=self._run, name="sandbox-output", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                data = os.read(self.fd, 65536)
                if not data:
                    return
                self.buffer.add(data)
        finally:
            os.close(self.fd)

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)
