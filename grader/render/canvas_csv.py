"""canvas.csv: the class's final scores as Canvas's gradebook import reads them.

Canvas's import wants the columns of its own export: Student, ID, SIS User ID, SIS Login ID, Section,
then one column per assignment titled `Name (assignment id)`; a row of points possible may follow the
header, and a blank cell changes nothing. Given an exported gradebook (grader.lms.canvas), the file keeps
its students, their order and its identity columns, and fills the assignment's column (an existing one,
picked by name, or a new one, which Canvas creates on import); a submission is matched to its student by
Canvas user ID, then SIS user ID, then the `lastfirst` name Canvas's download file names carry.
"""

from __future__ import annotations

import csv
import io
import re

from grader.lms.canvas import DEFAULT_ASSIGNMENT, CanvasError, CanvasGradebook, canvas_ids, lastfirst
from grader.render.gradebook import CSV_QUOTING, CsvExport, safe_cell
from grader.render.summary import points
from grader.results import ClassResult, ClassSubmission

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "    Points Possible"  # as Canvas writes it in its exports
_ASSIGNMENT_ID = re.compile(r"\s*\((\d+)\)\s*$")


def render_canvas_csv(result: ClassResult, *, assignment: str = DEFAULT_ASSIGNMENT,
                      gradebook: CanvasGradebook | None = None) -> CsvExport:
    """The import file for `result`'s final scores, and what could not be put in it."""
    warnings: list[str] = []
    if gradebook is None:
        identity = list(IDENTITY_COLUMNS)
        rows = []
        for s in result.submissions:
            canvas_id, sis_id = canvas_ids(s.student)
            if not (canvas_id or sis_id):
                warnings.append(f"{s.name}: no Canvas ID or SIS ID is known (name it as Canvas's download does, or add it to the mapping file)")
                continue
            rows.append(({"Student": s.student.name or s.name, "ID": canvas_id, "SIS User ID": sis_id,
                          "SIS Login ID": "", "Section": ""}, s))
        column = assignment
    else:
        identity = [c for c in gradebook.header if c in IDENTITY_COLUMNS or c == "Integration ID"]
        column = _assignment_column(gradebook.header, assignment)
        matches = _match(gradebook.students, result.submissions, warnings)
        rows = [(student, matches.get(i)) for i, student in enumerate(gradebook.students)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=CSV_QUOTING)
    writer.writerow([*identity, column])
    writer.writerow([POINTS_POSSIBLE, *[""] * (len(identity) - 1), points(result.max_score)])
    for student, submission in rows:
        grade = "" if submission is None else points(submission.final)
        writer.writerow([safe_cell(student.get(c, "")) for c in identity] + [grade])
    return CsvExport(buffer.getvalue(), tuple(warnings))


def _assignment_column(header: tuple[str, ...], wanted: str) -> str:
    exact = [c for c in header if c == wanted]
    named = [c for c in header if _ASSIGNMENT_ID.sub("", c) == wanted]
    if exact or len(named) == 1:
        return (exact or named)[0]
    if len(named) > 1:
        raise CanvasError(f"the Canvas gradebook has {len(named)} assignments named {wanted!r}; give the column with its ID, e.g. {named[0]!r}")
    return wanted


def _match(students, submissions, warnings: list[str]) -> dict[int, ClassSubmission]:
    """export row index -> the submission of that student."""
    by = {"ID": {}, "SIS User ID": {}, "lastfirst": {}}
    for i, student in enumerate(students):
        for column in ("ID", "SIS User ID"):
            if student.get(column, "").strip():
                by[column].setdefault(student[column].strip(), []).append(i)
        by["lastfirst"].setdefault(lastfirst(student.get("Student", "")), []).append(i)
    matches: dict[int, ClassSubmission] = {}
    for s in submissions:
        name = s.student.name or s.name
        canvas_id, sis_id = canvas_ids(s.student)
        candidates = (
            (canvas_id and by["ID"].get(canvas_id))
            or (sis_id and by["SIS User ID"].get(sis_id))
            or by["lastfirst"].get(lastfirst(name) if "," in name else re.sub(r"[^a-z0-9]", "", name.casefold()))
        )
        if not candidates:
            warnings.append(f"{s.name}: no student of the Canvas gradebook matches; not in canvas.csv")
        elif len(candidates) > 1:
            warnings.append(f"{s.name}: matches {len(candidates)} students of the Canvas gradebook; not in canvas.csv")
        elif candidates[0] in matches:
            warnings.append(f"{s.name} and {matches[candidates[0]].name} both belong to the same Canvas student; neither is in canvas.csv")
            matches[candidates[0]] = None  # type: ignore[assignment]
        else:
            matches[candidates[0]] = s
    return {i: s for i, s in matches.items() if s is not None}
