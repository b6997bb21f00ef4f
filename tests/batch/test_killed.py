"""Killed at any moment, nothing left behind and nothing lost (issue 26).

A class run (tests/batch/killable.py, grading with fakes.held_grade, which waits for the test's go-ahead)
is SIGKILLed at chosen points: the grader itself, or one of its grading processes, or a Dask worker. Each
time: no process of the run is left once a bounded wait ends, every results.json is whole or absent, and a
rerun leaves no scratch folder, temporary file or control group of the killed run and writes the same
grades.csv, canvas.csv and moodle.csv (but for its "Last modified (grade)" column, the time it was written,
and summary.json but for the run's own counts and time) as a run that was never interrupted. A claimed scratch folder (grader.sandbox.claims) names the process that made
it, so what the killed run left can be told from what other graders on the machine are doing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.atomic import UNFINISHED
from grader.batch.run import grade_class
from grader.outputs import RESULTS
from grader.sandbox.claims import SUFFIX
from grader.sandbox.scratch import sandboxes_folder

from .conftest import make_folder
from .fakes import held_grade

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
RUN_MARK = "RNN_GRADER_TEST_KILLED_RUN"
GONE_SECONDS = 10.0  # "a few seconds": the kernel's parent-death signal takes milliseconds
WAIT_SECONDS = 180.0  # for a run to reach a point (a sandbox starts in a second or two, more under load)
NAMES = "abcd"
CLASS_FILES = ("grades.csv", "canvas.csv", "moodle.csv")
VOLATILE = ("seconds", "graded_now", "reused")  # summary.json's figures of the run itself
GONE: list[float] = []  # seconds each bounded wait took until the processes were gone

SANDBOXED = """# sandbox
import os, time


def init_params(*args):
    return None


if os.fork() == 0:  # a daemon of the submission's own: it must die with its sandbox
    os.setsid()
    time.sleep(600)
    os._exit(0)
"""


def _class(folder: Path, control: Path, sandboxed: bool) -> None:
    control.mkdir(exist_ok=True)
    for score, name in enumerate(NAMES, start=2):
        make_folder(folder, name, f"# score: {score}\n# name: {name}\n# control: {control}\n" + (SANDBOXED if sandboxed else ""))


class _Run:
    """tests/batch/killable.py in a process of its own, with this test's temporary folders."""

    def __init__(self, tmp_path: Path, out: Path, *options: str):
        self.out, self.control = out, tmp_path / "control"
        self.pids: set[int] = set()  # of the run's processes, as seen at the kill
        self.mark = f"{RUN_MARK}={secrets.token_hex(8)}"
        env = {**os.environ, RUN_MARK: self.mark.partition("=")[2]}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.batch.killable", str(tmp_path / "class"), str(out), str(self.control), *options],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended before {what}: {self.process.stderr.read().decode()[-2000:]}")
            assert time.monotonic() < deadline, f"the run did not reach {what}"
            time.sleep(0.02)

    def started(self) -> list[str]:
        return sorted(p.name.removeprefix("started-") for p in self.control.glob("started-*") if not p.name.endswith(".tmp"))

    def finished(self) -> list[str]:
        return sorted(p.parent.name for p in self.out.glob("*/.grading-key"))

    def processes(self) -> set[tuple[int, bytes]]:
        """The run's processes now: the grader's descendants (sandboxes too), and whatever carries its mark."""
        return descendants(self.process.pid) | {p for p in _all() if self.mark.encode() in _environ(p[0])}

    def kill(self) -> set[tuple[int, bytes]]:
        """SIGKILL the grader; return its processes as they were the moment before."""
        seen = self.processes()
        self.pids |= {pid for pid, _ in seen}
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()
        return seen

    def end(self) -> None:
        _, err = self.process.communicate(timeout=WAIT_SECONDS)
        assert self.process.returncode == 0, err.decode()[-3000:]


def descendants(root: int) -> set[tuple[int, bytes]]:
    """(pid, start time) of `root` and every process below it."""
    found, stack = set(), [root]
    while stack:
        pid = stack.pop()
        start = _start(pid)
        if start is None:
            continue
        found.add((pid, start))
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                stack.extend(int(c) for c in children.read_text().split())
            except (OSError, ValueError):
                pass
    return found


def _start(pid: int) -> bytes | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in (b"Z", b"X") else fields[19]


