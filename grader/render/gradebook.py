"""grades.csv: one row per submission: who (as far as known), the grader's raw score and each check's, what
the ledger changed, the final score, what went wrong (the problem and its reason) and the ids of the mistakes
its failed checks named (grader.mistakes), separated by spaces. A submission the grader itself failed on has
no grade: its score cells are blank, never 0.
The sandbox column names the isolation tier, prefixed with WEAK when the instructor accepted a weak one.
Given the grading worksheet of a Moodle team assignment, a team's submission has a row for each member, named
and numbered as the worksheet has them, with a group column, as Moodle's own worksheet has (one row per
participant, a Group column in a team assignment): the download names the team's folder after the group and
its group ID, which is no participant's number.

Every cell is quoted (``CSV_QUOTING``), so a separator inside a name stays in its cell. Spreadsheets run a
cell that starts with = + - @, a tab or a carriage return (after spaces too) as a formula, and a
submission's name is the student's folder or file name: ``safe_cell`` puts an apostrophe (OWASP's
CSV-injection advice) before such a start, and not only at the text's start but after every comma,
semicolon, tab and line break in it, because a spreadsheet whose list separator is not the comma (Excel
in Swedish and most EU locales reads ";") splits the row there and starts a new cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from grader.lms.moodle import MoodleWorksheet, downloaded_as
from grader.render.summary import points
from grader.results import Adjustment, ClassResult, ClassSubmission

CSV_QUOTING: Final = csv.QUOTE_ALL


@dataclass(frozen=True)
class CsvExport:
    """An LMS import file (canvas.csv, moodle.csv), one line for each submission it could not hold, and what
    the instructor must know about the whole file."""

    text: str
    left_out: tuple[str, ...]
    notes: tuple[str, ...] = ()

# A cell starts at the text's start or after any character some spreadsheet splits a row at; it is a formula
# when, after spaces (and quotes, which a spreadsheet strips), one of = + - @ tab CR follows. Linear: the
# look-ahead only crosses spaces and quotes, and the runs it crosses do not overlap.
_CELL_START = re.compile(r'(^|[,;\t\r\n])(?=[ "]*[=+\-@\t\r])')


def render_grades_csv(result: ClassResult, *, worksheet: MoodleWorksheet | None = None) -> str:
    """grades.csv; `worksheet`, Moodle's grading worksheet, names a team assignment's members."""
    # The suite's order (the first submission's), not the overview's most-failed-first order.
    columns = list(result.submissions[0].check_scores) if result.submissions else []
    columns += [c.name for c in result.checks if c.name not in columns]
    teams = worksheet if worksheet is not None and worksheet.team else None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=CSV_QUOTING)
    header = ["name", "student", "student_id", *(["group"] if teams else []), "raw_score", "max_score", *columns,
              "sandbox", "adjustments", "late_days", "late_percent", "final_score", "problem", "mistakes"]
    writer.writerow([safe_cell(text) for text in header])
    for entry in result.submissions:
        # A row the grader failed on has no grade: its scores are blank, never 0 (the problem column says why).
        shown = points if entry.has_grade else lambda _: ""
        scores = [shown(entry.check_scores[c]) if c in entry.check_scores else "" for c in columns]
        for who in _whom(entry, teams):
            writer.writerow([
                safe_cell(entry.name), *map(safe_cell, who),
                shown(entry.score), points(entry.max_score), *scores,
                safe_cell(f"WEAK {entry.sandbox}" if entry.weak_isolation else entry.sandbox),
                safe_cell("; ".join(adjustment_text(a) for a in entry.adjustments)),
                entry.late_days, points(entry.late_percent), shown(entry.final),
                safe_cell(f"{entry.problem}: {entry.problem_detail}" if entry.problem else ""),
                " ".join(entry.mistakes),
            ])
    return buffer.getvalue()


def _whom(entry: ClassSubmission, teams: MoodleWorksheet | None) -> list[tuple[str, ...]]:
    """(student, student_id), and the group in a team assignment, of each row `entry` has."""
    student = (entry.student.name, entry.student.student_id)
    if teams is None:
        return [student]
    named = downloaded_as(entry.source)
    if named is None:  # not named by Moodle's download (a mapping file says who it is)
        return [(*student, "")]
    # A folder naming no group of the worksheet: its number is a group's ID, no participant's.
    return [(p.name, p.number, p.group) for p in teams.members(*named)] or [(named[0], "", named[0])]


def adjustment_text(a: Adjustment) -> str:
    """One ledger change in words: "forward: loss +3 (reason; Anna, 2026-03-05T10:00:00+01:00)"."""
    who = ", ".join(filter(None, [a.by, a.at]))
    return f"{a.check or a.kind} {a.points:+g} ({a.reason}{'; ' + who if who else ''})"


def safe_cell(text: str) -> str:
    """`text` as a cell no spreadsheet evaluates, whichever separator it splits rows at."""
    return _CELL_START.sub(lambda m: m.group(1) + "'", text)


def one_student_twice(names: Sequence[str], keys: Sequence[tuple[str, ...]], student: str) -> dict[int, str]:
    """Position -> why it is left out of an LMS file, for each submission one of whose `keys` (the IDs the LMS
    matches rows by) another submission has too: two rows for one student with different grades, and the
    LMS's import keeps one of them, which is not the grader's to guess (a teacher who unpacked a student's
    zip beside it in the download makes two entries of one student)."""
    holders: dict[str, list[int]] = {}
    for i, ids in enumerate(keys):
        for key in dict.fromkeys(ids):
            holders.setdefault(key, []).append(i)
    why = {}
    for i, ids in enumerate(keys):
        others = sorted({j for key in ids for j in holders[key]} - {i})
        if others:
            none = "neither is" if len(others) == 1 else "none of them is"
            why[i] = f"{names[i]}: the same {student} as {', '.join(names[j] for j in others)}; {none} in the file"
    return why
