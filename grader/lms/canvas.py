"""What the grader reads from Canvas: an exported gradebook, and the IDs and names Canvas knows a student by.

An export's columns: Student (or LastName and FirstName, when the teacher exports names split:
lib/gradebook_exporter.rb), ID, SIS User ID, SIS Login ID, Section, then one column per assignment
titled `Name (assignment id)`, then computed ones (Current Score...). The grades go to one assignment's
column: the export's only one, or the one named (by its title, or with its ID); a column the export lacks
makes Canvas create a new assignment on import, so it is used only when named (and a warning says so). A
submission is matched to its student by Canvas user ID, then SIS user ID, then the `lastfirst` name
Canvas's download file names carry; the export's Student column then names the student in every output.
grader.render.canvas_csv writes canvas.csv from them.

A group assignment graded as a group downloads once per group, named after the group and carrying one
member's user ID (Assignment#representatives); the export says nothing of groups. canvas.csv grades that
member, and that is enough: Canvas's gradebook import posts its grades to submissions/update_grades
(gradebook_uploads_controller), whose Submission.process_bulk_update grades through Assignment#grade_student,
which grades every member of a group graded as one. Graded individually, each member downloads under their own name.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError
from grader.lms.identity import GRADESCOPE, MOODLE
from grader.results import StudentIdentity

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
SPLIT_NAME_COLUMNS = ("LastName", "FirstName")  # in place of Student, in an export of split names
DEFAULT_ASSIGNMENT = "RNN assignment"
MAX_EXPORT_BYTES = 64 * 1024 * 1024
_ASSIGNMENT_ID = re.compile(r"\s*\((\d+)\)\s*$")


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
        text = path.read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CanvasError(f"cannot read the Canvas gradebook {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not rows or "ID" not in rows[0] or not ("Student" in rows[0] or set(SPLIT_NAME_COLUMNS) <= set(rows[0])):
        raise CanvasError(f"{path} is not a Canvas gradebook export (its first row has no ID column beside a Student "
                          "column or LastName and FirstName columns)")
    header = tuple(rows[0])
    # Canvas puts "Points Possible" (and, in newer exports, a posting-policy row) before the students: rows
    # without a user ID. A student's name cell may be empty (a last name left blank), the ID never.
    students = tuple(cells for cells in (dict(zip(header, row)) for row in rows[1:]) if cells.get("ID", "").strip())
    return CanvasGradebook(header, students)


def student_name(row: Mapping[str, str]) -> str:
    """The export row's student as Canvas sorts them ("Quist, Rita"), from Student or LastName and FirstName."""
    if "Student" in row:
        return row["Student"].strip()
    last, first = (row.get(c, "").strip() for c in SPLIT_NAME_COLUMNS)
    return ", ".join(filter(None, (last, first)))


def _delimiter(text: str) -> str:
    """"," or ";", as Canvas's importer decides (GradebookImporter#identify_delimiter): an export is written with
    ";" when the teacher asks for it or their language writes decimal commas; the header splits into more
    fields at its own separator."""
    header = text.partition("\n")[0]
    fields = {d: len(next(csv.reader([header], delimiter=d), [])) for d in ",;"}
    return ";" if fields[";"] > fields[","] else ","


def canvas_ids(student: StudentIdentity) -> tuple[str, str]:
    """(Canvas user ID, SIS user ID) of a student: a Moodle participant number is no Canvas ID, and
    Gradescope's SID is the institution's, which Canvas calls the SIS user ID."""
    if MOODLE in student.source:
        return "", student.sis_id
    if GRADESCOPE in student.source:
        return "", student.sis_id or student.student_id
    if student.student_id.lower().startswith("anon_"):  # an anonymous assignment's download: no user ID
        return "", student.sis_id
    return student.student_id, student.sis_id


def lastfirst(student: str) -> str:
    """Canvas's download name for "Quist, Rita": quistrita."""
    last, _, first = student.partition(",")
    return re.sub(r"[^a-z0-9]", "", (last + first).casefold())


