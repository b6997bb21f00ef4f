"""A submission that times out while others are graded beside it is graded again alone before a grade is kept:
a noisy neighbour cannot lower a correct submission's grade, and a timeout it also has alone is its own."""

import csv
import io
import json

import pytest
from shipped_course import shipped

from grader.batch.errors import ClassInterrupted
from grader.batch.progress import ProgressReport
from grader.batch.run import grade_class

from .conftest import make_folder
from .fakes import fake_grade

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ASSIGNMENT = shipped()


def _class(class_dir, tmp_path, timeouts: int, bob: str = "# score: 6\n"):
    """alice times out the first `timeouts` times she is graded (each grading is a line in the returned file)."""
    gradings = tmp_path / "alice-gradings"
    make_folder(class_dir, "alice", f"# timeouts: {timeouts} {gradings}\n")
    make_folder(class_dir, "bob", bob)
    return gradings


def _grade(class_dir, out, **options):
    return grade_class(class_dir, out, ASSIGNMENT, grade=fake_grade, progress=False, **options)


def _csv_rows(out):
    return {r["name"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


def test_a_timeout_beside_others_is_graded_again_alone_and_only_that_result_is_kept(class_dir, tmp_path, capsys):
    gradings = _class(class_dir, tmp_path, timeouts=1)
    out = tmp_path / "out"
    result = grade_class(class_dir, out, ASSIGNMENT, grade=fake_grade, jobs=2)  # with its progress on the terminal
    assert gradings.read_text().splitlines() == ["timed out", "passed"]
    err = capsys.readouterr().err
    assert "alice: timed out while the class was graded 2 at a time; it is graded again alone after the others" in err
    assert "grading 1 submission again, one at a time" in err
    assert err.splitlines()[-1] == "[2/2] alice: 10/10, graded again alone"
    alice = {s.name: s for s in result.submissions}["alice"]
    assert (alice.score, alice.problem) == (10.0, "")
    assert alice.note == "timed out while the class was graded 2 at a time; graded again alone"
    stored = json.loads((out / "alice" / "results.json").read_text())
    assert stored["score"] == 10.0
    assert (_csv_rows(out)["alice"]["raw_score"], _csv_rows(out)["alice"]["problem"]) == ("10", "")
    summary = {s["name"]: s for s in json.loads((out / "summary.json").read_text())["submissions"]}
    assert summary["alice"]["score"] == 10.0 and summary["alice"]["note"] == alice.note
    assert summary["bob"]["note"] == "" and result.troubled == ()
    # The kept result is cached: a second run grades nobody again.
    assert _grade(class_dir, out, jobs=2).graded_now == 0
    assert len(gradings.read_text().splitlines()) == 2


def test_a_timeout_that_used_its_cpu_time_beside_others_is_not_graded_again(class_dir, tmp_path):
    make_folder(class_dir, "alice", "# timeout\n")
    make_folder(class_dir, "bob", "# score: 6\n")
    result = _grade(class_dir, tmp_path / "out", jobs=2)
    alice = {s.name: s for s in result.submissions}["alice"]
    assert (alice.problem, alice.note) == ("timed out", "")
    assert result.graded_now == 2


def test_graded_one_at_a_time_a_timeout_is_kept_without_a_rerun(class_dir, tmp_path):
    gradings = _class(class_dir, tmp_path, timeouts=1)
    result = _grade(class_dir, tmp_path / "out", jobs=1)
    assert gradings.read_text().splitlines() == ["timed out"]
    alice = {s.name: s for s in result.submissions}["alice"]
    assert (alice.score, alice.problem, alice.note) == (4.0, "timed out", "")


def test_a_submission_that_times_out_alone_too_keeps_its_timeout(class_dir, tmp_path):
    gradings = _class(class_dir, tmp_path, timeouts=5)
    out = tmp_path / "out"
    result = _grade(class_dir, out, jobs=2)
    assert gradings.read_text().splitlines() == ["timed out", "timed out"]
    alice = {s.name: s for s in result.submissions}["alice"]
    assert (alice.score, alice.problem) == (4.0, "timed out")
    assert alice.note == "timed out while the class was graded 2 at a time; graded again alone, and timed out again"
    assert _csv_rows(out)["alice"]["problem"].startswith("timed out")
    assert json.loads((out / "alice" / "results.json").read_text())["score"] == 4.0


def test_a_lone_submission_is_not_graded_twice_even_with_several_jobs(class_dir, tmp_path):
    gradings = tmp_path / "alice-gradings"
    make_folder(class_dir, "alice", f"# timeouts: 1 {gradings}\n")
    result = _grade(class_dir, tmp_path / "out", jobs=4)
    assert gradings.read_text().splitlines() == ["timed out"]
    assert result.submissions[0].problem == "timed out"


def test_retry_failed_regrades_a_parallel_timeout_alone_too(class_dir, tmp_path):
    gradings = _class(class_dir, tmp_path, timeouts=2, bob="# timeout\n")
    out = tmp_path / "out"
    assert {s.name: s.problem for s in _grade(class_dir, out, jobs=1).submissions} == {
        "alice": "timed out", "bob": "timed out"}
    retried = _grade(class_dir, out, jobs=2, retry_failed=True)
    assert gradings.read_text().splitlines() == ["timed out", "timed out", "passed"]
    assert [(c.name, c.before, c.after, c.applied) for c in retried.regrade] == [("alice", 4, 10, True)]
    notes = {s.name: s.note for s in retried.submissions}
    assert notes["alice"] == "timed out while the class was graded 2 at a time; graded again alone"
    assert "alone" not in notes["bob"]  # it used its CPU time: its timeout is its own, not a neighbour's doing
    assert json.loads((out / "alice" / "results.json").read_text())["score"] == 10.0


def test_a_parallel_timeout_is_not_stored_when_the_class_is_interrupted(class_dir, tmp_path):
    gradings = _class(class_dir, tmp_path, timeouts=1, bob="# interrupt\n")
    out = tmp_path / "out"
    with pytest.raises(ClassInterrupted):
        _grade(class_dir, out, jobs=2)
    assert not (out / "alice").exists()  # held for its rerun, which never came: nothing half-true is kept
    (class_dir / "bob" / "rnn.py").write_text("# score: 6\n")
    done = _grade(class_dir, out, jobs=2)
    assert {s.name: s.score for s in done.submissions} == {"alice": 10.0, "bob": 10.0}
    assert gradings.read_text().splitlines()[-1] == "passed"


def test_the_progress_shows_the_extra_grading_and_counts_it_as_waiting():
    stream, now = io.StringIO(), [0.0]
    report = ProgressReport(total=2, reused=0, stream=stream, jobs=2, clock=lambda: now[0])
    report.started("alice")
    report.started("bob")
    now[0] = 60.0
    report.again("alice", "timed out while the class was graded 2 at a time; it is graded again alone after the others")
    assert report.done == 0 and report.waiting == 1 and report.running_text() == "running: bob"
    report.finished("bob", 10, 10, "")
    report.alone(1)
    assert report.estimate() == 60.0  # one grading left, of the mean measured duration, one at a time
    report.started("alice")
    now[0] = 90.0
    report.finished("alice", 10, 10, "", "graded again alone")
    assert stream.getvalue().splitlines() == [
        "[0/2] alice: timed out while the class was graded 2 at a time; it is graded again alone after the others "
        "(running: bob; about 30 s left)",
        "[1/2] bob: 10/10 (about 30 s left)",
        "grading 1 submission again, one at a time",
        "[2/2] alice: 10/10, graded again alone",
    ]


@pytest.mark.slow
def test_on_a_dask_cluster_a_timeout_is_graded_again_alone(class_dir, tmp_path):
    distributed = pytest.importorskip("distributed", reason='Dask is an optional extra: pip install ".[dask]"')
    gradings = _class(class_dir, tmp_path, timeouts=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = _grade(class_dir, tmp_path / "out", dask_address=cluster.scheduler_address)
    assert gradings.read_text().splitlines() == ["timed out", "passed"]
    alice = {s.name: s for s in result.submissions}["alice"]
    assert alice.score == 10.0
    assert alice.note == "timed out while the class was graded in parallel on the Dask cluster; graded again alone"
