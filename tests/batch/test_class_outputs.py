"""grades.csv, summary.json and index.html of a graded class, from a fake grader."""

import csv
import io
import json

import pytest
from shipped_course import shipped

from grader.batch.run import grade_class
from grader.render.gradebook import safe_cell
from grader.results import ClassResult, Problem

from .conftest import make_folder, make_zip
from .fakes import CHECKS, failing_grade, fake_grade

ASSIGNMENT = shipped()

HOSTILE_NAME = '<script>alert("x")</script>'


def _graded(class_dir, tmp_path, grade=fake_grade):
    make_folder(class_dir, "alice", "# score: 6\n")
    make_folder(class_dir, "=HYPERLINK(1)", "# score: 3\n")
    make_folder(class_dir, HOSTILE_NAME, "# score: 0\n")
    make_zip(class_dir, "bob, jr.zip", {"rnn.py": "# score: 6\n"})
    make_zip(class_dir, "broken.zip", {"../x.py": ""})
    out = tmp_path / "out"
    return grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=grade, progress=False), out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One class graded by fake_grade, read by the tests of its three outputs (none of them writes)."""
    base = tmp_path_factory.mktemp("graded")
    (base / "class").mkdir()
    return _graded(base / "class", base)


@pytest.mark.long
@pytest.mark.xdist_group("class-outputs")  # one worker grades the shared class
def test_grades_csv_has_one_row_per_submission_and_no_formulas(graded):
    result, out = graded
    rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text(), newline="")))
    assert rows[0][:5] == ["name", "student", "student_id", "raw_score", "max_score"]
    assert rows[0][5:7] == [c[0] for c in CHECKS] and rows[0][-3:] == ["final_score", "problem", "mistakes"]
    by_name = {r[0]: r for r in rows[1:]}
    assert len(rows) == 1 + len(result.submissions)
    assert by_name["alice"][3:7] == ["10", "10", "6", "4"] and by_name["alice"][-3] == "10"
    assert by_name["'=HYPERLINK(1)"][3] == "7"
    assert by_name["bob, jr"][3] == "10"
    assert by_name["broken"][-2].startswith("could not be graded: ") and "leaves its folder" in by_name["broken"][-2]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert safe_cell("-1") == "'-1" and safe_cell("@x") == "'@x" and safe_cell("alice") == "alice"


@pytest.mark.xdist_group("class-outputs")  # one worker grades the shared class
def test_summary_json_holds_the_class_result(graded):
    result, out = graded
    data = json.loads((out / "summary.json").read_text())
    assert ClassResult.from_dict(data) == result
    assert result.troubled == ("broken",) and result.ungradable == ("broken",)
    rates = {c.name: c for c in result.checks}
    # Pass rates count the gradable submissions only: the broken zip is listed apart.
    assert (rates[CHECKS[0][0]].passed, rates[CHECKS[0][0]].total) == (2, 4)
    assert (rates[CHECKS[1][0]].passed, rates[CHECKS[1][0]].total) == (4, 4)
    failure_rates = [c.failure_rate for c in result.checks]
    assert failure_rates == sorted(failure_rates, reverse=True)  # the most failed first
    assert sum(b.count for b in result.histogram) == 5
    assert [s.seconds for s in result.submissions if s.name == result.slowest[0]] == [max(s.seconds for s in result.submissions)]


@pytest.mark.long
@pytest.mark.xdist_group("class-outputs")  # one worker grades the shared class
def test_index_html_links_reports_and_escapes_names(graded):
    result, out = graded
    page = (out / "index.html").read_text()
    assert HOSTILE_NAME not in page and "&lt;script&gt;" in page
    assert 'href="alice/report-instructor.html"' in page and 'href="bob%2C%20jr/report-instructor.html"' in page
    assert "<svg" in page and "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for entry in result.submissions:
        assert (out / entry.report).is_file()
    problems = page[page.index('id="problems"'):page.index('id="slowest"')]
    assert "broken" in problems and "leaves its folder" in problems and "alice" not in problems


def test_a_grader_bug_is_a_broken_result_not_a_stopped_class(class_dir, tmp_path):
    result, _ = _graded(class_dir, tmp_path, grade=failing_grade)
    assert len(result.submissions) == 5
    # The broken zip never reached the grader: its own fault. The others have no grade: the grader failed on them.
    problems = {s.name: s.problem for s in result.submissions}
    assert problems.pop("broken") is Problem.NOT_GRADED
    assert set(problems.values()) == {Problem.GRADER_FAILED} and result.grader_failed == tuple(problems)
    assert "The grader itself failed on this submission (RuntimeError: a bug in the grader)" in result.submissions[0].problem_detail


def test_a_report_that_cannot_be_rendered_is_that_submissions_note_not_a_stopped_class(class_dir, tmp_path, monkeypatch):
    from grader.batch import run

    def store_result(out_dir, result, key, content=None):
        if result.name == "alice":
            raise ValueError("a renderer's bug")
        return ""

    monkeypatch.setattr(run, "store_result", store_result)
    result, out = _graded(class_dir, tmp_path)
    assert len(result.submissions) == 5 and (out / "grades.csv").is_file()
    alice = next(s for s in result.submissions if s.name == "alice")
    assert alice.score == alice.max_score > 0 and "could not be rendered (ValueError)" in alice.note
