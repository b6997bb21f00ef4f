"""grades.csv: one row per submission (name, score, max_score, one column per check, problem).

Written with the csv module, so names with commas, quotes or newlines stay one cell. Spreadsheets run a
cell that starts with = + - @ (or a tab or carriage return) as a formula, and a submission's name is the
student's folder or file name, so such text cells get a leading apostrophe (OWASP's CSV-injection
advice); numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io

from grader.render.summary import points
from grader.results import ClassResult

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def render_grades_csv(result: ClassResult) -> str:
    # The suite's order (the first submission's), not the overview's most-failed-first order.
    columns = list(result.submissions[0].check_scores) if result.submissions else []
    columns += [c.name for c in result.checks if c.name not in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(text) for text in ["name", "score", "max_score", *columns, "problem"]])
    for entry in result.submissions:
        scores = [points(entry.check_scores[c]) if c in entry.check_scores else "" for c in columns]
        writer.writerow([safe_cell(entry.name), points(entry.score), points(entry.max_score), *scores, safe_cell(entry.problem)])
    return buffer.getvalue()


def safe_cell(text: str) -> str:
    """`text` as a cell no spreadsheet will evaluate."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
