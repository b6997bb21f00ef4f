"""CPU of the grader's own process for the checks' searches, this tree beside a baseline commit.

Each figure is the CPU time (user + sys) of the grading process, not wall time, so that a busy machine
changes it little:

* NAME: grade_submission with diagnostics=False, for each submission given (a correct one and a failing one
  by default): the grader's whole share of a grading (searches, reference, comparisons, its side of the
  sandbox exchanges), the submission's own computation excluded (it runs in the sandbox's processes).
  "first, cold cache": a process's first grading (imports excluded) with an empty cache folder; "next in the
  process": the same submission graded again in that process (a class run's grading process, under the
  course's salt); "new process, warm cache": a second process's first grading, with the cache folder the
  first left (a single grading on a machine that graded before);
* engine: every check of the suite searched once with a property that passes at once, without a sandbox:
  what choosing the cases costs, for one grading's searches; "first search" under a salt not seen before,
  "same salt again" once more (the cases kept in the cache folder), "another salt" under a second new salt
  (per-student cases).

The baseline is the same measurement run on a checkout of ``--baseline`` (a git worktree made for the run
and removed after it), alternated with this tree's, round after round; the medians are printed side by side.

    python bench/bench_search.py [--baseline f6ec2a8] [--rounds 3] [SUBMISSION ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "f6ec2a8"  # main before the checks ran their drawn cases themselves (issue 24)
SUBMISSIONS = ("alice", "bug_no_bptt")


def measure(root: Path, submissions: list[str], warm: bool) -> dict[str, float]:
    """In this process, with the grader imported from ``root``: seconds of CPU per figure. ``warm``: the cache
    folder ($RNN_GRADER_CACHE) holds what an earlier process of the same tree left there."""
    sys.path.insert(0, str(root))
    from grader.assignment import load_assignment
    from grader.checks.core import Ctx, _search
    from grader.checks.suite import suite_for
    from grader.grading import grade_submission
    from grader.oracle import LiveOracle

    def cpu(work) -> float:
        start = time.process_time()
        work()
        return time.process_time() - start

    assignment = load_assignment(root / "specs")
    figures = {}
    for name in submissions:  # first: a grading process's first grading is a single grading's
        grading = functools.partial(grade_submission, root / "submissions" / name, assignment, diagnostics=False)
        if warm:
            figures[f"{name}: new process, warm cache"] = cpu(grading)
            continue
        figures[f"{name}: first, cold cache"] = cpu(grading)
        figures[f"{name}: next in the process"] = cpu(grading)
    if warm:
        return figures

    passing = [dataclasses.replace(c, prop=lambda ctx, case: None) for c in suite_for(assignment)]

    try:  # the baseline's oracle keeps nothing, and takes no cache folder
        oracle = LiveOracle(assignment, Path(os.environ["RNN_GRADER_CACHE"]))  # type: ignore[call-arg]
    except TypeError:
        oracle = LiveOracle(assignment)

    def engine(salt: str) -> None:
        ctx = Ctx(None, assignment, oracle, None, salt)  # type: ignore[arg-type]  # no call reaches them
        for check in passing:
            _search(check, ctx, assignment.grading.checks[check.name].examples, frozenset(), [])

    figures["engine: first search"] = cpu(functools.partial(engine, "one"))
    figures["engine: same salt again"] = cpu(functools.partial(engine, "one"))
    figures["engine: another salt"] = cpu(functools.partial(engine, "two"))
    return figures


def measured(root: Path, submissions: list[str], cache: Path) -> dict[str, float]:
    """``measure`` in fresh interpreters, so that each tree imports its own grader: one with an empty cache
    folder, then one with what the first left in it."""
    figures = {}
    for warm in (False, True):
        command = [sys.executable, __file__, "--measure", str(root), *submissions] + (["--warm"] if warm else [])
        out = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True,
                             env={**os.environ, "RNN_GRADER_CACHE": str(cache)}).stdout
        figures.update(json.loads(out.splitlines()[-1]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="*", default=list(SUBMISSIONS),
                        help="example submissions (names under submissions/)")
    parser.add_argument("--baseline", default=BASELINE, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of both trees; medians")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.submissions, args.warm)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base), args.baseline],
                       check=True)
        try:
            rounds: dict[str, list[dict[str, float]]] = {"baseline": [], "this tree": []}
            for i in range(args.rounds):
                for tree, root in (("baseline", base), ("this tree", ROOT)):
                    rounds[tree].append(measured(root, args.submissions, Path(tmp) / f"cache-{tree}-{i}"))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=True)

    medians = {tree: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for tree, runs in rounds.items()}
    print(f"grader process CPU seconds, median of {args.rounds} alternating rounds; baseline {args.baseline}")
    print(f"{'figure':36} {'baseline':>9} {'this tree':>10} {'saved':>7}")
    for key, before in medians["baseline"].items():
        after = medians["this tree"][key]
        print(f"{key:36} {before:9.3f} {after:10.3f} {before - after:7.3f}")


if __name__ == "__main__":
    main()
