"""The grader's end of a worker's channel: write a request, read reply bytes, both within an allowance.

An allowance is anything with ``left() -> float``, the seconds until the call may be stopped (0: now); it is
asked again and again while the channel waits, so it may move on (grader.sandbox.clock.Allowance does, while
the sandbox is starved of CPU).

Two implementations, chosen by the tier: `SelectChannel` waits on the pipes with select() (POSIX), and
`ThreadChannel` gives each direction a thread (pipes cannot be select()ed on Windows), for the kit's
portable tier.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable
from typing import Protocol

POLL_SECONDS = 0.05
# How long a reader waits, once the worker is gone, for what it wrote before it died to come in, when no end of
# file comes (a child the submission forked holds the pipe open).
EXIT_GRACE_SECONDS = 1.0


class ChannelClosed(Exception):
    """The worker closed the channel or exited without replying."""


class ChannelTimeout(Exception):
    pass


class Allowance(Protocol):
    def left(self) -> float: ...


class SelectChannel:
    def __init__(self, call_fd: int, reply_fd: int):
        self.call_fd, self.reply_fd = call_fd, reply_fd
        os.set_blocking(call_fd, False)

    def write(self, data: bytes, allowance: Allowance) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.call_fd, view):]
                continue
            except BlockingIOError:
                pass
            except BrokenPipeError:
                raise ChannelClosed() from None
            left = allowance.left()
            if left <= 0:
                raise ChannelTimeout()
            select.select([], [self.call_fd], [], min(POLL_SECONDS, left))

    def read(self, n: int, allowance: Allowance, exited: Callable[[], bool]) -> bytes:
        chunks, missing = [], n
        while missing:
            ready, _, _ = select.select([self.reply_fd], [], [], min(POLL_SECONDS, allowance.left()))
            if ready:
                chunk = os.read(self.reply_fd, min(missing, 1 << 20))
                if not chunk:
                    raise ChannelClosed()
                chunks.append(chunk)
                missing -= len(chunk)
            elif exited():
                # Children the submission forked may hold the channel open after the worker itself
                # died; the exit is what counts.
                raise ChannelClosed()
            elif allowance.left() <= 0:
                raise ChannelTimeout()
        return b"".join(chunks)

    def pending(self) -> bytes:
        """Up to 64 bytes already waiting after a reply (a forged frame), or b""."""
        ready, _, _ = select.select([self.reply_fd], [], [], 0)
        return os.read(self.reply_fd, 64) if ready else b""

    def close(self) -> None:
        os.close(self.call_fd)
        os.close(self.reply_fd)


class ThreadChannel:
    """A reader thread owns the reply pipe until end of file; each write runs in a thread of its own, so a
    worker that stops reading costs its allowance, never a hang."""

    def __init__(self, call_fd: int, reply_fd: int):
        self.call_fd, self.reply_fd = call_fd, reply_fd
        self._buffer = bytearray()
        self._eof = False
        self._ready = threading.Condition()
        threading.Thread(target=self._drain, name="sandbox-reply", daemon=True).start()

    def _drain(self) -> None:
        try:
            while True:
                try:
                    chunk = os.read(self.reply_fd, 1 << 20)
                except OSError:
                    chunk = b""
                with self._ready:
                    if not chunk:
                        self._eof = True
                        self._ready.notify_all()
                        return
                    self._buffer += chunk
                    self._ready.notify_all()
        finally:
            os.close(self.reply_fd)

    def write(self, data: bytes, allowance: Allowance) -> None:
        outcome: list[BaseException | None] = []

        def send():
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.call_fd, view):]
            except OSError as exc:
                outcome.append(exc)
            else:
                outcome.append(None)

        thread = threading.Thread(target=send, name="sandbox-call", daemon=True)
        thread.start()
        while thread.is_alive() and (left := allowance.left()) > 0:
            thread.join(min(POLL_SECONDS, left))
        if not outcome:
            raise ChannelTimeout()  # the kill that follows unblocks the thread
        if outcome[0] is not None:
            raise ChannelClosed()

    def read(self, n: int, allowance: Allowance, exited: Callable[[], bool]) -> bytes:
        with self._ready:
            while len(self._buffer) < n:
                if self._eof:
                    raise ChannelClosed()
                if exited():
                    # The replies it sent before it died (a batch's, Sandbox.call_many) may still be on their way
                    # through the reader thread: they count, as SelectChannel reads them before it looks at the exit.
                    if not self._ready.wait_for(lambda: self._eof or len(self._buffer) >= n, EXIT_GRACE_SECONDS):
                        raise ChannelClosed()
                    continue
                left = allowance.left()
                if left <= 0:
                    raise ChannelTimeout()
                self._ready.wait(min(POLL_SECONDS, left))
            data = bytes(self._buffer[:n])
            del self._buffer[:n]
            return data

    def pending(self) -> bytes:
        with self._ready:
            return bytes(self._buffer[:64])

    def close(self) -> None:
        os.close(self.call_fd)  # the reply pipe is closed by its reader at end of file
