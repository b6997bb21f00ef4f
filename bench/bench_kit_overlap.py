"""How much of what the full grader sends a submission the student kit has already shown, with answers.

The kit ships the reference's outputs for every call its public checks make. A call of the full grader
whose inputs the kit also sent is a call a lookup table built from the kit can answer without computing.
This bench grades the reference twice, as the kit's builder does (public checks, diagnostics, recording)
and as the full grader does (every check, diagnostics), records a digest of every call's function and
arguments, and prints the share of the full grader's distinct call inputs that the kit also sent, for
the checks alone and with the report's diagnostics (whose calls never score). Target: at most 5 % for
the checks. Baseline before per-course case seeds: 89 % (375 of 423 distinct inputs).

With --students N it also grades the reference as N students under per-student cases (grading.yaml
`cases: per_student`) and prints, for every ordered pair, the share of one student's distinct call
inputs that the other student's grading also sent (what answers one student's feedback could give
another); the per-course baseline is 100 %, every student being sent the same inputs. Target: at most 5 %.

    python bench/bench_kit_overlap.py [--students N]
"""

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from grader.kit.overlap import measure_overlap, student_call_inputs  # noqa: E402

TARGET = 0.05
BASELINE = 0.89


def main():
    parser = argparse.ArgumentParser(description="share of call inputs the kit (and other students) also sent")
    parser.add_argument("--students", type=int, default=0, metavar="N", help="also measure per-student cases for N students")
    args = parser.parse_args()
    assignment = load_assignment()
    failures = kit_overlap(assignment)
    if args.students >= 2:
        failures += student_overlap(assignment, args.students)
    if failures:
        sys.exit("; ".join(failures))


def kit_overlap(assignment) -> list[str]:
    overlap = measure_overlap(assignment)
    print(f"share of the full grader's distinct call inputs the kit also sent; target <= {TARGET:.0%}, "
          f"baseline {BASELINE:.0%}")
    print(f"{'calls of':24} {'full grader':>12} {'also in kit':>12} {'share':>8}")
    for label, (shared, total) in overlap.items():
        print(f"{label:24} {total:12d} {shared:12d} {shared / total:8.1%}")
    shared, total = overlap["checks"]
    return [f"kit: {shared / total:.1%} is over the {TARGET:.0%} target"] if shared / total > TARGET else []


def student_overlap(assignment, count: int) -> list[str]:
    students = tuple(f"student {i + 1}" for i in range(count))
    sent = student_call_inputs(assignment, students)
    shares = [len(sent[a] & sent[b]) / len(sent[a]) for a, b in itertools.permutations(students, 2)]
    anyone = [len(sent[a] & set().union(*(sent[b] for b in students if b != a))) / len(sent[a]) for a in students]
    print(f"\nper-student cases, {count} students: share of one student's distinct call inputs another's grading "
          f"also sent; target <= {TARGET:.0%}, per-course baseline 100%")
    print(f"distinct call inputs per student: {min(map(len, sent.values()))}-{max(map(len, sent.values()))}")
    print(f"one other student: mean {sum(shares) / len(shares):.1%}, max {max(shares):.1%} over {len(shares)} ordered pairs")
    print(f"any other student: mean {sum(anyone) / len(anyone):.1%}, max {max(anyone):.1%}")
    return [f"per-student: {max(shares):.1%} is over the {TARGET:.0%} target"] if max(shares) > TARGET else []


if __name__ == "__main__":
    main()
