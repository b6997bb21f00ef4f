"""The class overview counts each named mistake for exactly the students who made it (the real sandbox)."""

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.batch.run import grade_class
from grader.batch.workflow import ClassWorkflow, read_summary

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
# Two students with the same bug, one with another, one correct.
CLASS = {"ann": "bug_no_bptt", "ben": "bug_no_bptt", "cal": "bug_eps_outside", "dee": "alice"}
EXPECTED = {"compute_gradients.no_bptt": ["ann", "ben"], "adagrad_step.eps_outside": ["cal"]}


@pytest.mark.slow
@pytest.mark.first  # a class graded
def test_each_named_mistake_is_counted_for_exactly_its_students(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    for name, source in CLASS.items():
        shutil.copytree(SUBMISSIONS / source, folder / name)
    assignment = load_assignment()
    result = grade_class(folder, out, assignment, jobs=2, progress=False, workflow=ClassWorkflow(similarity=False))

    summary = json.loads((out / "summary.json").read_text())
    assert {m["id"]: m["students"] for m in summary["mistakes"]} == EXPECTED
    assert summary["mistakes"][0]["id"] == "compute_gradients.no_bptt"  # most frequent first
    first = summary["mistakes"][0]
    assert (first["function"], first["title"], first["share"]) == (
        "compute_gradients", assignment.mistakes["compute_gradients.no_bptt"].title, 0.5)
    assert "smallest failing case" in first["example"]
    assert summary["unexplained"] == []

    rows = {r["name"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert {n: r["mistakes"] for n, r in rows.items()} == {
        "ann": "compute_gradients.no_bptt", "ben": "compute_gradients.no_bptt", "cal": "adagrad_step.eps_outside",
        "dee": ""}

    index = (out / "index.html").read_text()
    section = index[index.index('<section id="mistakes">'):index.index('<section id="checks">')]
    assert index.index('id="mistakes"') < index.index('id="checks"')
    bptt = section[section.index('id="mistake-compute_gradients.no_bptt"'):section.index('id="mistake-adagrad_step')]
    assert all(f'href="{n}/report-instructor.html"' in bptt for n in ("ann", "ben"))
    assert "cal/" not in bptt and "dee/" not in bptt and "50%" in bptt
    eps = section[section.index('id="mistake-adagrad_step.eps_outside"'):]
    assert 'href="cal/report-instructor.html"' in eps and "ann/" not in eps and "dee/" not in eps

    # The student's report explains the visible check's mistake in the course's words.
    explanation = assignment.mistakes["compute_gradients.no_bptt"]
    student = next(p for p in (out / "ann").glob("report*.html") if "instructor" not in p.name)
    assert explanation.contract in student.read_text() or explanation.contract.replace("'", "&#39;") in student.read_text()
    assert result.mistakes[0].students == ("ann", "ben")
    # cal's mistake was found by a hidden check only: the instructor's copies count and explain it, cal's own never
    # show it.
    assert "adagrad_step.eps_outside" not in (out / "cal" / "results.json").read_text()
    assert "The mistake:" not in (out / "cal" / "report.html").read_text()
    assert "The mistake:" in (out / "cal" / "report-instructor.html").read_text()

    # --compare: another run's summary.json, in which a quarter made the BPTT mistake and one made another.
    summary["mistakes"][0]["share"] = 0.25
    summary["mistakes"].append({**summary["mistakes"][1], "id": "forward.h0_unused", "function": "forward",
                                "title": "h0 not used", "share": 0.1})
    summary["mistakes"] = [m for m in summary["mistakes"] if m["id"] != "adagrad_step.eps_outside"]
    old = tmp_path / "last-year.json"
    old.write_text(json.dumps(summary))
    again = grade_class(folder, out, assignment, jobs=2, progress=False,
                        workflow=ClassWorkflow(similarity=False, compare=read_summary(old), compare_name=str(old)))
    assert again.reused == 4
    assert {m.id: m.share_before for m in again.mistakes} == {"compute_gradients.no_bptt": 0.25,
                                                               "adagrad_step.eps_outside": None}
    assert [m.id for m in again.mistakes_gone] == ["forward.h0_unused"]
    index = (out / "index.html").read_text()
    assert "+25 pp" in index and "h0 not used (10%)" in index
