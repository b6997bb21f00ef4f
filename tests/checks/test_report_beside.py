"""The report's diagnostics beside the checks (grader.diagnostics.beside): the same report on one core or two,
and nothing of the submission's left running when a grading is given up while they run."""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path

import pytest

import grader.grading
from grader.assignment import load_assignment
from grader.diagnostics.beside import Beside, cpu_quota
from grader.grading import grade_submission
from grader.sandbox import Limits, TimeBudget

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"


def test_beside_the_work_runs_in_a_thread_of_its_own():
    ran_in = []
    with Beside[str](beside=True) as work:
        work.start(lambda budget: ran_in.append(threading.current_thread()) or "done", TimeBudget(Limits()))
        assert work.result() == "done"
    assert ran_in and ran_in[0] is not threading.current_thread()


def test_on_one_core_the_work_runs_in_the_callers_thread_when_its_result_is_asked():
    ran_in = []
    with Beside[str](beside=False) as work:
        work.start(lambda budget: ran_in.append(threading.current_thread()) or "done", TimeBudget(Limits()))
        assert ran_in == []
        assert work.result() == "done"
    assert ran_in == [threading.current_thread()]


def test_the_works_exception_reaches_the_caller():
    def fails(budget):
        raise ValueError("a grader bug")

    with Beside[None](beside=True) as work:
        work.start(fails, TimeBudget(Limits()))
        with pytest.raises(ValueError, match="a grader bug"):
            work.result()


def test_a_grading_given_up_stops_the_work_and_waits_until_it_has_cleaned_up():
    began, cleaned_up = threading.Event(), threading.Event()

    def runs_until_its_budget_is_stopped(budget):
        began.set()
        try:
            while budget.remaining() > 0:  # as a sandbox call does: TimeBudget.stop ends it
                time.sleep(0.001)
        finally:
            cleaned_up.set()

    with pytest.raises(KeyboardInterrupt), Beside[None](beside=True) as work:
        work.start(runs_until_its_budget_is_stopped, TimeBudget(Limits()))
        began.wait()
        raise KeyboardInterrupt
    assert cleaned_up.is_set()


def test_a_cpu_quota_of_the_process_group_or_of_a_group_above_it_caps_the_cores(tmp_path):
    """A container started with --cpus 1.5 on a larger machine: one core for the grading, not its affinity."""
    (tmp_path / "docker" / "abc").mkdir(parents=True)
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "docker" / "cpu.max").write_text("150000 100000\n")
    (tmp_path / "docker" / "abc" / "cpu.max").write_text("max 100000\n")
    assert cpu_quota(tmp_path, {"": "/docker/abc"}) == 1.5
    (tmp_path / "cpu" / "grading").mkdir(parents=True)  # cgroup v1: the cpu hierarchy's own mount
    (tmp_path / "cpu" / "grading" / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / "cpu" / "grading" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_quota(tmp_path, {"cpu": "/grading", "": "/docker/abc"}) == 1.0


def test_no_quota_set_or_none_readable_leaves_the_cores_as_they_are(tmp_path):
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpu_quota(tmp_path, {"": "/"}) is None
    assert cpu_quota(tmp_path / "missing", {"": "/", "cpu": "/"}) is None


@pytest.mark.slow
def test_the_report_is_the_same_beside_the_checks_and_after_them():
    """bug_global_rng samples with numpy's global random state: its report's text would depend on the calls
    made before in the same worker, so the diagnostics run in a fresh one either way."""
    assignment = load_assignment()

    def stable(result):
        checks = [(c.name, c.score, c.reason, c.feedback, c.hint) for c in result.checks]
        return checks, result.diagnostics

    alone, beside = (grade_submission(SUBMISSIONS / "bug_global_rng", assignment, cores=n) for n in (1, 2))
    assert beside.diagnostics is not None and beside.diagnostics.training.samples
    assert stable(alone) == stable(beside)


BUSY_TRAIN = '''

def train(*args, **kwargs):
    while True:
        pass
'''


@pytest.mark.slow
def test_a_grading_given_up_while_its_diagnostics_run_leaves_no_process_of_the_submissions(tmp_path, monkeypatch):
    (tmp_path / "rnn.py").write_text((SUBMISSIONS / "alice" / "rnn.py").read_text() + BUSY_TRAIN)
    boxes, started = [], threading.Event()
    diagnose = grader.grading.run_diagnostics

    def run_diagnostics(box, assignment, oracle):
        boxes.append(box)
        started.set()
        return diagnose(box, assignment, oracle)

    def checks_that_fail(*args, **kwargs):
        started.wait()
        raise RuntimeError("a grader bug in the checks")

    monkeypatch.setattr(grader.grading, "run_diagnostics", run_diagnostics)
    monkeypatch.setattr(grader.grading.Plan, "run_checks", checks_that_fail)
    # Calls that would run for days: only the stop ends the busy train.
    limits = Limits(call_seconds=1e6, total_seconds=1e6)
    with pytest.raises(RuntimeError, match="a grader bug in the checks"):
        grade_submission(tmp_path, load_assignment(), limits=limits, cores=2)
    assert not any(t.name == "report-diagnostics" for t in threading.enumerate())
    (box,) = boxes
    assert not box.scratch_dir.exists()  # a sandbox's folder goes once every process of it is gone


@pytest.mark.slow
@pytest.mark.parametrize("cores", [1, 2])
def test_the_reports_sandbox_is_gone_before_the_hidden_checks_sandbox_opens(monkeypatch, cores):
    """The report shows the student their own code's output, so it must not run while a hidden call could
    show the submission something (the unprivileged tier's sandboxes share the host's /tmp)."""
    from grader.sandbox import sandbox as module

    events: list[tuple[str, int]] = []
    hidden: list[int] = []
    init, close = module.Sandbox.__init__, module.Sandbox.close

    def opened(self, *args, **kwargs):
        init(self, *args, **kwargs)
        events.append(("open", id(self)))
        if any(frame.name == "hidden_phase" for frame in traceback.extract_stack()):
            hidden.append(id(self))

    def closed(self):
        events.append(("close", id(self)))
        close(self)

    monkeypatch.setattr(module.Sandbox, "__init__", opened)
    monkeypatch.setattr(module.Sandbox, "close", closed)
    result = grade_submission(SUBMISSIONS / "alice", load_assignment(), cores=cores)
    assert result.score == result.max_score and result.diagnostics is not None
    opens = [box for event, box in events if event == "open"]
    assert len(opens) == 3 and len(hidden) == 1  # the visible checks, the report, the hidden checks
    hidden_opened = events.index(("open", hidden[0]))
    assert all(("close", box) in events[:hidden_opened] for box in opens if box != hidden[0])
