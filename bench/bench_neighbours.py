"""A correct submission graded beside noisy neighbours: time judged on the clock alone against CPU time.

Grades alice with a per-call limit just above her slowest call, first on a quiet machine, then while
`--hogs` busy loops (by default three per core) compete for the CPU, once with the limits judged on the
clock alone (wall_factor 1, how the grader judged before grader/sandbox/clock.py) and once as the grader
judges now. Prints the score, the checks stopped by a timeout or the budget, and the wall time of each.

    python bench/bench_neighbours.py [--hogs N] [--call-seconds S]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from grader.grading import grade_submission  # noqa: E402
from grader.results import FailureKind  # noqa: E402
from grader.sandbox import Limits  # noqa: E402

ALICE = ROOT / "submissions" / "alice"
TIME_KINDS = (FailureKind.timeout, FailureKind.budget)


def grade(limits: Limits) -> tuple[float, int, float]:
    started = time.perf_counter()
    result = grade_submission(ALICE, load_assignment(), limits=limits, diagnostics=False)
    stopped = sum(1 for check in result.checks if check.stopped_by in TIME_KINDS)
    return result.score, stopped, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hogs", type=int, default=3 * (os.cpu_count() or 1))
    parser.add_argument("--call-seconds", type=float, default=1.5, help="alice's slowest call takes about 0.8 s")
    args = parser.parse_args()
    clock_alone = Limits(call_seconds=args.call_seconds, import_seconds=5.0, wall_factor=1.0)
    cpu_time = Limits(call_seconds=args.call_seconds, import_seconds=5.0)
    rows = [("quiet, judged on CPU time", grade(cpu_time))]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
    try:
        rows.append((f"{args.hogs} hogs, judged on the clock alone (before)", grade(clock_alone)))
        rows.append((f"{args.hogs} hogs, judged on CPU time (now)", grade(cpu_time)))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    print(f"alice, {args.call_seconds:g} s per call, on {os.cpu_count()} cores")
    print(f"{'':52}{'score':>8}{'checks stopped':>16}{'seconds':>10}")
    for label, (score, stopped, seconds) in rows:
        print(f"{label:52}{score:8g}{stopped:16d}{seconds:10.1f}")


if __name__ == "__main__":
    main()
