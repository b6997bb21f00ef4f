"""The progress names the running submissions and estimates what is left from this run's measured times."""

import io

from grader.batch.progress import ProgressReport, describe, estimate_seconds


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_estimate_uses_measured_durations_the_waiting_and_the_running_share():
    assert estimate_seconds([], waiting=10, running_elapsed=[5.0], jobs=2) is None
    # mean 60 s; 4 waiting -> 240 s; two running for 20 and 70 s -> 40 + 0 s more; two jobs at a time.
    assert estimate_seconds([50.0, 70.0], waiting=4, running_elapsed=[20.0, 70.0], jobs=2) == (240 + 40) / 2
    assert describe(None) == "time left: known after the first result"
    assert describe(30) == "about 30 s left" and describe(180) == "about 3 min left"


def test_plain_progress_lines_name_the_running_submissions_and_the_time_left():
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(total=4, reused=0, stream=stream, jobs=2, clock=clock)
    report.started("alice")
    report.started("bob")
    clock.now = 180.0
    report.finished("alice", 10, 10, "")
    report.started("carol")
    lines = stream.getvalue().splitlines()
    assert lines[-1] == "[1/4] alice: 10/10 (running: bob; about 3 min left)"
    clock.now = 200.0
    # bob has run 200 s (past the mean), carol 20 s: 160 s more; dave waits: 180 s; two jobs.
    assert report.estimate() == (0 + 160 + 180) / 2
    assert report.running_text() == "running: bob, carol"


def test_a_result_that_overtakes_its_start_leaves_nothing_running():
    stream = io.StringIO()
    report = ProgressReport(total=1, reused=0, stream=stream, clock=Clock())
    report.finished("alice", 10, 10, "")
    report.started("alice")
    assert report.running_text() == ""
