"""The instructor's workflow on a class graded by the fake grader, through the command line: students from
LMS names, the ledger kept across regrades, the LMS files, the similarity page, --fail-under."""

import csv
import functools
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.batch import run as batch_run
from grader.batch.run import grade_class
from grader.results import ClassResult
from grader.secret import SECRET_FILE
from grader.specfile import default_spec_dir

from .conftest import make_folder
from .fakes import fake_grade

EXAMPLES = Path(__file__).resolve().parents[2] / "submissions"

OVERRIDES = """\
- student: "1002"
  check: "init_params: shapes"
  points: 6
  reason: shapes were right, transposed by the template's comment
  by: Anna (TA)
  at: 2026-03-05T10:00:00+01:00
"""
LATE_POLICY = """\
deadline: 2026-03-01T23:59:00+01:00
percent_per_day: 10
cap_percent: 50
"""
STUDENTS = """\
submission,student_id,name,submitted_at
quistrita_late_1001_54321_rnn,,,2026-03-03T12:00:00+01:00
smithalice_1002_55555_rnn,,,2026-03-01T20:00:00+01:00
"""


@pytest.fixture
def fake_cli(monkeypatch):
    # the command line imports the class run when it grades a class: the stand-in is put where it looks
    monkeypatch.setattr(batch_run, "grade_class", functools.partial(grade_class, grade=fake_grade, progress=False))


def _rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in csv.DictReader(io.StringIO(path.read_text(), newline=""))}


@pytest.mark.long
def test_the_ledger_changes_final_scores_is_kept_across_regrades_and_reaches_the_lms_files(class_dir, tmp_path, fake_cli, capsys):
    make_folder(class_dir, "quistrita_late_1001_54321_rnn", "# score: 6\n")
    make_folder(class_dir, "smithalice_1002_55555_rnn", "# score: 2\n")
    make_folder(class_dir, "Bo Ek_77_assignsubmission_file_", "# score: 6\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "overrides.yaml").write_text(OVERRIDES)
    (out / "late-policy.yaml").write_text(LATE_POLICY)
    (out / "students.csv").write_text(STUDENTS)

    for run in ([], ["--force"]):  # the second run regrades everything: the ledger still applies
        assert cli.main([str(class_dir), "--out", str(out), "--jobs", "2", "--no-similarity", *run]) == 0
        grades = _rows(out / "grades.csv")
        rita, alice = grades["quistrita_late_1001_54321_rnn"], grades["smithalice_1002_55555_rnn"]
        # Rita: 10 raw, 2 started days late: 10% a day of 10 possible points.
        assert (rita["student_id"], rita["raw_score"], rita["late_days"], rita["final_score"]) == ("1001", "10", "2", "8")
        # Alice: raw 6, the override gives init_params its 6 points: final 10; on time.
        assert (alice["raw_score"], alice["init_params: shapes"], alice["final_score"]) == ("6", "2", "10")
        assert "Anna (TA)" in alice["adjustments"] and "+4" in alice["adjustments"]

    summary = ClassResult.from_dict(json.loads((out / "summary.json").read_text()))
    assert {s.name: (s.score, s.final_score) for s in summary.submissions}["smithalice_1002_55555_rnn"] == (6, 10)
    # The Moodle student has no submission time: no penalty, and the warning says so.
    assert any("no submission time is known for 1 submission(s)" in w and "Bo Ek" in w for w in summary.warnings)

    canvas = list(csv.reader(io.StringIO((out / "canvas.csv").read_text(), newline="")))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "RNN assignment"]
    assert {r[1]: r[-1] for r in canvas[2:]} == {"1001": "8", "1002": "10"}
    moodle = list(csv.reader(io.StringIO((out / "moodle.csv").read_text(), newline="")))
    assert [r[:4] for r in moodle[1:]] == [["Participant 77", "Bo Ek", "", "10"]]
    page = (out / "index.html").read_text()
    assert "Anna (TA)" in page and "no submission time is known" in page
    printed = " ".join(capsys.readouterr().out.split())
    assert "warning: canvas.csv: Bo Ek_77_assignsubmission_file_: no Canvas ID" in printed


