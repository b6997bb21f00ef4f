"""The class output folder: each submission's files and cache key, and the class-level files.

DIR/<name>/results.json and report.html are written by grader.outputs (atomically, refusing to overwrite
anything that is not the same submission's output). DIR/<name>/.grading-key is written after them, also
atomically, so a key is only ever found beside the complete results it describes: an interrupted run
leaves either no key (the submission is graded again) or a valid one. DIR/<name>/.content-digest says
which content the results are of, so that a regrade of the same content can be told from a resubmission.
"""

from __future__ import annotations

from pathlib import Path

from grader.outputs import (
    INSTRUCTOR_REPORT,
    INSTRUCTOR_RESULTS,
    REPORT,
    RESULTS,
    OutputError,
    read_instructor_json,
    write_atomically,
    write_outputs,
)
from grader.results import SubmissionResult

KEY_FILE = ".grading-key"
CONTENT_FILE = ".content-digest"


def stored_result(out_dir: Path, name: str, key: str) -> SubmissionResult | None:
    """The finished result in DIR/<name>/ if its key is `key` and it reads back whole; else None."""
    try:
        if (out_dir / name / KEY_FILE).read_text(encoding="utf-8").strip() != key:
            return None
    except OSError:
        return None
    return previous_result(out_dir, name)


def previous_result(out_dir: Path, name: str) -> SubmissionResult | None:
    """The result in DIR/<name>/, whatever graded it, if it reads back whole; else None."""
    folder = out_dir / name
    try:
        if not all((folder / report).is_file() for report in (RESULTS, REPORT, INSTRUCTOR_REPORT)):
            return None
        result = read_instructor_json(folder / INSTRUCTOR_RESULTS)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, from another grader version, or damaged: grade it again
    return result if result.name == name else None


def stored_content(out_dir: Path, name: str) -> str | None:
    """The content digest of the submission whose results are in DIR/<name>/, if recorded."""
    try:
        return (out_dir / name / CONTENT_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def store_result(out_dir: Path, result: SubmissionResult, key: str | None, content: str | None = None) -> str:
    """Write the submission's outputs, then its content digest and key (None: no key, grade it again next
    time); return the instructor's report's path relative to out_dir (the class overview is the instructor's).

    Raises OutputError (with the reason) when something that is not this submission's output is in the way.
    """
    folder = out_dir / result.name
    try:
        # A stale key must not survive next to new outputs if writing them fails half way.
        (folder / KEY_FILE).unlink(missing_ok=True)
        (folder / CONTENT_FILE).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot replace {folder / KEY_FILE}: {exc.strerror or exc}") from None
    written = write_outputs(result, folder)
    if content is not None:
        write_atomically(folder / CONTENT_FILE, content + "\n")
    if key is not None:
        write_atomically(folder / KEY_FILE, key + "\n")
    return written["instructor"].relative_to(out_dir).as_posix()
