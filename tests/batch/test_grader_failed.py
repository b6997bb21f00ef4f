"""A submission the grader itself failed on has no grade: no 0 in grades.csv, canvas.csv or moodle.csv, the
summary, the terminal, the overview and the exit status name it, and any rerun grades it again."""

import csv
import functools
import io
import json

import pytest
from shipped_course import shipped

from grader import cli
from grader.batch import keys
from grader.batch import run as batch_run
from grader.batch.regrade import STAGING
from grader.batch.run import grade_class
from grader.batch.task import failure_text
from grader.batch.workflow import ClassWorkflow, read_summary
from grader.errors import ExitCode
from grader.results import ClassResult, Problem

from .conftest import make_folder, make_zip
from .fakes import CHECKS, fake_grade

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ASSIGNMENT = shipped()
# Named as Canvas's and Moodle's downloads name them, so that each has its line in that LMS's file.
FINE_CANVAS, BUGGY_CANVAS = "quistrita_1001_54321_rnn", "bergolle_1002_54322_rnn"
FINE_MOODLE, BUGGY_MOODLE = "Ann Ek_11_assignsubmission_file_", "Bo Ek_12_assignsubmission_file_"


@pytest.fixture
def fake_cli(monkeypatch):
    # the command line imports the class run when it grades a class: the stand-in is put where it looks
    monkeypatch.setattr(batch_run, "grade_class", functools.partial(grade_class, grade=fake_grade, progress=False))


def _grade(class_dir, out, **options):
    return grade_class(class_dir, out, ASSIGNMENT, jobs=2, grade=fake_grade, progress=False,
                       workflow=ClassWorkflow(similarity=False), **options)


def _main(class_dir, out) -> int:
    return cli.main([str(class_dir), "--out", str(out), "--jobs", "2", "--no-similarity"])


def _csv(path):
    return list(csv.reader(io.StringIO(path.read_text(), newline="")))


def _grades(out) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text(), newline=""))}


def _summary(out) -> ClassResult:
    return ClassResult.from_dict(json.loads((out / "summary.json").read_text()))


def test_a_submission_the_grader_failed_on_has_no_grade_anywhere_and_a_plain_rerun_grades_it(class_dir, tmp_path,
                                                                                              fake_cli, capsys):
    fault = tmp_path / "fault"  # outside the class folder: its content stays the same whether the fault is there
    fault.touch()
    make_folder(class_dir, FINE_CANVAS, "# score: 6\n")
    make_folder(class_dir, BUGGY_CANVAS, f"# score: 6\n# grader-bug-while {fault}\n")
    make_folder(class_dir, FINE_MOODLE, "# score: 3\n")
    make_folder(class_dir, BUGGY_MOODLE, f"# score: 3\n# grader-bug-while {fault}\n")
    out, details = tmp_path / "out", []
    for run in range(2):  # a plain rerun with the fault still there grades them again, and says the same
        assert _main(class_dir, out) == ExitCode.GRADER_FAILED
        grades = _grades(out)
        for name in (BUGGY_CANVAS, BUGGY_MOODLE):
            assert [grades[name][c] for c in ("raw_score", CHECKS[0][0], CHECKS[1][0], "final_score")] == [""] * 4
            assert grades[name]["problem"].startswith("the grader failed: The grader itself failed on this submission "
                                                      "(RuntimeError: a bug in the grader, grading ")
        assert (grades[FINE_CANVAS]["final_score"], grades[FINE_MOODLE]["final_score"]) == ("10", "7")
        canvas = _csv(out / "canvas.csv")
        assert {r[1]: r[-1] for r in canvas[2:]} == {"1001": "10"}  # no line for 1002: Canvas keeps what it has
        assert [r[:4] for r in _csv(out / "moodle.csv")[1:]] == [["Participant 11", "Ann Ek", "", "7"]]
        rows = {r["name"]: r for r in json.loads((out / "summary.json").read_text())["submissions"]}
        for name in (BUGGY_CANVAS, BUGGY_MOODLE):  # no grade: null, never a 0 a reader would average
            assert (rows[name]["score"], rows[name]["final_score"], set(rows[name]["check_scores"].values())) == (
                None, None, {None})
        assert read_summary(out / "summary.json").grader_failed == (BUGGY_MOODLE, BUGGY_CANVAS)  # --compare reads it
        summary = _summary(out)
        assert summary.graded_now == (4, 2)[run] and summary.grader_failed == (BUGGY_MOODLE, BUGGY_CANVAS)
        assert {s.name: s.problem for s in summary.submissions}[BUGGY_CANVAS] is Problem.GRADER_FAILED
        assert (summary.mean_score, summary.median_score) == (8.5, 8.5)  # of the two grades there are
        printed = " ".join(capsys.readouterr().out.split())
        assert (f"The grader itself failed on 2 submission(s): {BUGGY_MOODLE}, {BUGGY_CANVAS}. They have no grade"
                in printed)
        assert "please report it" in printed and "no grade" in printed.split(BUGGY_CANVAS)[1]
        page = (out / "index.html").read_text()
        assert 'id="grader-failed"' in page and "RuntimeError: a bug in the grader" in page
        details.append([s.problem_detail for s in summary.submissions])
    assert details[0] == details[1]

    fault.unlink()  # the grader fixed: the next plain run grades them, and their grades are stored at once
    assert _main(class_dir, out) == ExitCode.OK
    summary = _summary(out)
    assert summary.graded_now == 2 and summary.grader_failed == () and summary.regrade == ()
    assert {s.name: s.score for s in summary.submissions} == {BUGGY_MOODLE: 7, FINE_MOODLE: 7, BUGGY_CANVAS: 10,
                                                               FINE_CANVAS: 10}
    assert {r[1]: r[-1] for r in _csv(out / "canvas.csv")[2:]} == {"1001": "10", "1002": "10"}
    assert [r[3] for r in _csv(out / "moodle.csv")[1:]] == ["7", "7"]
    assert _main(class_dir, out) == ExitCode.OK and _summary(out).graded_now == 0


