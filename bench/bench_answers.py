"""What keeping the reference's answers saves (grader.answers): per grading, then per class.

    python bench/bench_answers.py [N] [--jobs J]

1. One alice grading in this process, three ways: the reference computing every answer (no cache), a cold
   cache (computed and written) and a warm one (read back): the oracle's calls and the CPU time they took.
2. A class of N alice copies (default 6) at --jobs J (default 2), three times: without the cache (a cache
   folder whose answers/ is open to other users, which the store refuses), then twice with one fresh cache
   folder: the first run computes the answers, the second, a regrade, reads them. Seconds per submission (wall) and the
   grader's CPU time per submission (user + sys of this process and of its grading processes, where the
   reference runs; wall time on a busy machine is noise). The sandboxes' CPU is not in it: the cache does not
   change what a submission computes, and their workers are not children whose time getrusage sees.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import oracle as oracles  # noqa: E402
from grader.answers import FOLDER  # noqa: E402
from grader.assignment import load_assignment  # noqa: E402
from grader.batch.run import grade_class  # noqa: E402
from grader.grading import grade_submission  # noqa: E402
from grader.settings import CACHE_ENV  # noqa: E402

ALICE = ROOT / "submissions" / "alice"


class Timed(oracles.LiveOracle):
    """The live oracle, counting its calls and the CPU time they take (answered from the cache or not)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()
        self.seconds = 0.0

    def _answer(self, key, name, args, kwargs):
        started = time.thread_time()  # the diagnostics may call from a second thread
        try:
            return super()._answer(key, name, args, kwargs)
        finally:
            self.seconds += time.thread_time() - started
            self.calls[name] += 1


def one_grading(cache: Path) -> None:
    assignment = load_assignment()
    for label, cache_dir in (("no cache", None), ("cold cache", cache), ("warm cache", cache)):
        oracle = Timed(assignment, cache_dir)
        result = grade_submission(ALICE, assignment, oracle=oracle)
        assert result.score == result.max_score, "alice should score full marks"
        kept = len(list(cache.rglob("*.npz")))
        print(f"  alice, {label:10s}: {sum(oracle.calls.values())} oracle calls, {oracle.seconds:.3f} s CPU "
              f"({kept} answers kept)")


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_class(n: int, jobs: int, cache: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "class"
        for i in range(n):
            shutil.copytree(ALICE, folder / f"alice{i:02d}")
        refused = cache.parent / "refused"
        (refused / FOLDER).mkdir(parents=True)
        (refused / FOLDER).chmod(0o755)
        for label, folder_used in (("no cache", refused), ("cold cache", cache), ("warm cache", cache)):
            os.environ[CACHE_ENV] = str(folder_used)  # the grading processes inherit it
            started, cpu = time.perf_counter(), cpu_seconds()
            result = grade_class(folder, Path(scratch) / "out", load_assignment(), jobs=jobs, force=True,
                                 progress=False)
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            assert all(s.score == s.max_score for s in result.submissions), "alice should score full marks"
            kept = len(list(folder_used.rglob("*.npz")))
            print(f"  {n} alice copies, --jobs {jobs}, {label}: {wall / n:5.2f} s per submission (wall), "
                  f"{cpu / n:5.2f} s of the grader's CPU per submission ({kept} answers kept)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as cache:
        print("one grading (this process):")
        one_grading(Path(cache) / "one")
        print("a class:")
        one_class(args.n, args.jobs, Path(cache) / "class")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
