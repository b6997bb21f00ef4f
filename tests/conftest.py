"""The test tiers: `python -m pytest` runs the fast tier; `python -m pytest --slow` (README, CI) runs everything.

Tests marked slow are deselected by default, unless the run selects nothing else (e.g. `python -m pytest
tests/kit`): a run never ends with "no tests ran" because of the tiers. An explicit `-m` decides alone.

The suite runs in parallel (pytest-xdist, from the test extra) unless `-n` says otherwise (`-n 0`: in this
process, as for `--pdb`). Tests that share an expensive module fixture or cache (a kit, a venv, one grading
read by several tests) are one `xdist_group`, so that one worker builds it, or made once by the first worker
that asks (made_once). Tests are handed out heaviest first (_heavy_first): the heads of the slow tier's longest
chains, its groups and other tests, then the fast tier's `long` ones (class runs and other tests that wait
seconds on their processes), then the rest.
"""

import fcntl
import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.secret import SECRET_ENV, SECRET_FILE
from grader.settings import CACHE_ENV
from grader.specfile import default_spec_dir

# A cache folder of the session's own (the reference's answers and bands, the sandbox probes' passes), so that a
# run never writes what it probed or staged into the user's ~/.cache/rnn-grader, and keeps the reference's answers
# warm for all its workers. Made when this conftest is imported, before the conftests below it are (the sandbox
# tests' conftest probes the tiers as it is imported), by the controller (xdist workers, and every process a test starts,
# inherit it). A test that wants another folder sets the variable itself.
SESSION_CACHE = None if os.environ.get("PYTEST_XDIST_WORKER") else tempfile.mkdtemp(prefix="rnn-grader-test-cache-")
if SESSION_CACHE is not None:
    os.environ[CACHE_ENV] = SESSION_CACHE


def pytest_unconfigure(config):
    if SESSION_CACHE is not None:
        shutil.rmtree(SESSION_CACHE, ignore_errors=True)


def pytest_configure(config):
    # One course secret for every run of the suite: a fresh clone would otherwise make its own, and the
    # cases drawn (so the smallest failing case a test may quote) would differ from clone to clone.
    os.environ.setdefault(SECRET_ENV, "the test suite's course secret")
    # Bytecode caches, even where PYTHONDONTWRITEBYTECODE is set: the suite starts a few hundred Python
    # processes that import the grader from this checkout (xdist workers, class runs' grading processes, the
    # command line, pytest sessions), and each would compile it again, and rewrite the test modules' asserts
    # again (about 0.1 s of CPU a process). The sandbox's own Python never writes one (-B, worker.py).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


# More workers than cores pay where a test waits on its processes: the slow tier's (a pip install, an image
# build, whole classes) most, with twice the cores. The fast tier keeps the cores busy with one worker more:
# each worker imports and collects the whole suite (workers that run nothing: 13.7 s of CPU with four, 10.4 s
# with three), and on two cores the fast tier took 95 s quiet with three workers, 96-98 s with four.
# More than 8 would only add collection and memory.
CORES = os.cpu_count() or 1
WORKERS = min(8, CORES + 1)
WORKERS_SLOW = min(8, 2 * CORES)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """`-n WORKERS --dist loadgroup` (WORKERS_SLOW with --slow) unless the command line chose; not under
    --pdb, nor in a session of the grader's own plugin (`--rnn-submission`, which grades once in this process)."""
    if hasattr(config, "workerinput"):  # a worker parses only the command line: the controller says the rest
        config.option.loadgroup = config.workerinput.get("rnn_dist") == "loadgroup"
        return
    if (not config.pluginmanager.hasplugin("xdist") or config.option.numprocesses is not None
            or config.getoption("usepdb") or config.getoption("rnn_submission", None) is not None):
        return
    config.option.numprocesses = WORKERS_SLOW if config.getoption("slow") else WORKERS
    if config.option.dist == "no":
        config.option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """Each xdist worker is told the distribution chosen above: with loadgroup, a worker names each test
    of a group after the group, which is how the controller keeps the group on one worker."""
    node.workerinput["rnn_dist"] = node.config.option.dist


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow (the whole suite)")


def pytest_collection_finish(session):
    # What collection made (the grader's and the tests' modules, a thousand test items) lives as long as the
    # session: frozen, it is out of the garbage collector's way, which no longer walks it on each full
    # collection. tests/checks and tests/intake in one process: 1.34 s -> 0.78 s of its 9.2 s of CPU in gc.
    gc.freeze()


