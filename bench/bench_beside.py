"""The report's diagnostics beside the checks (two cores) against after them (one core, the old order).

Grades a submission with cores=1 and cores=2 in alternating pairs and prints the medians of the wall time and
of the CPU time of each stream: the checks (the grader's own thread and the checks' sandboxes) and the
report's diagnostics (their thread and their sandbox). Each sandbox's CPU is its control group's count, read
as it closes (its processes are reaped inside the sandbox, so the grader's rusage never sees them). On a quiet
two-core machine the wall time beside is about the longer stream; under load, wall times are noise and the
CPU figures are the ones to read.

    python bench/bench_beside.py [SUBMISSION_DIR] [--pairs N]
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grader.grading  # noqa: E402 - after the path is set
from grader.assignment import load_assignment  # noqa: E402
from grader.sandbox.sandbox import Sandbox  # noqa: E402

REPORT_THREAD = "report-diagnostics"  # grader.diagnostics.beside names its thread so


class Streams:
    """The CPU seconds of each stream of the gradings under way, counted by wrapping Sandbox.close and
    grading.report_phase."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()
        close, phase = Sandbox.close, grader.grading.report_phase
        streams = self

        def counted_close(box):
            group = getattr(box, "_group", None)
            if group is not None and not getattr(box, "_closed", True):
                streams.add("report sandbox" if streams.in_report() else "checks sandboxes", group.cpu_seconds() or 0.0)
            close(box)

        def timed_phase(*args):
            start = time.thread_time()
            streams.report_thread = threading.current_thread()
            try:
                return phase(*args)
            finally:
                streams.add("report thread", time.thread_time() - start)
                streams.report_thread = None

        Sandbox.close = counted_close  # type: ignore[method-assign]
        grader.grading.report_phase = timed_phase

    def reset(self):
        self.cpu = {"checks sandboxes": 0.0, "report sandbox": 0.0, "report thread": 0.0}
        self.report_thread = None

    def in_report(self) -> bool:
        return threading.current_thread() is self.report_thread

    def add(self, stream: str, seconds: float):
        with self.lock:
            self.cpu[stream] += seconds


def grade(folder: Path, assignment, cores: int, streams: Streams) -> dict[str, float]:
    streams.reset()
    thread_start, wall_start = time.thread_time(), time.perf_counter()
    result = grader.grading.grade_submission(folder, assignment, cores=cores)
    wall = time.perf_counter() - wall_start
    own = time.thread_time() - thread_start
    if cores == 1:  # the report ran in this thread, after the checks
        own -= streams.cpu["report thread"]
    if result.diagnostics is None:
        sys.exit(f"{folder} got no report; nothing to compare")
    return {"wall": wall, "checks": own + streams.cpu["checks sandboxes"],
            "report": streams.cpu["report thread"] + streams.cpu["report sandbox"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", nargs="?", default=str(ROOT / "submissions" / "alice"))
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    assignment = load_assignment()
    streams = Streams()
    rows: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    loads = []
    for _ in range(args.pairs):
        for cores in (1, 2):
            loads.append(os.getloadavg()[0])
            rows[cores].append(grade(Path(args.submission), assignment, cores, streams))
    print(f"{Path(args.submission).name}: medians of {args.pairs} alternating pairs, load average "
          f"{min(loads):.1f}-{max(loads):.1f}")
    print(f"{'diagnostics':22} {'wall s':>8} {'CPU s':>8} {'checks CPU s':>13} {'report CPU s':>13}")
    for cores, name in ((1, "after the checks"), (2, "beside the checks")):
        median = {k: statistics.median(r[k] for r in rows[cores]) for k in ("wall", "checks", "report")}
        print(f"{name:22} {median['wall']:8.2f} {median['checks'] + median['report']:8.2f} "
              f"{median['checks']:13.2f} {median['report']:13.2f}")


if __name__ == "__main__":
    main()
