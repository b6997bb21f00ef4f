"""canvas.csv: the class's final scores as Canvas's gradebook import reads them.

Canvas's import wants the columns of its own export; a row of points possible may follow the header. Given
an exported gradebook (grader.lms.canvas: which column, which student), the file keeps its students, their
order and its identity columns, and fills the assignment's column; a student with no submission in the class
keeps the export's own cell. Canvas leaves a student the file has no row for as they are, so a submission the
grader itself failed on has no row (not a blank cell: GradebookImporter counts a blank against an existing
score as a change).
"""

from __future__ import annotations

import csv
import io

from grader.lms.canvas import (
    DEFAULT_ASSIGNMENT,
    IDENTITY_COLUMNS,
    SPLIT_NAME_COLUMNS,
    CanvasGradebook,
    assignment_column,
    assignment_columns,
    canvas_ids,
    match_students,
)
from grader.render.gradebook import CSV_QUOTING, CsvExport, one_student_twice, safe_cell
from grader.render.summary import points
from grader.results import ClassResult, ClassSubmission

POINTS_POSSIBLE = "    Points Possible"  # as Canvas writes it in its exports


def render_canvas_csv(result: ClassResult, *, assignment: str | None = None,
                      gradebook: CanvasGradebook | None = None) -> CsvExport:
    """The import file for `result`'s final scores, and what could not be put in it."""
    warnings: list[str] = []
    rows: list[tuple[dict[str, str], ClassSubmission | None]]
    if gradebook is None:
        assignment = assignment or DEFAULT_ASSIGNMENT
        identity = list(IDENTITY_COLUMNS)
        rows = []
        ids = [canvas_ids(s.student) for s in result.submissions]
        twice = one_student_twice([s.name for s in result.submissions],
                                  [tuple(f"{kind} {i}" for kind, i in zip(("ID", "SIS"), pair) if i) for pair in ids],
                                  "Canvas student")
        for index, (s, (canvas_id, sis_id)) in enumerate(zip(result.submissions, ids)):
            if not s.has_grade:
                continue
            if not (canvas_id or sis_id):
                warnings.append(f"{s.name}: no Canvas ID or SIS ID is known (name it as Canvas's download does, "
                                "or add it to the mapping file)")
                continue
            if index in twice:
                warnings.append(twice[index])
                continue
            rows.append(({"Student": s.student.name or s.name, "ID": canvas_id, "SIS User ID": sis_id,
                          "SIS Login ID": "", "Section": ""}, s))
        column = assignment
    else:
        identity = [c for c in gradebook.header if c in IDENTITY_COLUMNS + SPLIT_NAME_COLUMNS or c == "Integration ID"]
        column = assignment_column(gradebook, assignment)
        if column not in gradebook.header:
            warnings.append(f"the gradebook has no assignment {column!r}: Canvas creates a new assignment of that "
                            f"name on import (its assignments: {', '.join(assignment_columns(gradebook)) or 'none'})")
        matches = match_students(gradebook, [(s.name, s.student) for s in result.submissions], warnings)
        rows = [(student, result.submissions[matches[i]] if i in matches else None)
                for i, student in enumerate(gradebook.students)
                if i not in matches or result.submissions[matches[i]].has_grade]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=CSV_QUOTING)
    writer.writerow([*identity, column])
    writer.writerow([POINTS_POSSIBLE, *[""] * (len(identity) - 1), points(result.max_score)])
    for student, submission in rows:
        # A gradebook student with no submission here keeps the export's own cell (a blank against a score
        # entered by hand would clear it on import).
        grade = safe_cell(student.get(column, "")) if submission is None else points(submission.final)
        writer.writerow([safe_cell(student.get(c, "")) for c in identity] + [grade])
    return CsvExport(buffer.getvalue(), tuple(warnings))