def pytest_collection_modifyitems(config, items):
    # xdist hands tests out in this order: the longest first, so that none starts last on an idle machine.
    items.sort(key=_heavy_first)
    if getattr(config.option, "loadgroup", False):  # set on xdist's workers only: not with -n 0
        _name_groups(items)
    if config.getoption("--slow") or config.getoption("markexpr"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if len(slow) == len(items):
        return
    config.hook.pytest_deselected(items=slow)
    items[:] = [item for item in items if not item.get_closest_marker("slow")]


def _name_groups(items) -> None:
    """What xdist's loadgroup does on a worker, done where it did not: a test of an xdist_group is named after the
    group (`NODEID@GROUP`), which is how the controller keeps the group on one worker. xdist 3.8 sets
    item._nodeid, which pytest 9 no longer reads (a node's id is item._id): every test of a group went to any
    worker, and each worker that ran one built the group's module fixtures again (alice's real-text run, a
    graded class)."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # a pytest before 9.2 still reads item._nodeid, which xdist sets
        return
    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                         for mark in item.iter_markers("xdist_group")})
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


def _heavy_first(item) -> int:
    """0: a slow test that heads one of the longest chains (marker `first`: the Gradescope image, a venv with
    the dependencies installed, the student kit and its venv, a whole class graded), 1: a slow test of an xdist
    group (a grading several tests read), 2: another slow test, 3: a long test of the fast tier (a class run, a
    killed run, a real-text run: seconds of waiting on its processes), 4: the rest. The sort is stable: a
    module's tests of one rank stay together, in their order. xdist's loadgroup hands out the groups with the
    most tests first (its loadscope reorder; the Gradescope image's group leads), then the rest in this order,
    so the long ones overlap the many short ones instead of starting last on an idle machine."""
    if not item.get_closest_marker("slow"):
        return 3 if item.get_closest_marker("long") else 4
    if item.get_closest_marker("first"):
        return 0
    return 1 if item.get_closest_marker("xdist_group") else 2


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory) -> Path:
    """A folder of this session that all its xdist workers see (each worker's own base temp is inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def made_once(shared_folder) -> Callable[[str, Callable[[Path], Any]], Any]:
    """made_once(name, make): what make(folder) returned (plain data: it is kept as JSON), made once in the session
    by whichever worker asks first, into a fresh folder of the shared one; a worker that asks meanwhile waits
    for it. Where several tests read one costly thing (a kit, a venv, gradings), so that they need not share one
    worker (an xdist group) and can run side by side. A make that raised left no answer: the next asker makes
    it again, in an emptied folder."""

    def made(name: str, make: Callable[[Path], Any]) -> Any:
        folder, answer = shared_folder / name, shared_folder / f"{name}.json"
        with open(shared_folder / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not answer.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                # Written whole or not at all: a worker killed mid-write would leave every later asker a
                # truncated answer.
                partial = shared_folder / f"{name}.json.partial"
                partial.write_text(json.dumps(make(folder)))
                os.replace(partial, answer)
            return json.loads(answer.read_text())

    return made


@pytest.fixture(scope="session")
def grader_wheel(made_once) -> Path:
    """The grader as `pip install .` builds it, a wheel built once in the session for the tests that install it
    into venvs of their own: pip builds a local folder in place, and several builds of this checkout at the same
    time raced on its build/ and .egg-info folders (CI failed once: "pip install ... returned non-zero exit status 1")."""
    root = Path(__file__).resolve().parents[1]

    def build(folder: Path) -> str:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder), str(root)],
                       check=True, capture_output=True)
        (wheel,) = folder.glob("rnn_grader-*.whl")
        return str(wheel)

    return Path(made_once("grader-wheel", build))


@pytest.fixture(scope="session")
def graded_example(made_once):
    """graded_example(name): the example submission `name` (submissions/) graded with its hidden checks and
    without the report, under the suite's course secret; graded once in the session, by the first worker that
    asks, for every test that reads it (tests/checks, the student kit's comparison with the full grader)."""
    from grader.assignment import load_assignment
    from grader.grading import grade_submission
    from grader.results import SubmissionResult

    assignment, submissions = load_assignment(), Path(__file__).resolve().parents[1] / "submissions"

    @functools.cache
    def graded(name: str) -> SubmissionResult:
        made = made_once(f"graded-{name}", lambda folder: grade_submission(
            submissions / name, assignment, diagnostics=False).to_dict())
        return SubmissionResult.from_dict(made)

    return graded


@pytest.fixture
def per_student_spec(tmp_path):
    """A copy of the shipped spec folder whose grading.yaml draws each student's own cases."""
    copy = tmp_path / "per-student-spec"
    shutil.copytree(default_spec_dir(), copy, ignore=shutil.ignore_patterns("__pycache__", SECRET_FILE))
    grading = copy / "grading.yaml"
    text = grading.read_text()
    assert "\ncases: per_course\n" in text
    grading.write_text(text.replace("\ncases: per_course\n", "\ncases: per_student\n"))
    return copy


@pytest.fixture
def nested():
    """nested(top, names): folders `names`, each inside the one before, below `top`. Made by changing into
    each, so the whole path may be longer than the system takes (PATH_MAX); removed after the test with rm,
    since shutil.rmtree (and so pytest's own clean-up) recurses once per level and fails thousands deep."""
    made = []

    def make(top: Path, names: list) -> Path:
        here = os.getcwd()
        os.chdir(top)
        try:
            for name in names:
                os.mkdir(name)
                os.chdir(name)
        finally:
            os.chdir(here)
        made.append(Path(top) / os.fsdecode(names[0]))
        return made[-1]

    yield make
    for path in made:
        subprocess.run(["rm", "-rf", "--", path], check=True)
