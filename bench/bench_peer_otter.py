"""Peer benchmark: the same student notebook graded by Otter-Grader 7 and by us, side by side.

bench/peer_otter/ holds the Otter assignment for the same contract, written as an instructor would for
Otter: a master notebook in Otter Assign's format (an assignment config, one question per function, public
and hidden exception-based tests: shapes, values against the course's solution on fixed cases, a
centered-difference gradient check, clipping, AdaGrad, sampling, training) and the cases' helper module.
The course's solution the hidden tests compare with is reference/rnn.py, shipped to the autograder only.

The bench makes its own venv (--venv; otter-grader 7 from the package index, with ipykernel, which Otter
needs to execute notebooks, and matplotlib for the notebook's plot), runs `otter assign` once, fills the
student notebook Otter Assign makes with alice's functions, and times, in alternating pairs:

- ``otter run`` (no container, as Otter runs a submission outside Docker) and ``python -m grader`` on the
  notebook with the student's training cells (Otter executes them; we leave them out, and say so);
- both on the plain notebook (the same without training cells): the like-for-like figure.

Then our own figures: ``python -m grader`` on alice's rnn.py and on the reference copied in as a
submission (our overhead floor), a class of alice copies at --jobs 2 (bench_class), and where our time
goes on alice (imports, the checks, the diagnostics, the sandbox round trips). Medians of wall-clock
seconds; CPU seconds are user + sys of the command and every process it waited for, plus, for us, the
sandboxes' CPU as their own clocks read it (their workers live in a pid namespace of their own, out of
reach of rusage). The reference's answers are kept in a cache folder of the bench's own, filled by a first
grading of each notebook that also checks both graders give full marks. Wall time under load is noise:
compare the ratio within one run, and the CPU columns.

    python bench/bench_peer_otter.py [--pairs N] [--venv DIR] [--class-size N] [--baseline DIR]

--baseline times another checkout of rnn-grader in the same rounds, for figures before and after a change
(`git -C . archive COMMIT | tar -x -C DIR` makes one).

Targets (issue 24, quiet 2-core machine): alice <= 4.0 s, the reference <= 2.0 s, the plain notebook
<= 0.7x Otter's time, a class of 30 alice copies at --jobs 2 <= 2.5 s a submission.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

PEER = ROOT / "bench" / "peer_otter"
OTTER = "otter-grader==7.*"
OTTER_EXTRAS = ("ipykernel", "matplotlib")
ALICE = ROOT / "submissions" / "alice"
WITH_TRAINING, PLAIN = "alice notebook, with training", "alice notebook, plain"
TRAINING_CELL = "# Training run"  # the master notebook's training cells start with this line
TARGETS = {"alice": 4.0, "reference": 2.0, "plain ratio": 0.7, "class per submission": 2.5}


@dataclasses.dataclass(frozen=True)
class Run:
    wall: float
    cpu: float


def timed_command(command: list[str], cpu_file: Path | None = None, **kwargs) -> Run:
    """Wall and CPU seconds of one command: user + sys of it and every process it waited for, plus the
    sandboxes' CPU its grading wrote to ``cpu_file`` (see as_grader)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sandboxes = float(cpu_file.read_text()) if cpu_file else 0.0
    return Run(wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime + sandboxes)


def record_sandbox_cpu() -> dict[int, float]:
    """Count each sandbox's CPU seconds, as its own clock reads them when its worker stops.

    The workers run in a pid namespace of their own and are not reaped by the grader, so no rusage of the
    grader's holds them; their control group (or /proc) does, and that is what the sandbox's clock reads.
    """
    from grader.sandbox.sandbox import Sandbox

    readings: dict[int, float] = {}
    stop = Sandbox._stop_worker

    def counted_stop(self) -> None:
        seconds = self._cpu_clock()
        if seconds is not None:
            readings[id(self)] = max(seconds, readings.get(id(self), 0.0))
        stop(self)

    Sandbox._stop_worker = counted_stop  # type: ignore[method-assign]
    return readings


