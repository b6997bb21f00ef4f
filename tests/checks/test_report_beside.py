"""The report's diagnostics beside the checks (grader.diagnostics.beside): the same report on one core or two,
and nothing of the submission's left running when a grading is given up while they run."""

from __future__ import annotations

import itertools
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
        work.start(lambda: ran_in.append(threading.current_thread()) or "done", TimeBudget(Limits()))
        assert work.result() == "done"
    assert ran_in and ran_in[0] is not threading.current_thread()


def test_on_one_core_the_work_runs_in_the_callers_thread_when_its_result_is_asked():
    ran_in = []
    with Beside[str](beside=False) as work:
        work.start(lambda: ran_in.append(threading.current_thread()) or "done", TimeBudget(Limits()))
        assert ran_in == []
        assert work.result() == "done"
    assert ran_in == [threading.current_thread()]


def test_the_works_exception_reaches_the_caller():
    def fails():
        raise ValueError("a grader bug")

    with Beside[None](beside=True) as work:
        work.start(fails, TimeBudget(Limits()))
        with pytest.raises(ValueError, match="a grader bug"):
            work.result()


def test_a_grading_given_up_stops_the_work_and_waits_until_it_has_cleaned_up():
    began, cleaned_up = threading.Event(), threading.Event()

    budget = TimeBudget(Limits())

    def runs_until_its_budget_is_stopped():
        began.set()
        try:
            while budget.remaining() > 0:  # as a sandbox call does: TimeBudget.stop ends it
                time.sleep(0.001)
        finally:
            cleaned_up.set()

    with pytest.raises(KeyboardInterrupt), Beside[None](beside=True) as work:
        work.start(runs_until_its_budget_is_stopped, budget)
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


class Recorded:
    """Each sandbox's life as a grading leads it, in order: made, worker launched, rnn.py loaded (with the text
    it loaded), closed; each event with the grading phase it began in."""

    PHASES = ("hidden_phase", "report_phase", "visible_phase", "grade_submission", "_start_and_hold")  # the last:
    # SandboxAhead's own thread, where a sandbox started ahead is made and started

    def __init__(self, monkeypatch):
        from grader.sandbox import sandbox as module

        self.events: list[tuple[str, int, str]] = []
        self.loaded: dict[int, str] = {}
        self._serials = itertools.count()  # not id(box): a closed box's id is the next box's on one core
        for method, event in (("__init__", "open"), ("_launch", "launch"), ("_load", "load"), ("close", "close")):
            monkeypatch.setattr(module.Sandbox, method, self._recording(getattr(module.Sandbox, method), event))

    def _recording(self, method, event):
        def recorded(box, *args, **kwargs):
            if event == "open":
                box.recorded_serial = next(self._serials)
            stack = {frame.name for frame in traceback.extract_stack()}
            self.events.append((event, box.recorded_serial,
                                next((phase for phase in self.PHASES if phase in stack), "")))
            if event == "load":
                self.loaded[box.recorded_serial] = (box.scratch_dir / "rnn.py").read_text()
            return method(box, *args, **kwargs)
        return recorded

    def boxes(self, event: str, phase: str) -> list[int]:
        """Each box with that event in that phase, once (a worker started again after a crash loads again)."""
        return list(dict.fromkeys(box for e, box, p in self.events if e == event and p == phase))

    def at(self, event: str, box: int) -> int:
        return next(i for i, (e, b, _) in enumerate(self.events) if e == event and b == box)


@pytest.mark.slow
@pytest.mark.parametrize("cores", [1, 2])
def test_the_report_and_the_visible_checks_sandboxes_are_gone_before_rnn_py_loads_in_the_hidden_one(monkeypatch, cores):
    """The report shows the student their own code's output, so it must not run while a hidden call could
    show the submission something (the unprivileged tier's sandboxes share the host's /tmp). With two cores the
    report's worker starts with the visible checks' one and the hidden checks' worker before they are done,
    but no code of the submission's runs in either before its turn."""
    recorded = Recorded(monkeypatch)
    result = grade_submission(SUBMISSIONS / "alice", load_assignment(), cores=cores)
    assert result.score == result.max_score and result.diagnostics is not None
    (visible,), (report,), (hidden,) = (recorded.boxes("load", phase)
                                        for phase in ("visible_phase", "report_phase", "hidden_phase"))
    assert len({e[1] for e in recorded.events}) == 3
    for box in (visible, report):
        assert recorded.at("close", box) < recorded.at("load", hidden)
    assert recorded.at("load", visible) < recorded.at("load", report)
    if cores == 2:  # both started ahead (asked for before the checks' load and once a stream ended)
        assert recorded.at("launch", hidden) < recorded.at("load", hidden)
        assert {report, hidden} <= set(recorded.boxes("launch", "_start_and_hold"))
    else:  # one after the other, each started where it is used
        assert recorded.at("close", visible) < recorded.at("open", report)
        assert recorded.at("close", report) < recorded.at("open", hidden)


@pytest.mark.slow
def test_when_rnn_py_does_not_load_the_report_started_ahead_is_dropped_unloaded(tmp_path, monkeypatch):
    (tmp_path / "rnn.py").write_text("def forward(:\n")
    recorded = Recorded(monkeypatch)
    result = grade_submission(tmp_path, load_assignment(), cores=2)
    assert result.load_failure is not None and result.diagnostics is None
    (visible,) = recorded.boxes("load", "visible_phase")
    opened = {box for event, box, _ in recorded.events if event == "open"}
    (ahead,) = opened - {visible}  # no hidden sandbox: it would only fail to load again
    assert ahead not in recorded.loaded and ahead in recorded.boxes("launch", "_start_and_hold")
    assert all(("close", box) in {(e, b) for e, b, _ in recorded.events} for box in opened)


@pytest.mark.slow
def test_a_report_on_the_definitions_alone_loads_them_in_the_sandbox_started_ahead(tmp_path, monkeypatch):
    """Top-level code that stops the import: the checks and the report grade the definitions alone, which
    replace rnn.py before the report's sandbox, its worker started ahead with no submission, takes its copy
    (it was closed unused when it had copied the whole file at its start)."""
    from tests.intake.conftest import ALICE, TOP_LEVEL_WORK

    (tmp_path / "rnn.py").write_text(ALICE + TOP_LEVEL_WORK)
    recorded = Recorded(monkeypatch)
    result = grade_submission(tmp_path, load_assignment(), include_hidden=False, cores=2)
    assert result.intake.warning and result.diagnostics is not None and result.score == result.max_score
    (report,) = recorded.boxes("load", "report_phase")
    assert "goblet_book.txt" not in recorded.loaded[report]
    assert report in recorded.boxes("launch", "_start_and_hold")
    assert all(box in recorded.loaded for box in recorded.boxes("launch", "_start_and_hold"))
