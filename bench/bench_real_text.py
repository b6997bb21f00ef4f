"""The course reports' figures on a long novel-like text: the reference's curve and alice's whole report.

The course's novel (about 1.1M characters) cannot ship, so the text is the project's prose generator at that
length. Prints the reference's smooth loss after 1, 1000 and N updates and its speed, beside the course
reports' figures on the novel (25 ln K at the start, about 54 after 10k updates), then the wall time of
`python -m grader submissions/alice --text ... --updates N` (checks included) with a cold band cache and
with a warm one, beside the issue's target of about 4 minutes on a 2-core machine.

    python bench/bench_real_text.py [--updates N] [--chars C]
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.textgen import generate  # noqa: E402
from reference.rnn import init_params, train  # noqa: E402

TARGET_SECONDS = 240


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--chars", type=int, default=1_100_000)
    args = parser.parse_args()
    n = args.updates
    with tempfile.TemporaryDirectory(prefix="bench-real-text-") as folder:
        book = Path(folder) / "novel.txt"
        book.write_text(generate(args.chars), encoding="utf-8")
        text = book.read_text(encoding="utf-8")
        K = len(set(text))
        start = time.perf_counter()
        _, smooth = train(text, init_params(K, 100, 0.01, np.random.default_rng(2424)), n)
        seconds = time.perf_counter() - start
        print(f"text: {len(text)} characters of generated prose, K={K}; m=100, eta=0.1, seq_length=25")
        print(f"{'reference':34} {'ours':>10} {'course reports (the novel, K=80)':>34}")
        print(f"{'smooth loss after update 1':34} {smooth[0]:10.2f} {'25 ln 80 = ' + format(25 * math.log(80), '.2f'):>34}")
        print(f"{'smooth loss after update 1000':34} {smooth[min(n, 1000) - 1]:10.2f} {'-':>34}")
        print(f"{f'smooth loss after update {n}':34} {smooth[-1]:10.2f} {'about 54 (10k)':>34}")
        print(f"{'updates per second':34} {n / seconds:10.0f}")
        print(f"(25 ln K for this text: {25 * math.log(K):.2f})")
        for label in ("cold band cache", "warm band cache"):
            out = Path(folder) / "out"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "grader", str(ROOT / "submissions" / "alice"), "--text", str(book),
                            "--updates", str(n), "--out", str(out), "--cache-dir", str(Path(folder) / "cache")],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            result = json.loads((out / "results-instructor.json").read_text())["result"]  # every check's score
            run = result["diagnostics"]["real_text"]
            print(f"alice, {label}: {wall:6.1f} s in all (target about {TARGET_SECONDS} s); the text run "
                  f"{run['seconds']:.1f} s; score {result['score']:g}; {len(run['samples'])} samples; best model "
                  f"after update {run['best_update']} (smooth loss {run['best_smooth_loss']:.2f}); "
                  f"{'no failure' if not run['failure'] else run['failure']}")


if __name__ == "__main__":
    main()
