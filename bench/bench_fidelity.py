"""Grading fidelity: what each example submission loses, where, and why; and what grading alice costs.

For every example in submissions/ (the template aside) it grades the checks (no report diagnostics) and
prints the checks that lost points, the points lost and the hint, i.e. the cause the grader named. A
single-bug example should lose points in the checks of its buggy function only, in at most two checks,
with a hint that names the bug; a correct one should lose nothing. Then it times whole gradings of alice
against the baseline, the reference graded as a submission (the fastest correct code there is, so its
time is the suite's own cost): median of R runs, checks only and with the report's diagnostics.

The baseline, bench/fidelity_baseline.json, is this benchmark's output on main before error carried
forward (issue 11): the figures are printed beside it ("before").

    python bench/bench_fidelity.py [--repeats R] [--only NAME ...] [--json FILE]
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from grader.grading import grade_submission  # noqa: E402

TARGET_SECONDS = 8.0
BASELINE = Path(__file__).with_name("fidelity_baseline.json")
SKIP = {"template", "mean_adam"}  # the blank template; an example written for specs/variants/mean-adam


def examples() -> list[Path]:
    return sorted(p for p in (ROOT / "submissions").iterdir() if p.is_dir() and p.name not in SKIP)


def fidelity(folder: Path, assignment) -> dict:
    result = grade_submission(folder, assignment, diagnostics=False)
    lost = [c for c in result.checks if c.score < c.max_score]
    return {
        "name": folder.name,
        "score": result.score,
        "lost": round(result.max_score - result.score, 6),
        "failing": [{"check": c.name, "lost": round(c.max_score - c.score, 6), "hint": c.hint} for c in lost],
        "forgiven": [c.name for c in result.checks if getattr(c, "carried_from", "")],
    }


def timed(folder: Path, assignment, repeats: int, diagnostics: bool) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        grade_submission(folder, assignment, diagnostics=diagnostics)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="median of R gradings for the timings (0: no timings)")
    parser.add_argument("--only", nargs="*", help="grade only these examples")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    assignment = load_assignment()

    rows = [fidelity(p, assignment) for p in examples() if not args.only or p.name in args.only]
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"examples": []}
    before = {row["name"]: row for row in baseline["examples"]}
    print(f"{'example':28} {'score':>6} {'lost':>6} {'failing':>8} {'before: lost':>13} {'failing':>8}"
          "  failing checks (points lost): named cause")
    for row in rows:
        old = before.get(row["name"])
        was = f"{old['lost']:13.4g} {len(old['failing']):8d}" if old else f"{'(new)':>13} {'':8}"
        print(f"{row['name']:28} {row['score']:6.4g} {row['lost']:6.4g} {len(row['failing']):8d} {was}")
        for f in row["failing"]:
            print(f"{'':30}- {f['check']} ({f['lost']:g}): {f['hint'] or '(no cause named)'}")
        if row["forgiven"]:
            print(f"{'':30}  forgiven (carried from another function): {', '.join(row['forgiven'])}")
    bugs = [row for row in rows if row["name"].startswith("bug_")]
    if bugs:
        worst = max(bugs, key=lambda row: len(row["failing"]))
        unnamed = [row["name"] for row in bugs if any(not f["hint"] or f["hint"].startswith("cause unknown")
                                                         for f in row["failing"])]
        print(f"\nworst single bug: {worst['name']}, {len(worst['failing'])} failing checks (goal: at most 4); "
              f"single bugs with a failing check that names no cause: {', '.join(unnamed) or 'none'}")
    figures = {"examples": rows}
    if args.repeats:
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(ROOT / "reference" / "rnn.py", Path(tmp) / "rnn.py")
            timing = {
                name: {kind: timed(folder, assignment, args.repeats, kind == "with diagnostics")
                       for kind in ("checks only", "with diagnostics")}
                for name, folder in (("reference (baseline)", Path(tmp)), ("alice", ROOT / "submissions" / "alice"))
            }
        print(f"\ngrading time, median of {args.repeats}; target for alice <= about {TARGET_SECONDS:g} s")
        print(f"{'submission':24} {'checks only s':>14} {'with diagnostics s':>19} {'before: checks s':>17} {'with diag. s':>13}")
        for name, t in timing.items():
            old = baseline.get("timing", {}).get(name)
            was = f"{old['checks only']:17.2f} {old['with diagnostics']:13.2f}" if old else ""
            print(f"{name:24} {t['checks only']:14.2f} {t['with diagnostics']:19.2f} {was}")
        figures["timing"] = timing
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
