"""Time a whole grading and split it between the submission's own computation and the grader's work.

The submission's share of the checks is the sum of the seconds its calls took inside the sandbox
(Reply.seconds, as box.timings records them); the grader's share is the rest: Hypothesis, the reference,
comparisons and the sandbox round trips. The report's diagnostics (gradient table, training run) come on
top, timed as the difference between a grading with them and one without. The baseline is the reference
implementation graded the same way, the fastest correct submission there is, so its grader share is the
suite's own cost.

    python bench/bench_grading.py [SUBMISSION_DIR] [--repeats R]
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment
from grader.grading import grade_submission

TARGET_SECONDS = 20.0


def timed(folder: Path, repeats: int) -> tuple[float, float, float, float]:
    """Best of ``repeats``: (total, submission, grader, diagnostics) seconds; the score must be full."""
    best = None
    assignment = load_assignment()
    for _ in range(repeats):
        start = time.perf_counter()
        result = grade_submission(folder, assignment, diagnostics=False)
        checks = time.perf_counter() - start
        own = sum(t.total_seconds for t in result.timings.values())
        if result.score != result.max_score:
            sys.exit(f"{folder} scored {result.score}/{result.max_score}; timings of a failing grading mean little")
        start = time.perf_counter()
        grade_submission(folder, assignment)
        total = time.perf_counter() - start
        if best is None or total < best[0]:
            best = (total, own, checks - own, total - checks)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", nargs="?", default=str(ROOT / "submissions" / "alice"))
    parser.add_argument("--repeats", type=int, default=2, help="best of R gradings, to keep noise out")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "reference" / "rnn.py", Path(tmp) / "rnn.py")
        rows = {"reference (baseline)": timed(Path(tmp), args.repeats),
                Path(args.submission).name: timed(Path(args.submission), args.repeats)}
    print(f"whole grading suite, best of {args.repeats}; target <= {TARGET_SECONDS:g} s")
    print(f"{'submission':24} {'total s':>8} {'checks: submission s':>21} {'checks: grader s':>17} {'diagnostics s':>14}")
    for name, (total, own, grader, diagnostics) in rows.items():
        print(f"{name:24} {total:8.2f} {own:21.2f} {grader:17.2f} {diagnostics:14.2f}")
    total = rows[Path(args.submission).name][0]
    if total > TARGET_SECONDS:
        sys.exit(f"{total:.1f} s is over the {TARGET_SECONDS:g} s target")


if __name__ == "__main__":
    main()
