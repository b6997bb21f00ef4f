"""grades.csv, canvas.csv and moodle.csv hold no formula however a spreadsheet splits their rows, and a
separator inside a name stays in its cell (issue 22's CSV attack)."""

import csv
import io

import pytest

from grader.lms.identity import parse_name
from grader.render.canvas_csv import render_canvas_csv
from grader.render.gradebook import render_grades_csv, safe_cell
from grader.render.moodle_csv import render_moodle_csv
from grader.results import Adjustment, AdjustmentKind, ClassResult, ClassSubmission, StudentIdentity

FORMULA = ("=", "+", "-", "@", "\t", "\r")
# Names a student controls: the folder or file name, and what the mapping file says.
NAMES = (
    "Rita Quist;=1+2;_1001_assignsubmission_file_",
    "Bo Ek, =HYPERLINK(\"x\"),_1002_assignsubmission_file_",
    "Eve  ; @SUM(A1);_1003_assignsubmission_file_",
    "Ann\t=1_1004_assignsubmission_file_",
    'Kim;"=2+2";_1005_assignsubmission_file_',
)


def _class() -> ClassResult:
    rows = []
    for number, name in enumerate(NAMES):
        student = parse_name(name)
        student = StudentIdentity(name=student.name, student_id=student.student_id, sis_id=f"x;-{number}",
                                  email="; +1@x", source=student.source)
        rows.append(ClassSubmission(
            name=name, source=name, score=50.0, max_score=100.0, check_scores={"forward; =1": 5.0}, seconds=1.0,
            student=student, final_score=40.0, problem="crashed", problem_detail="raised; =cmd|' /C calc'!A0",
            adjustments=(Adjustment(AdjustmentKind.OVERRIDE, -10.0, "copied, -see notes", "forward; =1", "TA;@x"),)))
    return ClassResult(folder="class", submissions=tuple(rows), checks=(), histogram=(), max_score=100.0,
                       mean_score=50.0, median_score=50.0, troubled=(), slowest=(), graded_now=len(rows), reused=0)


def _files() -> dict[str, str]:
    result = _class()
    return {"grades.csv": render_grades_csv(result), "canvas.csv": render_canvas_csv(result).text,
            "moodle.csv": render_moodle_csv(result).text}


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_no_cell_is_a_formula_whatever_the_separator_a_spreadsheet_splits_at(separator):
    for file, text in _files().items():
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
            for cell in row:
                assert not cell.lstrip(' "').startswith(FORMULA), (file, separator, cell)


def test_a_separator_inside_a_name_stays_in_its_cell():
    files = _files()
    grades = list(csv.reader(io.StringIO(files["grades.csv"], newline="")))
    assert [r[0] for r in grades[1:]] == [safe_cell(n) for n in NAMES]
    assert {len(r) for r in grades} == {len(grades[0])}
    moodle = list(csv.reader(io.StringIO(files["moodle.csv"], newline="")))
    assert [r[:2] for r in moodle[1:]] == [[f"Participant {1001 + i}", safe_cell(parse_name(n).name)]
                                           for i, n in enumerate(NAMES)]
    assert {len(r) for r in moodle} == {len(moodle[0])} and len(moodle[0]) > 2
    # Every cell is quoted: a reader splitting at ";" keeps the first column (the name) whole too.
    assert all(line.startswith('"') for text in files.values() for line in text.splitlines())
    first = [r[0] for r in csv.reader(io.StringIO(files["grades.csv"], newline=""), delimiter=";")][1:]
    assert all(cell.startswith(safe_cell(n) + ",") for cell, n in zip(first, NAMES))


@pytest.mark.parametrize(("text", "expected"), [
    ("alice", "alice"), ("=1+2", "'=1+2"), ("  @x", "'  @x"), ("-1", "'-1"), ("\tx", "'\tx"),
    ("Quist, Rita", "Quist, Rita"), ("a;=b", "a;'=b"), ("a, -3 points", "a,' -3 points"), ("x\n+y", "x\n'+y"),
    ("2026-03-05T10:00:00+01:00", "2026-03-05T10:00:00+01:00"),
])
def test_safe_cell_neutralises_each_start_of_a_cell(text, expected):
    assert safe_cell(text) == expected
