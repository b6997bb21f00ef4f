"""What the sandbox adds per call, beside the same figures at a baseline revision of the grader.

The grading suite makes several hundred calls per submission, most of them tiny (an RNN with m = 5..100 on a few
characters), so the round trip (encode, pipe, decode, validate, the CPU clock's reading, a wake-up of each
process) must stay far below the student's own compute. Each round measures N calls of clip_gradients on K=6,
m=8 parameters, one call per exchange (Sandbox.call) and, where the revision has it, in batches
(Sandbox.call_many); the baseline revision (by default f6ec2a8, before the per-call work of issue 24) and this
checkout alternate round by round, so that both see the same load, and the medians are printed. CPU time is
the figure to compare on a busy machine: the grader's (its thread's) and the sandbox's (its control group's
count, as the budget charges it); wall-clock time per call mostly measures how soon each process gets a core.

    python bench/bench_sandbox.py [--calls N] [--rounds R] [--batch B] [--against REV]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(root: Path, calls: int, batch: int) -> dict[str, list[float]]:
    """Run in a process whose ``grader`` is the one at ``root``: {mode: [wall ms, grader CPU us, sandbox CPU
    us] per call}."""
    sys.path.insert(0, str(root))
    import numpy as np

    from grader.assignment import load_assignment
    from grader.sandbox import Sandbox
    from reference.rnn import init_params

    params = init_params(6, 8, 0.5, np.random.default_rng(0))
    figures = {}
    with Sandbox(root / "submissions" / "alice", functions=load_assignment().functions) as box:
        box.call("clip_gradients", params, 5.0)  # the worker is started and warm
        modes: dict[str, Callable[[], object]] = {
            "call": lambda: [box.call("clip_gradients", params, 5.0) for _ in range(calls)]}
        if hasattr(box, "call_many"):
            from grader.sandbox import Call

            one = Call("clip_gradients", (params, 5.0))
            modes[f"call_many, batches of {batch}"] = lambda: [box.call_many([one] * batch)
                                                             for _ in range(calls // batch)]
        for mode, run in modes.items():
            wall, cpu, charged = time.perf_counter(), time.thread_time(), box.budget.charged
            run()
            figures[mode] = [(time.perf_counter() - wall) / calls * 1e3, (time.thread_time() - cpu) / calls * 1e6,
                             (box.budget.charged - charged) / calls * 1e6]
    start = time.thread_time()
    for _ in range(calls):
        _direct(params)
    figures["direct, in this process"] = [(time.thread_time() - start) / calls * 1e3, 0.0, 0.0]
    return figures


def _direct(params):
    sys.path.insert(0, str(ROOT / "submissions" / "alice"))
    import rnn  # type: ignore[import-not-found]  # alice's, put on the path above

    return rnn.clip_gradients(params, 5.0)


def checkout(rev: str, into: Path) -> Path:
    """The tree of ``rev`` unpacked into ``into`` (no worktree of the repository is touched)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_round(root: Path, calls: int, batch: int) -> dict[str, list[float]]:
    out = subprocess.run([sys.executable, __file__, "--measure", str(root), "--calls", str(calls),
                          "--batch", str(batch)], check=True, capture_output=True, text=True, cwd=root).stdout
    return json.loads(out.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of baseline and this checkout")
    parser.add_argument("--batch", type=int, default=20, help="calls per call_many")
    parser.add_argument("--against", default="f6ec2a8", help="the baseline revision")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # one round, in a process of its own
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.calls, args.batch)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        base = checkout(args.against, Path(tmp))
        rows: dict[str, list[list[float]]] = {}
        for _ in range(args.rounds):
            for label, root in ((args.against, base), ("this checkout", ROOT)):
                for mode, figures in run_round(root, args.calls, args.batch).items():
                    name = mode if mode.startswith("direct") else f"{label}: {mode}"
                    rows.setdefault(name, []).append(figures)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"clip_gradients on K=6, m=8 params: {args.calls} calls a round, medians of {args.rounds} alternating "
          f"rounds; load average {load} at the end")
    print(f"{'':44} {'wall ms/call':>12} {'grader CPU us':>14} {'sandbox CPU us':>15}")
    for name, measured in rows.items():
        wall, grader, sandbox = (statistics.median(column) for column in zip(*measured))
        if name.startswith("direct"):
            print(f"{name:44} {wall:12.4f} {'':>14} {'':>15}")
        else:
            print(f"{name:44} {wall:12.3f} {grader:14.0f} {sandbox:15.0f}")


if __name__ == "__main__":
    main()
