"""How many of the full grader's call inputs the student kit also sent (and so holds the answers for).

Both gradings run the reference; every call's function and arguments are digested as they go to the
sandbox. The kit's side is the recording run its builder makes; the full grader's side is a grading
with every check, under the course's case secret.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from grader.assignment import Assignment
from grader.grading import grade_submission
from grader.kit.record import record_expected_values, write_reference_submission
from grader.sandbox import protocol
from grader.sandbox.sandbox import Sandbox

DIGEST_BYTES = 512 * 1024**2


def measure_overlap(assignment: Assignment) -> dict[str, tuple[int, int]]:
    """{"checks": (shared, total), "checks and diagnostics": (shared, total)}: distinct call inputs of the
    full grader (total) and how many of them the kit's recording run also sent (shared)."""
    figures = {}
    for label, diagnostics in (("checks", False), ("checks and diagnostics", True)):
        with call_inputs() as kit:
            record_expected_values(assignment, diagnostics=diagnostics)
        with call_inputs() as full, tempfile.TemporaryDirectory(prefix="rnn-grader-overlap-") as tmp:
            write_reference_submission(Path(tmp), assignment)
            grade_submission(Path(tmp), assignment, diagnostics=diagnostics)
        figures[label] = (len(full & kit), len(full))
    return figures


@contextmanager
def call_inputs() -> Iterator[set[str]]:
    """The digests of every call's function and arguments made to any sandbox inside the block."""
    seen: set[str] = set()
    original = Sandbox.call

    def call(box, function, *args, **options):
        frame = protocol.encode({"function": function, "args": list(args)}, DIGEST_BYTES, allow_rng=True)
        seen.add(hashlib.sha256(frame).hexdigest())
        return original(box, function, *args, **options)

    with mock.patch.object(Sandbox, "call", call):
        yield seen
