"""How much of what the full grader sends a submission the student kit has already shown, with answers.

The kit ships the reference's outputs for every call its public checks make. A call of the full grader
whose inputs the kit also sent is a call a lookup table built from the kit can answer without computing.
This bench grades the reference twice, as the kit's builder does (public checks, diagnostics, recording)
and as the full grader does (every check, diagnostics), records a digest of every call's function and
arguments, and prints the share of the full grader's distinct call inputs that the kit also sent, for
the checks alone and with the report's diagnostics (whose calls never score). Target: at most 5 % for
the checks. Baseline before per-course case seeds: 89 % (375 of 423 distinct inputs).

    python bench/bench_kit_overlap.py
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from grader.kit.overlap import measure_overlap  # noqa: E402

TARGET = 0.05
BASELINE = 0.89


def main():
    overlap = measure_overlap(load_assignment())
    print(f"share of the full grader's distinct call inputs the kit also sent; target <= {TARGET:.0%}, "
          f"baseline {BASELINE:.0%}")
    print(f"{'calls of':24} {'full grader':>12} {'also in kit':>12} {'share':>8}")
    for label, (shared, total) in overlap.items():
        print(f"{label:24} {total:12d} {shared:12d} {shared / total:8.1%}")
    shared, total = overlap["checks"]
    if shared / total > TARGET:
        sys.exit(f"{shared / total:.1%} is over the {TARGET:.0%} target")


if __name__ == "__main__":
    main()
