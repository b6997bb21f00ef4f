"""Ctrl-C: finished results stay whole, nothing is half written, and a rerun completes the class."""

import os
import signal
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.batch.errors import ClassInterrupted
from grader.batch.run import grade_class

from .conftest import make_folder
from .fakes import fake_grade

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ASSIGNMENT = shipped()


def _no_half_files(out):
    return [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _finished(out):
    return sorted(p.parent.name for p in out.glob("*/.grading-key"))


def test_an_interrupt_in_a_worker_stops_the_class_and_a_rerun_completes_it(class_dir, tmp_path):
    for name in "abcde":
        make_folder(class_dir, name, "# interrupt\n" if name == "c" else "# score: 6\n")
    out = tmp_path / "out"
    with pytest.raises(ClassInterrupted) as caught:
        grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=fake_grade, progress=False)
    finished = caught.value.finished
    # a and b came first; d, queued behind c, may have finished before the interrupt was seen.
    assert 2 <= finished <= 3 and caught.value.total == 5
    assert f"{finished} of 5 submissions have finished results" in str(caught.value)
    assert _finished(out) == ["a", "b", "d"][:finished]
    assert not (out / "c").exists() and not (out / "grades.csv").exists()
    assert _no_half_files(out) == []

    (class_dir / "c" / "rnn.py").write_text("# score: 6\n")
    done = grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=fake_grade, progress=False)
    assert (done.graded_now, done.reused) == (5 - finished, finished)
    assert _finished(out) == list("abcde") and (out / "index.html").is_file()


@pytest.fixture
def hears_ctrl_c():
    """SIGINT raising KeyboardInterrupt in this process, as in a grader started from a terminal: a suite run as
    a background job of a script (`pytest &`) inherits SIGINT ignored, and would never hear the fake's."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_whose_keyboard_interrupt_is_lost_still_stops_the_class(class_dir, tmp_path, hears_ctrl_c):
    """Raised inside a garbage collector's callback (Hypothesis registers one), KeyboardInterrupt is printed and
    dropped: here the handler the pool finds drops it outright, and the pool still stops on the signal."""
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    make_folder(class_dir, "a")
    make_folder(class_dir, "b", f"# signal-parent {os.getpid()}\n")
    with pytest.raises(ClassInterrupted):
        grade_class(class_dir, tmp_path / "out", ASSIGNMENT, jobs=2, grade=fake_grade, progress=False)
    assert not _running(int((class_dir / "b" / "grading.pid").read_text()))


def test_ctrl_c_in_the_grading_process_stops_the_running_workers(class_dir, tmp_path, hears_ctrl_c):
    # The fake sends SIGINT to this process, then grades for SLOW_SECONDS unless it is interrupted.
    make_folder(class_dir, "a")
    make_folder(class_dir, "b", f"# signal-parent {os.getpid()}\n")
    out = tmp_path / "out"
    with pytest.raises(ClassInterrupted) as caught:
        grade_class(class_dir, out, ASSIGNMENT, jobs=2, grade=fake_grade, progress=False)
    # the worker grading b (for SLOW_SECONDS, uninterrupted) is gone by the time grade_class returns
    assert not _running(int((class_dir / "b" / "grading.pid").read_text()))
    assert caught.value.total == 2 and caught.value.finished <= 1
    assert _no_half_files(out) == []
    assert not (out / "b").exists()
