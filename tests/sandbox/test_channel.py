import os

import pytest

from grader.sandbox import channel
from grader.sandbox.channel import ChannelClosed, ThreadChannel


class Unlimited:
    def left(self) -> float:
        return 60.0


@pytest.fixture
def pipe_channel():
    """A ThreadChannel reading a pipe whose write end the test holds (as a worker, or a child it forked, does)."""
    read_end, write_end = os.pipe()
    call_read, call_write = os.pipe()
    made = ThreadChannel(call_write, read_end)
    yield made, write_end
    for fd in (write_end, call_read):
        try:
            os.close(fd)
        except OSError:
            pass
    made.close()


def test_what_the_worker_sent_before_it_died_is_read_though_the_exit_is_seen_first(pipe_channel):
    made, write_end = pipe_channel
    with made._ready:  # the reader thread cannot take the bytes in before read() waits for them
        os.write(write_end, b"reply")
        assert made.read(5, Unlimited(), exited=lambda: True) == b"reply"


def test_a_dead_worker_with_nothing_more_to_read_closes_the_channel(pipe_channel, monkeypatch):
    made, write_end = pipe_channel
    monkeypatch.setattr(channel, "EXIT_GRACE_SECONDS", 0.0)  # a forked child holds the pipe: no end of file
    with pytest.raises(ChannelClosed):
        made.read(5, Unlimited(), exited=lambda: True)
    os.close(write_end)  # the end of file: closed without waiting for the grace
    monkeypatch.setattr(channel, "EXIT_GRACE_SECONDS", 3600.0)
    with pytest.raises(ChannelClosed):
        made.read(5, Unlimited(), exited=lambda: True)