def test_a_bad_ledger_file_stops_before_any_grading(class_dir, tmp_path, fake_cli, capsys):
    make_folder(class_dir, "alice")
    out = tmp_path / "out"
    out.mkdir()
    (out / "overrides.yaml").write_text(OVERRIDES.replace("  by: Anna (TA)\n", ""))
    assert cli.main([str(class_dir), "--class", "--out", str(out)]) == 2  # one student: a class only if asked
    assert "override 1: missing by" in capsys.readouterr().err
    assert not (out / "alice").exists()


def test_a_file_that_is_no_moodle_worksheet_stops_before_any_grading(class_dir, tmp_path, fake_cli, capsys):
    make_folder(class_dir, "Bo Ek_77_assignsubmission_file")
    (tmp_path / "grades.csv").write_text("name,grade\nbo,3\n")
    out = tmp_path / "out"
    assert cli.main([str(class_dir), "--class", "--out", str(out), "--moodle-worksheet", str(tmp_path / "grades.csv")]) == 2
    assert "is not Moodle's grading worksheet (no 'Identifier' column" in " ".join(capsys.readouterr().err.split())
    assert not (out / "Bo Ek_77_assignsubmission_file").exists()


@pytest.mark.long
def test_fail_under_for_a_class_exits_1_and_names_who_is_below(class_dir, tmp_path, fake_cli, capsys):
    make_folder(class_dir, "good", "# score: 6\n")
    make_folder(class_dir, "weak", "# score: 1\n")
    out = tmp_path / "out"
    assert cli.main([str(class_dir), "--out", str(out), "--no-similarity", "--fail-under", "8"]) == 1
    assert "1 below --fail-under 8: weak" in " ".join(capsys.readouterr().out.split())
    assert cli.main([str(class_dir), "--out", str(out), "--no-similarity", "--fail-under", "5"]) == 0


def test_the_similarity_page_is_linked_from_the_overview_and_never_changes_a_score(class_dir, tmp_path, fake_cli):
    for name in ("alice", "vectorised", "template"):
        shutil.copytree(EXAMPLES / name, class_dir / name)
    (class_dir / "copycat").mkdir()
    code = (EXAMPLES / "alice" / "rnn.py").read_text()
    (class_dir / "copycat" / "rnn.py").write_text(re.sub(r"\bparams\b", "theta", code))
    out = tmp_path / "out"
    assert cli.main([str(class_dir), "--out", str(out)]) == 0
    summary = ClassResult.from_dict(json.loads((out / "summary.json").read_text()))
    assert summary.similarity.flagged == 1
    assert {s.name: s.final_score for s in summary.submissions} == {s.name: s.score for s in summary.submissions}
    assert 'href="similarity.html"' in (out / "index.html").read_text()
    page = (out / "similarity.html").read_text()
    assert "alice and copycat" in page and "template" in page  # shown as left out: too little code of its own


def test_a_class_run_with_a_misspelled_check_in_grading_yaml_grades_no_one_and_exits_2(class_dir, tmp_path):
    """The spec is validated whole at load: not each student's 0/100 with the grader's own failure, and exit 0."""
    for name in ("alice", "bob"):
        shutil.copytree(EXAMPLES / "alice", class_dir / name)
    spec = tmp_path / "spec"
    shutil.copytree(default_spec_dir(), spec, ignore=shutil.ignore_patterns("__pycache__", SECRET_FILE))
    grading = spec / "grading.yaml"
    text = grading.read_text()
    assert '"forward: H matches reference":' in text
    grading.write_text(text.replace('"forward: H matches reference":', '"forward: H matches referense":'))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "grader", str(class_dir), "--spec", str(spec), "--out", str(out)],
                          capture_output=True, text=True, cwd=EXAMPLES.parent, timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {grading}: check 'forward: H matches referense': no such check in the suite (grader.checks)"]
    assert not out.exists()
