"""How many of the full grader's call inputs the student kit also sent (and so holds the answers for).

Both gradings run the reference; every call's function and arguments are digested as they go to the
sandbox. The kit's side is the recording run its builder makes; the full grader's side is a grading
with every check, under the course's case secret. Under per-student cases, ``student_call_inputs`` gives
each student's side, for the share of one student's call inputs another student's grading also sent.
"""

from __future__ import annotations

import dataclasses
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
from grader.scoring import PER_STUDENT

DIGEST_BYTES = 512 * 1024**2


def measure_overlap(assignment: Assignment) -> dict[str, tuple[int, int]]:
    """{"checks": (shared, total), "checks and diagnostics": (shared, total)}: distinct call inputs of the
    full grader (total) and how many of them the kit's recording run also sent (shared)."""
    return {"checks": overlap(assignment, diagnostics=False), "checks and diagnostics": overlap(assignment, diagnostics=True)}


def overlap(assignment: Assignment, *, diagnostics: bool) -> tuple[int, int]:
    """(shared, total) of the checks' call inputs, with the report's diagnostics' too or not."""
    with call_inputs() as kit:
        record_expected_values(assignment, diagnostics=diagnostics)
    with call_inputs() as full, tempfile.TemporaryDirectory(prefix="rnn-grader-overlap-") as tmp:
        write_reference_submission(Path(tmp), assignment)
        grade_submission(Path(tmp), assignment, diagnostics=diagnostics)
    return len(full & kit), len(full)


def student_call_inputs(assignment: Assignment, students: tuple[str, ...]) -> dict[str, set[str]]:
    """student -> the distinct call inputs of grading the reference (checks only) with that student's
    cases, under per-student cases whatever ``assignment``'s grading.yaml says."""
    grading = dataclasses.replace(assignment.grading, cases=PER_STUDENT)
    per_student = dataclasses.replace(assignment, grading=grading)
    found = {}
    with tempfile.TemporaryDirectory(prefix="rnn-grader-overlap-") as tmp:
        write_reference_submission(Path(tmp), assignment)
        for student in students:
            with call_inputs() as sent:
                grade_submission(Path(tmp), per_student.for_student(student), diagnostics=False)
            found[student] = sent
    return found


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
