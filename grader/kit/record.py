"""Record the expected values the kit's public checks need, by grading the reference itself."""

from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.grading import grade_submission
from grader.oracle import RecordingOracle


class RecordingFailed(Exception):
    """The reference did not pass the public checks, so its outputs cannot serve as expected values."""


def record_expected_values(assignment: Assignment) -> dict[str, Any]:
    """Grade the reference as a submission (public checks and the report's diagnostics) while recording.

    The reference passes every check, so Hypothesis never shrinks: what is recorded is exactly the
    sequence of cases each public check draws, which is the sequence a student's run draws too, up to
    its first failure.
    """
    source = Path(importlib.import_module("reference.rnn").__file__)
    with tempfile.TemporaryDirectory(prefix="rnn-grader-kit-") as tmp:
        shutil.copyfile(source, Path(tmp) / "rnn.py")
        oracle = RecordingOracle(assignment)
        result = grade_submission(Path(tmp), assignment, include_hidden=False, oracle=oracle)
    failed = [c.name for c in result.checks if c.score < c.max_score]
    if failed or result.load_failure:
        raise RecordingFailed(
            f"the reference fails public checks ({', '.join(failed) or result.load_failure}); fix that first"
        )
    return oracle.recorded