def _all() -> set[tuple[int, bytes]]:
    return {(int(p.name), start) for p in Path("/proc").iterdir() if p.name.isdigit() and (start := _start(int(p.name)))}


def _environ(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return []


def still_running(processes: set[tuple[int, bytes]]) -> list[int]:
    """The processes among `processes` still alive once they have had GONE_SECONDS to end (a bounded poll);
    how long they took is kept in GONE for the report."""
    started = time.monotonic()
    while True:
        alive = sorted(pid for pid, start in processes if _start(pid) == start)
        if not alive or time.monotonic() > started + GONE_SECONDS:
            GONE.append(time.monotonic() - started)
            return alive
        time.sleep(0.02)


def leftovers(run: _Run) -> dict[str, object]:
    """What the killed run left in its output and temporary folders, after asserting every results.json whole."""
    for results in run.out.glob(f"**/{RESULTS}"):
        document = json.loads(results.read_text())  # whole, or this raises
        assert document["extra_data"]["result"]["name"] == results.parent.name
    claimed = claimed_by(run.pids)
    return {
        "results": sorted(p.parent.name for p in run.out.glob(f"*/{RESULTS}")),
        "keys": run.finished(),
        "temporary files": sorted(str(p.relative_to(run.out)) for p in run.out.rglob("*") if UNFINISHED.fullmatch(p.name)),
        "class files": sorted(p.name for p in run.out.glob("*") if p.is_file() and not p.name.startswith(".")),
        "claimed folders": claimed,
        "control groups": _groups(claimed),
    }


def claimed_by(pids: set[int]) -> list[str]:
    """The claimed scratch folders on this machine that processes among `pids` made."""
    found = []
    for base in (Path(tempfile.gettempdir()), sandboxes_folder()):
        for claim in base.glob(f"rnn-grader-*{SUFFIX}"):
            try:
                owner = json.loads(claim.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue
            if owner in pids:
                found.append(claim.name.removesuffix(SUFFIX))
    return sorted(found)


def _groups(names: list[str]) -> list[str]:
    """The control groups of these sandboxes still there, in any hierarchy. os.walk passes over a folder that
    goes while it looks (another test's sandbox closing), where Path.glob raised FileNotFoundError."""
    wanted = set(names)
    return sorted(os.path.join(folder, name) for folder, subfolders, _ in os.walk("/sys/fs/cgroup")
                  if os.path.basename(folder) == "rnn-grader" for name in subfolders if name in wanted)


def uninterrupted(tmp_path: Path) -> Path:
    """The class graded again, everything released, into a new folder without interruption."""
    (tmp_path / "control" / "release-all").touch()
    grade_class(tmp_path / "class", tmp_path / "uninterrupted", load_assignment(), jobs=2, grade=held_grade, progress=False)
    return tmp_path / "uninterrupted"


def rerun_matches(tmp_path: Path, killed_run: _Run, *options: str) -> dict[str, object]:
    """Grade the class again with everything released; assert the killed run's traces are gone and the class
    files are those of a run never interrupted; return what the rerun graded and left."""
    out = killed_run.out
    (tmp_path / "control" / "release-all").touch()
    _Run(tmp_path, out, *options).end()
    left = leftovers(killed_run)  # before the uninterrupted run below, which would sweep too
    reference = uninterrupted(tmp_path)
    for name in CLASS_FILES:
        assert _class_file(out, name) == _class_file(reference, name), name
    assert _summary(out) == _summary(reference)
    assert left["temporary files"] == left["claimed folders"] == left["control groups"] == []
    return {**left, "graded again": json.loads((out / "summary.json").read_text())["graded_now"]}


def _class_file(out: Path, name: str) -> list[list[str]]:
    """A class file's rows; moodle.csv's without the time it was written (Moodle keeps a grade changed by hand
    after that time), which differs from run to run."""
    rows = list(csv.reader(io.StringIO((out / name).read_text(), newline="")))
    if name == "moodle.csv" and rows:
        column = rows[0].index("Last modified (grade)")
        rows = [row[:column] + row[column + 1:] for row in rows]
    return rows


def _summary(out: Path) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    for field in VOLATILE:
        summary.pop(field)
    for row in summary["submissions"]:
        row.pop("reused")
    return summary


def report(point: str, before: dict, after: dict) -> None:
    print(f"\n{point} (all gone {GONE[-1]:.2f} s after the kill)\n  left by the kill: {before}\n  after the rerun: {after}")


def test_the_grader_killed_while_it_grades_leaves_no_process_and_a_rerun_completes_the_class(tmp_path):
    _class(tmp_path / "class", tmp_path / "control", sandboxed=False)
    out = tmp_path / "out"
    (tmp_path / "control" / "release-a").touch()
    run = _Run(tmp_path, out)
    run.wait_for(lambda: run.finished() == ["a"] and len(run.started()) == 3, "a graded, b and c grading")
    seen = run.kill()
    assert len(seen) == 3  # the grader and its two grading processes
    assert still_running(seen) == []
    before = leftovers(run)
    assert before["keys"] == ["a"]
    after = rerun_matches(tmp_path, run)
    assert after["graded again"] == 3
    report("grader killed: a graded, b and c grading (fakes)", before, after)


# --- with real sandboxes, whose submissions leave a daemon of their own ------------------------------------

def _all_grading(run: _Run) -> bool:
    return len(run.started()) == 2


def _between_results(run: _Run) -> bool:
    return run.finished() == ["a", "b"] and len(run.started()) == 4


def _during_similarity(run: _Run) -> bool:
    return (run.control / "similarity-started").exists()


KILL_POINTS = {  # point: (what the test releases first, when it kills)
    "while both jobs grade (a sandbox open in each)": ((), _all_grading),
    "between results (a, b stored; c, d grading)": (("release-a", "release-b"), _between_results),
    "while the similarity report is made (class files written once)": (("release-all",), _during_similarity),
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_the_grader_killed_at_any_point_leaves_nothing_and_a_rerun_gives_the_same_class_files(tmp_path, point):
    released, reached = KILL_POINTS[point]
    _class(tmp_path / "class", tmp_path / "control", sandboxed=True)
    for name in released:
        (tmp_path / "control" / name).touch()
    out = tmp_path / "out"
    run = _Run(tmp_path, out)
    run.wait_for(lambda: reached(run), point)
    seen = run.kill()
    assert still_running(seen) == []
    before = {"processes at the kill": len(seen), **leftovers(run)}
    report(f"grader killed {point}", before, rerun_matches(tmp_path, run))


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [0.2, 0.8, 2.0])
def test_the_grader_killed_at_a_moment_on_the_clock_leaves_nothing_and_a_rerun_gives_the_same_class_files(tmp_path, seconds):
    """Everything released, killed `seconds` after the first sandbox is up: wherever that moment falls
    (a result half stored, the class files half written: the machine's load decides), the same holds."""
    _class(tmp_path / "class", tmp_path / "control", sandboxed=True)
    (tmp_path / "control" / "release-all").touch()
    out = tmp_path / "out"
    run = _Run(tmp_path, out)
    run.wait_for(lambda: bool(run.started()), "the first sandbox up")
    time.sleep(seconds)  # the moment is the point of this test; its verdict does not depend on it
    seen = run.kill()
    assert still_running(seen) == []
    before = {"processes at the kill": len(seen), **leftovers(run)}
    report(f"grader killed {seconds:g} s after the first sandbox was up", before, rerun_matches(tmp_path, run))


@pytest.mark.slow
def test_a_grading_process_killed_mid_task_takes_its_sandbox_with_it_and_the_task_is_graded_again(tmp_path):
    _class(tmp_path / "class", tmp_path / "control", sandboxed=True)
    out = tmp_path / "out"
    run = _Run(tmp_path, out)
    run.wait_for(lambda: "a" in run.started(), "a grading")
    grading = int((run.control / "started-a").read_text())
    doomed = descendants(grading)  # the grading process, its sandbox, the submission's daemon
    assert len(doomed) >= 3
    run.pids |= {pid for pid, _ in doomed}
    os.kill(grading, signal.SIGKILL)
    assert still_running(doomed) == []
    (run.control / "release-all").touch()
    run.end()
    assert int((run.control / "started-a").read_text()) != grading  # graded again, by another process
    left = leftovers(run)  # swept when the grader saw the process die, and by the next one it started
    assert left["temporary files"] == left["claimed folders"] == left["control groups"] == []
    reference = uninterrupted(tmp_path)
    for name in CLASS_FILES:
        assert _class_file(out, name) == _class_file(reference, name), name
    report("one grading process killed while a grades", {"processes killed": len(doomed)}, left)