def assignment_columns(gradebook: CanvasGradebook) -> list[str]:
    """The export's assignment columns (`Name (id)`), not its identity or computed ones (Current Score...)."""
    return [c for c in gradebook.header if _ASSIGNMENT_ID.search(c) and c not in IDENTITY_COLUMNS + SPLIT_NAME_COLUMNS]


def assignment_column(gradebook: CanvasGradebook, wanted: str | None) -> str:
    """The column canvas.csv fills: `wanted` (a title, or the column with its ID), else the export's only
    assignment. Raises CanvasError when the export has several (or none) and none was named."""
    columns = assignment_columns(gradebook)
    if wanted is None:
        if len(columns) == 1:
            return columns[0]
        listed = "; ".join(repr(c) for c in columns)
        raise CanvasError(
            f"the Canvas gradebook has {len(columns)} assignment columns ({listed}); say which one the grades go to "
            "with --canvas-assignment NAME" if columns else
            "the Canvas gradebook has no assignment column; export it after creating the assignment in Canvas, or "
            "name a new one with --canvas-assignment NAME (Canvas creates it on import)")
    exact = [c for c in gradebook.header if c == wanted]
    named = [c for c in columns if _ASSIGNMENT_ID.sub("", c) == wanted]
    if exact or len(named) == 1:
        return (exact or named)[0]
    if len(named) > 1:
        raise CanvasError(f"the Canvas gradebook has {len(named)} assignments named {wanted!r}; give the column with "
                          f"its ID, e.g. {named[0]!r}")
    return wanted


def with_gradebook_names(students: Mapping[str, StudentIdentity],
                         gradebook: CanvasGradebook | None) -> dict[str, StudentIdentity]:
    """`students` (entry name -> identity), each one the gradebook matches named as the gradebook names them
    ("Anderson, Alice" rather than the download's "andersonalice")."""
    named = dict(students)
    if gradebook is None:
        return named
    entries = list(named.items())
    for row, index in match_students(gradebook, entries, []).items():
        name, who = entries[index]
        if display := student_name(gradebook.students[row]):
            named[name] = dataclasses.replace(who, name=display)
    return named


def match_students(gradebook: CanvasGradebook, submissions: list[tuple[str, StudentIdentity]],
                   warnings: list[str]) -> dict[int, int]:
    """export row index -> the index in `submissions` (entry name, identity) of that student's; what matches
    no one, or several, is a warning."""
    by: dict[str, dict[str, list[int]]] = {"ID": {}, "SIS User ID": {}, "lastfirst": {}}
    for i, row in enumerate(gradebook.students):
        for column in ("ID", "SIS User ID"):
            if row.get(column, "").strip():
                by[column].setdefault(row[column].strip(), []).append(i)
        by["lastfirst"].setdefault(lastfirst(student_name(row)), []).append(i)
    matches: dict[int, int | None] = {}
    for index, (entry, who) in enumerate(submissions):
        name = who.name or entry
        canvas_id, sis_id = canvas_ids(who)
        candidates = (
            (canvas_id and by["ID"].get(canvas_id))
            or (sis_id and by["SIS User ID"].get(sis_id))
            or by["lastfirst"].get(lastfirst(name) if "," in name else re.sub(r"[^a-z0-9]", "", name.casefold()))
        )
        if not candidates:
            warnings.append(f"{entry}: no student of the Canvas gradebook matches; not in canvas.csv")
        elif len(candidates) > 1:
            warnings.append(f"{entry}: matches {len(candidates)} students of the Canvas gradebook; not in canvas.csv")
        elif candidates[0] in matches:
            other = matches[candidates[0]]
            if other is not None:
                warnings.append(f"{entry} and {submissions[other][0]} both belong to the same Canvas student; neither "
                                "is in canvas.csv")
            matches[candidates[0]] = None
        else:
            matches[candidates[0]] = index
    return {i: s for i, s in matches.items() if s is not None}
