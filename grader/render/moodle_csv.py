"""moodle.csv: the class's final scores as a Moodle assignment's grading worksheet, for "Upload grading worksheet".

Moodle matches rows by the Identifier column ("Participant N", N being the number in its download's folder
names, `Full Name_N_assignsubmission_file_`) and reads Grade and Feedback comments; it refuses a worksheet
without a "Last modified (grade)" column, and keeps a grade changed in Moodle after that time unless the
teacher allows updating such records. The other columns are Moodle's own worksheet's, for people reading the
file. A submission the grader itself failed on has no row: it has no grade to give; two submissions that
would grade one participant are both left out.

Given the worksheet Moodle itself gives (grader.lms.moodle), each participant is checked against it and named as
it names them, and a team assignment's folders, which Moodle names after groups, give their grade to each
member of the group. Without it a team assignment cannot be told from the names (a group's ID reads as a
participant number, maybe someone else's): a download that shows one (the default team's folder) gets no
grades, and any other gets a note saying to pass the worksheet for a team assignment.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from grader.files.lms_names import DEFAULT_TEAM
from grader.lms.identity import CANVAS, GRADESCOPE, MOODLE
from grader.lms.moodle import MoodleWorksheet, Participant, downloaded_as
from grader.render.gradebook import CSV_QUOTING, CsvExport, one_student_twice, safe_cell
from grader.render.summary import points
from grader.results import ClassResult, ClassSubmission, StudentIdentity

COLUMNS = ("Identifier", "Full name", "Email address", "Grade", "Maximum Grade", "Last modified (grade)",
           "Feedback comments")
PASS_WORKSHEET = ("download the grading worksheet (the assignment's submissions page: Download grading worksheet) and "
                  "pass it with --moodle-worksheet FILE")


def render_moodle_csv(result: ClassResult, *, worksheet: MoodleWorksheet | None = None,
                      written: dt.datetime | None = None) -> CsvExport:
    """The worksheet, the submissions left out of it (no participant known for sure) and a note on the whole
    file if it needs one. `written` (default: now) is each grade's "Last modified (grade)": a grade changed by
    hand in Moodle after it is not overwritten."""
    # ISO 8601 with its offset: Moodle reads the cell with PHP's strtotime, in the server's zone otherwise.
    modified = (written or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=CSV_QUOTING)
    writer.writerow(COLUMNS)
    team = next((s.source for s in result.submissions if downloaded_as(s.source) == (DEFAULT_TEAM, "")), None)
    if worksheet is None and team is not None:
        return CsvExport(buffer.getvalue(), (), (f"no grades written: {team} is a Moodle team assignment's folder, and a "
                                                 "team assignment's download names each folder after a group and the "
                                                 "group's ID, not a participant; " + PASS_WORKSHEET + ", which says "
                                                 "who is in each group",))
    left_out = []
    whom = [_participants(s, worksheet) for s in result.submissions]
    twice = one_student_twice([s.name for s in result.submissions],
                              [tuple(p.number for p in people) for people, _ in whom], "Moodle participant")
    for index, (s, (people, reason)) in enumerate(zip(result.submissions, whom, strict=True)):
        if not s.has_grade:
            # No row: a blank grade is skipped but its feedback still imported (process_import_grades), and the
            # grader's failure is no feedback for a student. The class summary lists it (ClassResult.grader_failed).
            continue
        if reason or index in twice:
            left_out.append(f"{s.name}: {reason}" if reason else twice[index])
            continue
        for person in people:
            writer.writerow([f"Participant {person.number}", safe_cell(person.name), safe_cell(person.email),
                             points(s.final), points(s.max_score), modified, safe_cell(feedback(s))])
    notes = () if worksheet is not None else ("the participant numbers are read from the folder names: if this is a "
                                              "team assignment, Moodle named each folder after a group and its ID "
                                              f"instead, so {PASS_WORKSHEET}",)
    return CsvExport(buffer.getvalue(), tuple(left_out), notes)


def moodle_download(result: ClassResult) -> bool:
    """Whether any submission came named by Moodle's download."""
    return any(MOODLE in s.student.source for s in result.submissions)


def _participants(s: ClassSubmission, worksheet: MoodleWorksheet | None) -> tuple[tuple[Participant, ...], str]:
    """Whom the submission's grade goes to, or why to nobody."""
    if worksheet is not None and worksheet.team and (named := downloaded_as(s.source)):
        group, number = named
        members = worksheet.members(group, number)
        return members, "" if members else f"no group of the grading worksheet is named {group!r}"
    numbers = participants(s.student)
    if not numbers:
        return (), "no Moodle participant number is known (from the folder name or the mapping file)"
    if worksheet is None:
        return tuple(Participant(n, s.student.name or s.name, s.student.email, "") for n in numbers), ""
    known = tuple(p for p in map(worksheet.participant, numbers) if p is not None)
    if len(known) < len(numbers):
        missing = sorted(set(numbers) - {p.number for p in known}, key=int)
        return (), f"Participant {', '.join(missing)} is not in the grading worksheet"
    return known, ""


def participants(student: StudentIdentity) -> tuple[str, ...]:
    """The Moodle participant numbers, if the ID is one or a group's (" & " between them, as a mapping file
    may give a team): a Canvas or Gradescope ID is not."""
    if CANVAS in student.source or GRADESCOPE in student.source:
        return ()
    numbers = tuple(n.strip() for n in student.student_id.split(" & "))
    return numbers if all(n.isdigit() for n in numbers) else ()


def feedback(s: ClassSubmission) -> str:
    """One line: the grader's score, and each change the ledger made."""
    parts = [f"rnn-grader: {points(s.score)} / {points(s.max_score)}"]
    parts += [f"{a.check or a.kind}: {a.points:+g} ({a.reason})" for a in s.adjustments]
    if s.problem:
        parts.append(f"{s.problem}: {s.problem_detail}")
    return "; ".join(parts)