def test_retry_failed_grades_again_what_the_grader_failed_on_and_keeps_the_rest(class_dir, tmp_path):
    fault = tmp_path / "fault"
    fault.touch()
    make_folder(class_dir, "fine", "# score: 6\n")
    make_folder(class_dir, "buggy", f"# score: 2\n# grader-bug-while {fault}\n")
    out = tmp_path / "out"
    assert _grade(class_dir, out).grader_failed == ("buggy",)
    fault.unlink()
    retried = _grade(class_dir, out, retry_failed=True)
    assert retried.graded_now == 1 and retried.grader_failed == () and retried.regrade == ()
    assert {s.name: (s.score, s.problem, s.reused) for s in retried.submissions} == {
        "buggy": (6, Problem.NONE, False), "fine": (10, Problem.NONE, True)}


def test_a_failed_regrade_keeps_the_earlier_result_on_disk_but_exports_no_grade_until_retried(class_dir, tmp_path,
                                                                                            monkeypatch):
    fault = tmp_path / "fault"
    make_folder(class_dir, "fine", "# score: 6\n")
    make_folder(class_dir, "quistrita_1001_54321_rnn", f"# score: 2\n# grader-bug-while {fault}\n")
    out = tmp_path / "out"
    _grade(class_dir, out)
    monkeypatch.setattr(keys, "code_digest", lambda: "the grader changed")
    fault.touch()
    regraded = _grade(class_dir, out)
    row = {s.name: s for s in regraded.submissions}["quistrita_1001_54321_rnn"]
    assert row.problem is Problem.GRADER_FAILED and regraded.grader_failed == (row.name,) and regraded.regrade == ()
    assert "regrading it failed; its earlier result (6/10) stays in quistrita_1001_54321_rnn/" in row.note
    assert '"score": 6' in (out / row.name / "results.json").read_text()
    assert _csv(out / "canvas.csv")[2:] == []
    fault.unlink()
    retried = _grade(class_dir, out, retry_failed=True)
    assert retried.graded_now == 1 and retried.grader_failed == ()
    assert {r[1]: r[-1] for r in _csv(out / "canvas.csv")[2:]} == {"1001": "6"}
    assert not (out / STAGING / row.name).exists()


def test_the_failure_reads_the_same_on_every_run_whatever_scratch_folder_the_zip_was_unpacked_in(class_dir, tmp_path):
    fault = tmp_path / "fault"
    fault.touch()
    make_zip(class_dir, "zipped.zip", {"rnn.py": f"# grader-bug-while {fault}\n"})
    details = [_grade(class_dir, tmp_path / f"out{i}").submissions[0].problem_detail for i in range(2)]
    assert details[0] == details[1] and "grading <scratch>/unpacked/rnn.py" in details[0]


def test_a_failure_is_one_printable_line_of_bounded_length():
    text = failure_text(ValueError("bad\n\x1b[2J value " + "x" * 1000), {})
    assert text.startswith("ValueError: bad \\x1b[2J value xx") and "\n" not in text and len(text) < 400
    assert failure_text(KeyError(), {}) == "KeyError"


def test_a_sandbox_found_unusable_in_the_grading_process_is_the_graders_failure(class_dir, tmp_path):
    make_folder(class_dir, "alice", "# sandbox-unavailable\n")
    make_folder(class_dir, "bob", "# score: 6\n")
    result = _grade(class_dir, tmp_path / "out")
    assert result.grader_failed == ("alice",)
    assert "SandboxUnavailable: the system-call filter's probe gave no verdict" in result.submissions[0].problem_detail


def _lost_worker(task, grade):
    raise RuntimeError("the worker was lost")  # as Dask's KilledWorker reaches the client, after its retries


def test_on_a_dask_cluster_a_grader_failure_or_a_lost_worker_is_no_grade(class_dir, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed", reason='Dask is an optional extra: pip install ".[dask]"')
    fault = tmp_path / "fault"
    fault.touch()
    make_folder(class_dir, "buggy", f"# grader-bug-while {fault}\n")
    make_folder(class_dir, "fine", "# score: 6\n")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        graded = _grade(class_dir, tmp_path / "out", dask_address=cluster.scheduler_address)
        assert graded.grader_failed == ("buggy",) and {s.name: s.score for s in graded.submissions}["fine"] == 10
        monkeypatch.setattr("grader.batch.cluster._run_on_worker", _lost_worker)
        lost = _grade(class_dir, tmp_path / "out", dask_address=cluster.scheduler_address)
    assert lost.grader_failed == ("buggy",) and lost.graded_now == 1  # the fine one's grade stands
    assert "the Dask workers grading it failed: RuntimeError: the worker was lost" in lost.submissions[0].problem_detail
