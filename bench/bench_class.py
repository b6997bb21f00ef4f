"""Class grading throughput: N copies of alice graded with --jobs 1 and --jobs 2, side by side.

    python bench/bench_class.py [N]

Target: with 2 cores, --jobs 2 takes at most 0.65 of the time of --jobs 1. Every run regrades (force).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from grader.assignment import load_assignment
from grader.batch.run import grade_class

ALICE = Path(__file__).resolve().parents[1] / "submissions" / "alice"


def copy_class(folder: Path, n: int) -> None:
    """A class folder of ``n`` copies of alice, one sub-folder each."""
    for i in range(n):
        shutil.copytree(ALICE, folder / f"alice{i:02d}")


def timed(folder: Path, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    result = grade_class(folder, out, load_assignment(), jobs=jobs, force=True, progress=False)
    seconds = time.perf_counter() - started
    assert all(s.score == s.max_score for s in result.submissions), "alice should score full marks"
    return seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "class"
        copy_class(folder, n)
        one = timed(folder, Path(scratch) / "out1", 1)
        two = timed(folder, Path(scratch) / "out2", 2)
    print(f"{n} copies of alice:  --jobs 1: {one:6.1f} s   --jobs 2: {two:6.1f} s   ratio: {two / one:.2f} (target <= 0.65)")


if __name__ == "__main__":
    main()
