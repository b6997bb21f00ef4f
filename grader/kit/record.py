"""Record the expected values the kit's public checks need, by grading the reference itself."""

from __future__ import annotations

import importlib
import inspect
import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.grading import grade_submission
from grader.oracle import RecordingOracle
from grader.secret import KIT_SALT


class RecordingFailed(Exception):
    """The reference did not pass the public checks, so its outputs cannot serve as expected values."""


MODEL = "reference_model"  # the reference's module, beside the rnn.py that binds it to the conventions


def write_reference_submission(folder: Path, assignment: Assignment) -> Path:
    """Write the reference, bound to the assignment's conventions, as a submission in ``folder``.

    rnn.py builds the reference model (reference/rnn.py, copied beside it) with the course's conventions
    and exposes its methods as the contract's functions, so the reference grades like any submission.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(inspect.getfile(importlib.import_module("reference.rnn")), folder / f"{MODEL}.py")
    lines = [
        '"""The reference under this course\'s conventions, written by the grader to grade it as a submission."""',
        "",
        f"from {MODEL} import RNN",
        "",
        f"_COURSE = RNN(**{assignment.conventions.reference_options()!r})",
        *(f"{name} = _COURSE.{name}" for name in assignment.functions),
    ]
    (folder / "rnn.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def record_expected_values(assignment: Assignment, diagnostics: bool = True) -> dict[str, Any]:
    """Grade the reference as a submission (public checks and the report's diagnostics) while recording.

    The reference passes every check, so Hypothesis never shrinks: what is recorded is exactly the
    sequence of cases each public check draws, which is the sequence a student's run draws too, up to
    its first failure.
    """
    with tempfile.TemporaryDirectory(prefix="rnn-grader-kit-") as tmp:
        write_reference_submission(Path(tmp), assignment)
        oracle = RecordingOracle(assignment)
        result = grade_submission(Path(tmp), assignment, include_hidden=False, oracle=oracle,
                                  diagnostics=diagnostics, case_salt=KIT_SALT)
    failed = [c.name for c in result.checks if c.score < c.max_score]
    if failed or result.load_failure:
        raise RecordingFailed(
            f"the reference fails public checks ({', '.join(failed) or result.load_failure}); fix that first"
        )
    return oracle.recorded
