"""The capture of a worker's output: settle() copies what the pipe holds, and never strands the drain thread."""

import os

import pytest

from grader.sandbox.capture import CappedBuffer, PipeDrain


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_settle_copies_what_was_written_and_the_drain_still_ends_at_end_of_file():
    for _ in range(300):  # the end of file lands at any moment of the drain thread's loop
        read, write = os.pipe()
        buffer = CappedBuffer(1000)
        drain = PipeDrain(read, buffer)
        os.write(write, b"printed before the reply\n")
        os.close(write)
        drain.settle()
        assert buffer.text() == ("printed before the reply\n", False)
        drain.join(5.0)
        assert not drain.thread.is_alive()
