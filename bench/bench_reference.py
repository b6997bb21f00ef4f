"""Train the reference and the min-char-rnn-style baseline side by side and compare their speed.

Both start from the same params on the same text with the assignment's hyper-parameters (m=100,
seq_length=25, eta=0.1); their smooth-loss curves must agree before the speeds mean anything.

"Agree" needs care: training amplifies rounding differences, so two exact implementations that add in
a different order drift apart after a few hundred updates. The yardstick is the baseline run again with
one weight nudged by one ulp: the reference may drift from the baseline no more than ten times as much
as the baseline drifts from itself, and must match it to 1e-6 over the first 100 updates.

    python bench/bench_reference.py [--updates N] [--repeats R]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import minchar_rnn  # noqa: E402

from grader.texts import load_text  # noqa: E402
from reference import rnn as reference  # noqa: E402

TARGET_SPEEDUP = 3.0
EARLY_UPDATES = 100


def timed_train(train, text, params, n_updates):
    start = time.perf_counter()
    _, smooth = train(text, {k: v.copy() for k, v in params.items()}, n_updates, 0.1, 25)
    return time.perf_counter() - start, np.asarray(smooth)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="best of R runs, to keep noise out")
    args = parser.parse_args()

    name, text = load_text()
    K = len(set(text))
    params = reference.init_params(K, 100, 0.01, np.random.default_rng(0))
    results = {}
    for label, train in (("min-char-rnn loop (baseline)", minchar_rnn.train), ("reference", reference.train)):
        runs = [timed_train(train, text, params, args.updates) for _ in range(args.repeats)]
        results[label] = (min(seconds for seconds, _ in runs), runs[0][1])

    (base_s, base_curve), (ref_s, ref_curve) = results.values()
    nudged = {**params, "W": np.nextafter(params["W"], np.inf)}
    _, nudged_curve = timed_train(minchar_rnn.train, text, nudged, args.updates)
    early_diff = float(np.max(np.abs(base_curve - ref_curve)[:EARLY_UPDATES]))
    max_diff = float(np.max(np.abs(base_curve - ref_curve)))
    yardstick = float(np.max(np.abs(base_curve - nudged_curve)))
    print(f"text {name!r}: {len(text)} characters, K={K}; m=100, seq_length=25, {args.updates} updates, best of {args.repeats}")
    print(f"{'implementation':32} {'seconds':>9} {'updates/s':>10}")
    for label, (seconds, _) in results.items():
        print(f"{label:32} {seconds:9.3f} {args.updates / seconds:10.0f}")
    print(f"smooth loss: first {ref_curve[0]:.3f}, last {ref_curve[-1]:.3f}")
    print(f"max |reference - baseline|: {early_diff:.2e} over the first {EARLY_UPDATES} updates, {max_diff:.2e} over all")
    print(f"max |baseline - baseline with W nudged by one ulp| over all: {yardstick:.2e} (rounding drift)")
    speedup = base_s / ref_s
    print(f"speed-up of the reference over the baseline: {speedup:.2f}x (target >= {TARGET_SPEEDUP:.0f}x)")
    if early_diff > 1e-6 or max_diff > 10 * yardstick:
        sys.exit("the two implementations disagree beyond rounding drift: the speed comparison is meaningless")
    if speedup < TARGET_SPEEDUP:
        sys.exit(f"below the {TARGET_SPEEDUP:.0f}x target")


if __name__ == "__main__":
    main()