def as_grader(root: str, cpu_file: str, *arguments: str) -> int:
    """`python -m grader ARGUMENTS` from the checkout at ``root``, writing the sandboxes' CPU seconds to
    ``cpu_file`` when it is done."""
    sys.path.insert(0, root)
    from grader.cli import main

    readings = record_sandbox_cpu()
    sys.argv = ["grader", *arguments]
    try:
        return main()
    finally:
        Path(cpu_file).write_text(repr(sum(readings.values())))


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "rnn-grader-bench" / "otter7"  # beside the grader's own cache folder, not in it


def otter_venv(venv: Path) -> Path:
    """The venv's otter command, installing Otter 7 from the package index the first time."""
    otter = venv / "bin" / "otter"
    if not otter.exists():
        print(f"installing {OTTER} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", OTTER, *OTTER_EXTRAS], check=True)
    return otter


def otter_version(otter: Path) -> str:
    python = otter.parent / "python"
    return subprocess.run([str(python), "-c", "import otter; print(otter.__version__)"],
                          check=True, capture_output=True, text=True).stdout.strip()


def assign(otter: Path, work: Path) -> tuple[Path, Path, float]:
    """Run `otter assign` on the master notebook: (autograder zip, student notebook, seconds)."""
    source = work / "assignment"
    source.mkdir()
    shutil.copy(PEER / "rnn.ipynb", source)
    shutil.copy(PEER / "rnn_cases.py", source)
    shutil.copy(ROOT / "reference" / "rnn.py", source / "rnn_reference.py")
    shutil.copy(ROOT / "specs" / "texts" / "prose.txt", source)
    start = time.perf_counter()
    subprocess.run([str(otter), "assign", "rnn.ipynb", "dist"], cwd=source, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    (zip_path,) = (source / "dist" / "autograder").glob("*.zip")
    return zip_path, source / "dist" / "student" / "rnn.ipynb", seconds


def write_answered(student_notebook: Path, submission: Path, training: bool, path: Path) -> None:
    """Write the student notebook with each answer cell holding the submission's definitions of its functions.

    The submission's other top-level statements (imports the notebook lacks, helpers such as softmax) go into
    the first answer cell, as a student would write them there. ``training=False`` drops the training cells.
    """
    import nbformat

    source = submission.read_text(encoding="utf-8")
    tree = ast.parse(source)
    definitions: dict[str, str] = {}
    rest: list[str] = []
    for node in tree.body:
        segment = ast.get_source_segment(source, node) or ""
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            definitions[node.name] = segment
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # not the docstring
            rest.append(segment)
    notebook = nbformat.read(student_notebook, as_version=4)
    given = {line for cell in notebook.cells if cell.cell_type == "code" for line in cell.source.splitlines()}
    rest = [statement for statement in rest if statement not in given]  # the notebook's own `import numpy as np`
    answers = [cell for cell in notebook.cells if "otter_answer_cell" in cell.metadata.get("tags", [])]
    for cell in answers:
        names = [node.name for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
        cell.source = "\n\n\n".join(definitions.pop(name) for name in names)
    answers[0].source = "\n\n\n".join([*rest, *definitions.values(), answers[0].source])
    if not training:
        notebook.cells = [cell for cell in notebook.cells if not cell.source.startswith(TRAINING_CELL)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


@dataclasses.dataclass(frozen=True)
class OtterRun:
    """`otter run` with the assignment's autograder zip, on a folder's rnn.ipynb."""

    otter: Path
    autograder: Path
    out: Path

    def command(self, folder: Path) -> list[str]:
        return [str(self.otter), "run", "-a", str(self.autograder), "-o", str(self.out), "--no-logo",
                str(folder / "rnn.ipynb")]

    def timed(self, folder: Path) -> Run:
        return timed_command(self.command(folder))

    def check(self, folder: Path, name: str) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        checked_run(self.command(folder))
        full_marks(f"{name} under Otter", otter_score(self.out))


@dataclasses.dataclass(frozen=True)
class Checkout:
    """`python -m grader` from one checkout of rnn-grader, through as_grader; each submission's results in a
    folder of its own (the grader refuses to mix two submissions')."""

    label: str
    root: Path
    work: Path
    cache_env: str  # the variable that names the grader's cache folder (grader.settings.CACHE_ENV)

    def command(self, submission: Path) -> list[str]:
        return [sys.executable, __file__, "as-grader", str(self.root), str(self.work / "sandbox-cpu"),
                str(submission), "--out", str(self.work / "out" / submission.name)]

    @property
    def env(self) -> dict[str, str]:
        """The checkout's grader, not an installed one, and a cache folder of its own for the reference's answers
        (grader.answers): the full-marks runs fill it, so every timed grading finds it warm, as every grading
        but a course's first does."""
        return {**os.environ, "PYTHONPATH": str(self.root), self.cache_env: str(self.work / "cache")}

    def timed(self, submission: Path) -> Run:
        return timed_command(self.command(submission), self.work / "sandbox-cpu", env=self.env)

    def check(self, submission: Path, name: str) -> None:
        checked_run(self.command(submission), env=self.env)
        full_marks(f"{name} under {self.label}", our_score(self.work / "out" / submission.name))


def otter_score(out: Path) -> tuple[float, float]:
    tests = [t for t in json.loads((out / "results.json").read_text())["tests"] if "score" in t]  # not "Public Tests"
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


def our_score(out: Path) -> tuple[float, float]:
    result = json.loads((out / "results-instructor.json").read_text())["result"]
    return result["score"], result["max_score"]


def checked_run(command: list[str], **kwargs) -> None:
    run = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if run.returncode:
        sys.exit(f"{' '.join(command)} failed ({run.returncode}):\n{run.stderr[-3000:]}")


def full_marks(name: str, score: tuple[float, float]) -> None:
    if score[0] != score[1]:
        sys.exit(f"{name} scored {score[0]:g}/{score[1]:g}: timings of a failing grading mean little")


def alternating(runners: list[Callable[[], Run]], rounds: int) -> list[list[Run]]:
    """``rounds`` runs of each runner, in turn, each round starting one runner later, so none always runs first."""
    runs: list[list[Run]] = [[] for _ in runners]
    for i in range(rounds):
        for j in range(len(runners)):
            k = (i + j) % len(runners)
            runs[k].append(runners[k]())
    return runs


def median(runs: list[Run]) -> Run:
    return Run(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def verdict(value: float, target: float) -> str:
    return f"target <= {target:g}: {'met' if value <= target else 'not met'}"


def import_seconds(submission: Path, out: Path, env: dict[str, str]) -> float:
    """Seconds the CLI spends importing, lazy imports included (python -X importtime, top-level entries)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader", str(submission), "--out", str(out)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    total = 0
    for line in run.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(fields) == 3 and fields[1].strip().isdigit():
            if not fields[2].startswith("  "):  # a top-level import; nested ones are in its cumulative time
                total += int(fields[1])
    return total / 1e6


@dataclasses.dataclass(frozen=True)
class Grading:
    """One in-process grading: wall seconds, CPU seconds of the grader's process and of its sandboxes, and its
    sandbox calls: how many, in how many exchanges (round trips: Sandbox.call_many sends a batch in one), the
    seconds the grader waited on them, and the seconds the worker says the calls ran."""

    wall: float
    grader_cpu: float
    sandbox_cpu: float
    calls: int
    exchanges: int
    call_seconds: float
    worker_seconds: float


def measured_grading(submission: Path, diagnostics: bool) -> Grading:
    from grader.assignment import load_assignment
    from grader.grading import grade_submission
    from grader.sandbox.sandbox import Reply, Sandbox

    counts = {"calls": 0, "exchanges": 0, "seconds": 0.0, "worker": 0.0}
    call_many = Sandbox.call_many  # Sandbox.call makes a batch of one

    def counted(self, calls, *args, **kwargs):
        start = time.perf_counter()
        results = call_many(self, calls, *args, **kwargs)
        counts["seconds"] += time.perf_counter() - start
        counts["calls"] += len(results)  # under a Stop, the calls the worker made
        counts["exchanges"] += 1
        counts["worker"] += sum(r.seconds for r in results if isinstance(r, Reply))
        return results

    assignment = load_assignment()
    stop = Sandbox._stop_worker
    readings = record_sandbox_cpu()
    Sandbox.call_many = counted  # type: ignore[method-assign]
    try:
        cpu, start = time.process_time(), time.perf_counter()
        grade_submission(submission, assignment, diagnostics=diagnostics)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        Sandbox.call_many, Sandbox._stop_worker = call_many, stop  # type: ignore[method-assign]
    return Grading(wall, cpu, sum(readings.values()), int(counts["calls"]), int(counts["exchanges"]),
                   counts["seconds"], counts["worker"])


def peer_table(otter: OtterRun, checkouts: list[Checkout], notebooks: dict[str, Path], rounds: int) -> None:
    header = f"{'notebook':31} {'Otter wall s':>12}"
    header += "".join(f" {c.label + ' wall s':>13} {'ratio':>6}" for c in checkouts)
    header += f" {'Otter CPU s':>12}" + "".join(f" {c.label + ' CPU s':>12}" for c in checkouts)
    print(header)
    ratios: dict[str, list[float]] = {}
    for name, folder in notebooks.items():
        runners = [functools.partial(otter.timed, folder)] + [functools.partial(c.timed, folder) for c in checkouts]
        otter_runs, *our_runs = alternating(runners, rounds)
        ratios[name] = [statistics.median(b.wall / a.wall for a, b in zip(otter_runs, runs)) for runs in our_runs]
        line = f"{name:31} {median(otter_runs).wall:12.2f}"
        line += "".join(f" {median(runs).wall:13.2f} {ratio:6.2f}" for runs, ratio in zip(our_runs, ratios[name]))
        line += f" {median(otter_runs).cpu:12.2f}" + "".join(f" {median(runs).cpu:12.2f}" for runs in our_runs)
        print(line)
    print(f"  ratio: the median over the rounds of wall / Otter's wall; plain notebook, {checkouts[0].label}: "
          f"{verdict(ratios[PLAIN][0], TARGETS['plain ratio'])}")


def ours_alone(checkouts: list[Checkout], reference: Path, rounds: int) -> None:
    print(f"\n`python -m grader` alone, {rounds} rounds, medians")
    for name, folder, target in (("alice (rnn.py)", ALICE, TARGETS["alice"]),
                                 ("reference as a submission", reference, TARGETS["reference"])):
        results = alternating([functools.partial(c.timed, folder) for c in checkouts], rounds)
        for checkout, runs in zip(checkouts, results):
            run = median(runs)
            target_met = verdict(run.wall, target) if checkout is checkouts[0] else ""
            print(f"{name:27} {checkout.label:>9} wall {run.wall:6.2f} s  CPU {run.cpu:6.2f} s  {target_met}")


def class_figure(size: int, work: Path) -> None:
    import bench_class

    bench_class.copy_class(work / "class", size)
    seconds = bench_class.timed(work / "class", work / "class-out", 2)
    per = seconds / size
    print(f"class of {size} alice copies, --jobs 2 (in process): {seconds:.1f} s, {per:.2f} s a submission, "
          f"{verdict(per, TARGETS['class per submission'])}")


def breakdown(work: Path, env: dict[str, str]) -> None:
    """Where our time goes on alice: the CLI's imports, then in-process gradings without and with the report's
    diagnostics (after a first grading, so that imports and the answers cache are warm for both)."""
    print("\nwhere our time goes on alice")
    imports = import_seconds(ALICE, work / "import-out", env)
    print(f"  imports of `python -m grader` (python -X importtime, lazy ones included): {imports:.2f} s")
    measured_grading(ALICE, diagnostics=False)
    checks, whole = measured_grading(ALICE, diagnostics=False), measured_grading(ALICE, diagnostics=True)
    print(f"  {'in process':23} {'wall s':>7} {'grader CPU s':>13} {'sandboxes CPU s':>16} {'calls':>6} "
          f"{'exchanges':>10} {'waiting s':>10} {'worker s':>9}")
    for name, g in (("checks", checks), ("checks and diagnostics", whole)):
        print(f"  {name:23} {g.wall:7.2f} {g.grader_cpu:13.2f} {g.sandbox_cpu:16.2f} {g.calls:6d} {g.exchanges:10d} "
              f"{g.call_seconds:10.2f} {g.worker_seconds:9.2f}")
    print(f"  {'diagnostics add':23} {whole.wall - checks.wall:7.2f} {whole.grader_cpu - checks.grader_cpu:13.2f} "
          f"{whole.sandbox_cpu - checks.sandbox_cpu:16.2f} {whole.calls - checks.calls:6d} "
          f"{whole.exchanges - checks.exchanges:10d}")
    trips = checks.call_seconds - checks.worker_seconds  # the checks' exchanges come one at a time
    print(f"  sandbox round trips of the checks: {trips:.2f} s of waiting beyond what the worker ran "
          f"({1000 * trips / max(checks.exchanges, 1):.1f} ms an exchange: transport, scheduling, accounting)")
    print("  (waiting and worker seconds add up sandboxes running side by side, so they can exceed the wall)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=5, help="rounds of alternating runs per notebook and submission")
    parser.add_argument("--venv", type=Path, default=default_venv(), help="Otter's venv (made if missing)")
    parser.add_argument("--class-size", type=int, default=30, help="copies of alice graded at --jobs 2 (0: skip)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="another checkout of rnn-grader (`git worktree add DIR COMMIT`) timed in the same rounds")
    args = parser.parse_args()

    from grader.settings import CACHE_ENV

    load_before = os.getloadavg()
    otter = otter_venv(args.venv)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        autograder, student, assign_seconds = assign(otter, work)
        notebooks = {name: work / f"notebook{i}" for i, name in enumerate((WITH_TRAINING, PLAIN))}
        for name, folder in notebooks.items():
            write_answered(student, ALICE / "rnn.py", name == WITH_TRAINING, folder / "rnn.ipynb")
        reference = work / "reference"
        reference.mkdir()
        shutil.copy(ROOT / "reference" / "rnn.py", reference / "rnn.py")

        theirs = OtterRun(otter, autograder, work / "otter")
        checkouts = [Checkout("ours", ROOT, work / "ours", CACHE_ENV)]
        if args.baseline:
            checkouts.append(Checkout("baseline", args.baseline.resolve(), work / "baseline", CACHE_ENV))
        os.environ[CACHE_ENV] = checkouts[0].env[CACHE_ENV]  # the in-process figures below share ours
        for name, folder in notebooks.items():  # once each first: every grader must give full marks
            theirs.check(folder, name)
            for checkout in checkouts:
                checkout.check(folder, name)

        print(f"Otter-Grader {otter_version(otter)} (`otter run`, no container; `otter assign` took "
              f"{assign_seconds:.1f} s once) against `python -m grader`"
              + (f" (ours: {ROOT}, baseline: {args.baseline})" if args.baseline else "")
              + f", {args.pairs} alternating rounds, medians; CPU is user + sys of every process, the sandboxes' "
              f"included; the grader's answers cache warm; load average {load_before[0]:.1f}")
        peer_table(theirs, checkouts, notebooks, args.pairs)
        ours_alone(checkouts, reference, args.pairs)
        if args.class_size:
            class_figure(args.class_size, work)
        breakdown(work, checkouts[0].env)
    print(f"load average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["as-grader"]:
        raise SystemExit(as_grader(*sys.argv[2:]))
    main()
