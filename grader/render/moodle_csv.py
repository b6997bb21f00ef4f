"""moodle.csv: the class's final scores as a Moodle assignment's grading worksheet, for "Upload grading worksheet".

Moodle matches rows by the Identifier column ("Participant N", N being the number in its download's folder
names, `Full Name_N_assignsubmission_file_`) and reads Grade and Feedback comments; it refuses a worksheet
without a "Last modified (grade)" column, and keeps a grade changed in Moodle after that time unless the
teacher allows updating such records. The other columns are Moodle's own worksheet's, for people reading the
file. A submission the grader itself failed on has no row: it has no grade to give.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from grader.lms.identity import CANVAS, GRADESCOPE
from grader.render.gradebook import CSV_QUOTING, CsvExport, one_student_twice, safe_cell
from grader.render.summary import points
from grader.results import ClassResult, ClassSubmission, StudentIdentity

COLUMNS = ("Identifier", "Full name", "Email address", "Grade", "Maximum Grade", "Last modified (grade)",
           "Feedback comments")


def render_moodle_csv(result: ClassResult, *, written: dt.datetime | None = None) -> CsvExport:
    """The worksheet, and the submissions left out of it (no participant number known). `written` (default:
    now) is each grade's "Last modified (grade)": a grade changed by hand in Moodle after it is not overwritten."""
    # ISO 8601 with its offset: Moodle reads the cell with PHP's strtotime, in the server's zone otherwise.
    modified = (written or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=CSV_QUOTING)
    writer.writerow(COLUMNS)
    left_out = []
    numbers = [participant(s.student) for s in result.submissions]
    twice = one_student_twice([s.name for s in result.submissions], [(n,) if n else () for n in numbers],
                              "Moodle participant")
    for index, s in enumerate(result.submissions):
        if not s.has_grade:
            # No row: a blank grade is skipped but its feedback still imported (process_import_grades), and the
            # grader's failure is no feedback for a student. The class summary lists it (ClassResult.grader_failed).
            continue
        if not numbers[index]:
            left_out.append(f"{s.name}: no Moodle participant number is known (from the folder name or the mapping file)")
            continue
        if index in twice:
            left_out.append(twice[index])
            continue
        writer.writerow([f"Participant {numbers[index]}", safe_cell(s.student.name or s.name), safe_cell(s.student.email),
                         points(s.final), points(s.max_score), modified, safe_cell(feedback(s))])
    return CsvExport(buffer.getvalue(), tuple(left_out))


def participant(student: StudentIdentity) -> str:
    """The Moodle participant number, if the ID is one (a Canvas or Gradescope ID is not)."""
    foreign = CANVAS in student.source or GRADESCOPE in student.source
    return student.student_id if student.student_id.isdigit() and not foreign else ""


def feedback(s: ClassSubmission) -> str:
    """One line: the grader's score, and each change the ledger made."""
    parts = [f"rnn-grader: {points(s.score)} / {points(s.max_score)}"]
    parts += [f"{a.check or a.kind}: {a.points:+g} ({a.reason})" for a in s.adjustments]
    if s.problem:
        parts.append(f"{s.problem}: {s.problem_detail}")
    return "; ".join(parts)
