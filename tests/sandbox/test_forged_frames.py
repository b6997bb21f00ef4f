"""A reply frame forged by the submission costs the grader no more memory than a real one."""

import tracemalloc

import pytest

from grader.sandbox import CallFailed, FailureKind, Limits

LIMITS = Limits(call_seconds=20.0, total_seconds=60.0, reply_bytes=64 * 1024**2)


@pytest.mark.parametrize("size, words", [("over", "over the limit"), ("under", "more than the 1000000 allowed")])
def test_a_forged_frame_of_millions_of_items_is_malformed_and_costs_little_memory(open_box, size, words):
    """Before the decoder had limits of its own, a 64 MiB frame of empty lists grew the grader by 3.3 GB."""
    box = open_box("forge_huge_frame", limits=LIMITS)
    tracemalloc.start()
    try:
        with pytest.raises(CallFailed) as raised:
            box.call("forward", size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raised.value.failure.kind is FailureKind.malformed
    assert words in raised.value.failure.message
    assert peak < 64 * 1024**2, f"{peak / 1024**2:.0f} MiB"
