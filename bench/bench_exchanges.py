"""Sandbox calls and exchanges of one grading, and the CPU they cost, this tree beside another checkout.

For each submission, one in-process grade_submission with the report's diagnostics (after a first grading in the
same process, so that imports and the answers cache are warm), split by the thread that made the calls: the checks
(the grading's own thread: visible and hidden phases) and the report's diagnostics (their own sandbox, in a thread
beside the checks when the grading has two cores). Printed per part: calls, exchanges (round trips: Sandbox.call_many
sends a batch in one), the sandboxes' CPU as their own clocks read it when each worker stops (their workers live
in a pid namespace of their own, out of reach of rusage) and the waiting: the seconds spent in Sandbox.call_many
beyond what the worker says its calls ran (transport, scheduling, accounting: what an exchange costs the caller);
per grading, the grader's own CPU (user + sys of its process, both threads) and wall time. Counts do not depend on
the machine's load; CPU does a little, waiting and wall time much: medians of --rounds alternating rounds. (On one
usable core the diagnostics run after the checks, in the grading's thread, and count as checks.)

    python bench/bench_exchanges.py [--baseline DIR] [--rounds N] [SUBMISSION ...]

SUBMISSION is a folder (default: alice, the reference copied in as a submission, bug_global_rng, bug_crash_m1,
chatty, template); "reference" names reference/rnn.py. --baseline DIR is another checkout of rnn-grader
(`git worktree add --detach DIR COMMIT`), measured in the same rounds; each checkout's grader runs in a child
process of its own with that checkout first on sys.path.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ("alice", "reference", "bug_global_rng", "bug_crash_m1", "chatty", "template")
PARTS = ("checks", "report")


def measure(submission: Path) -> dict:
    """One warm in-process grading of ``submission`` (a second one in this process), counted by part."""
    from grader.assignment import load_assignment
    from grader.grading import grade_submission
    from grader.sandbox.sandbox import Reply, Sandbox

    counts = {part: {"calls": 0, "exchanges": 0, "sandbox_cpu": 0.0, "waiting": 0.0} for part in PARTS}
    call_many, stop_worker = Sandbox.call_many, Sandbox._stop_worker

    def part() -> dict:
        return counts["checks" if threading.current_thread() is threading.main_thread() else "report"]

    def counted(self, calls, *args, **kwargs):
        start = time.perf_counter()
        results = call_many(self, calls, *args, **kwargs)
        figures = part()
        figures["waiting"] += time.perf_counter() - start - sum(r.seconds for r in results if isinstance(r, Reply))
        figures["calls"] += len(results)  # under a stop, the calls the worker made
        figures["exchanges"] += 1
        return results

    def counted_stop(self) -> None:
        seconds = self._cpu_clock()
        if seconds is not None:  # the whole sandbox's clock, read when its worker stops
            part()["sandbox_cpu"] += seconds
        stop_worker(self)

    assignment = load_assignment()
    grade_submission(submission, assignment, diagnostics=True)  # warm: imports, the answers cache
    for figures in counts.values():
        figures.update(calls=0, exchanges=0, sandbox_cpu=0.0, waiting=0.0)
    Sandbox.call_many, Sandbox._stop_worker = counted, counted_stop  # type: ignore[method-assign]
    try:
        cpu, start = time.process_time(), time.perf_counter()
        result = grade_submission(submission, assignment, diagnostics=True)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        Sandbox.call_many, Sandbox._stop_worker = call_many, stop_worker  # type: ignore[method-assign]
    return {"wall": wall, "grader_cpu": cpu, "score": [result.score, result.max_score], **counts}


def child(root: str, submission: str) -> None:
    sys.path.insert(0, root)
    print(json.dumps(measure(Path(submission))))


def run(root: Path, submission: Path) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(root), str(submission)]
    done = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="*", default=SUBMISSIONS)
    parser.add_argument("--baseline", type=Path, help="another checkout of rnn-grader, measured alike")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(*options.child)
        return
    checkouts = {"this tree": ROOT, **({"baseline": options.baseline.resolve()} if options.baseline else {})}
    with tempfile.TemporaryDirectory() as work:
        reference = Path(work) / "reference"
        reference.mkdir()
        shutil.copy(ROOT / "reference" / "rnn.py", reference / "rnn.py")
        folders = {name: reference if name == "reference" else ROOT / "submissions" / name
                   for name in options.submissions}
        print(f"{'submission':22} {'checkout':10} {'score':>11} "
              + " ".join(f"{p + ' calls':>13} {p + ' exch.':>13} {p + ' box CPU s':>16} {p + ' wait s':>13}"
                         for p in PARTS)
              + f" {'grader CPU s':>13} {'wall s':>7}")
        for name, folder in folders.items():
            runs: dict[str, list[dict]] = {label: [] for label in checkouts}
            for _ in range(options.rounds):
                for label, root in checkouts.items():  # alternating: load changes between rounds, not between sides
                    runs[label].append(run(root, folder))
            for label, measured in runs.items():
                last = measured[-1]
                line = f"{name:22} {label:10} {last['score'][0]:5.1f}/{last['score'][1]:5.1f} "
                line += " ".join(
                    f"{last[p]['calls']:13d} {last[p]['exchanges']:13d} "
                    f"{statistics.median(m[p]['sandbox_cpu'] for m in measured):16.2f} "
                    f"{statistics.median(m[p]['waiting'] for m in measured):13.2f}" for p in PARTS)
                line += (f" {statistics.median(m['grader_cpu'] for m in measured):13.2f}"
                         f" {statistics.median(m['wall'] for m in measured):7.2f}")
                print(line, flush=True)


if __name__ == "__main__":
    main()
