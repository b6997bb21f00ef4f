"""What the grader reads from Canvas: an exported gradebook, and the IDs and names Canvas knows a student by.

grader.render.canvas_csv writes canvas.csv from them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from grader.lms.identity import GRADESCOPE, MOODLE
from grader.results import StudentIdentity
from grader.errors import GraderError

DEFAULT_ASSIGNMENT = "RNN assignment"
MAX_EXPORT_BYTES = 64 * 1024 * 1024


class CanvasError(GraderError):
    """The exported Canvas gradebook cannot be used; the message says why."""


@dataclass(frozen=True)
class CanvasGradebook:
    header: tuple[str, ...]
    students: tuple[dict[str, str], ...]  # each export row, by column


def read_canvas_gradebook(path: Path) -> CanvasGradebook:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise CanvasError(f"{path} is larger than {MAX_EXPORT_BYTES // 1024**2} MiB; is it a Canvas gradebook export?")
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CanvasError(f"cannot read the Canvas gradebook {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not rows or not {"Student", "ID"} <= set(rows[0]):
        raise CanvasError(f"{path} is not a Canvas gradebook export (its first row has no Student and ID columns)")
    header = tuple(rows[0])
    students = tuple(
        dict(zip(header, row)) for row in rows[1:]
        # Canvas puts "Points Possible" (and, in newer exports, a posting-policy row) before the students.
        if row and row[0].strip() not in ("Points Possible", "") and not (len(row) > 1 and not row[1].strip())
    )
    return CanvasGradebook(header, students)


def canvas_ids(student: StudentIdentity) -> tuple[str, str]:
    """(Canvas user ID, SIS user ID) of a student: a Moodle participant number is no Canvas ID, and
    Gradescope's SID is the institution's, which Canvas calls the SIS user ID."""
    if MOODLE in student.source:
        return "", student.sis_id
    if GRADESCOPE in student.source:
        return "", student.sis_id or student.student_id
    return student.student_id, student.sis_id


def lastfirst(student: str) -> str:
    """Canvas's download name for "Quist, Rita": quistrita."""
    last, _, first = student.partition(",")
    return re.sub(r"[^a-z0-9]", "", (last + first).casefold())
