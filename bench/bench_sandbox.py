"""How much the sandbox adds per call and per worker start, on the tier this machine gets.

The grading suite makes a few hundred calls per submission, so the round trip (encode, pipe, decode,
validate) must stay far below the student's own compute; the baseline is the same function called
directly in this process.

    python bench/bench_sandbox.py [--calls N]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "submissions" / "alice"))

import rnn as alice  # noqa: E402

from grader.assignment import load_assignment  # noqa: E402
from grader.sandbox import Sandbox  # noqa: E402
from reference.rnn import init_params  # noqa: E402


def per_call(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    params = init_params(6, 8, 0.5, np.random.default_rng(0))

    start = time.perf_counter()
    with Sandbox(ROOT / "submissions" / "alice", functions=load_assignment().functions) as box:
        started = time.perf_counter() - start
        box.call("clip_gradients", params, 5.0)
        sandboxed = per_call(lambda: box.call("clip_gradients", params, 5.0), args.calls)
        tier = box.tier
    direct = per_call(lambda: alice.clip_gradients(params, 5.0), args.calls)

    print(f"tier: {tier}; clip_gradients on K=6, m=8 params, {args.calls} calls")
    print(f"{'':28} {'ms per call':>12}")
    print(f"{'direct (baseline)':28} {direct * 1e3:12.3f}")
    print(f"{'through the sandbox':28} {sandboxed * 1e3:12.3f}")
    print(f"round-trip overhead: {(sandboxed - direct) * 1e3:.3f} ms per call; worker start and import: {started:.3f} s")


if __name__ == "__main__":
    main()
