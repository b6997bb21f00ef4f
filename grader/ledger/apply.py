"""The final score of each submission: its raw score, then the overrides, then the late penalty.

    final = max(0, raw + sum(override points - raw check points) - late deduction)
    late deduction = min(cap, days late * percent per day) / 100 * (points possible, or those earned)

A ledger entry that matches no submission, or more than one, is not applied, and says so in the
warnings: a decision silently lost or given to the wrong student would be worse than none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.files.lms_names import CANVAS
from grader.ledger.late import POSSIBLE, LatePolicy
from grader.ledger.overrides import Override
from grader.results import Adjustment, AdjustmentKind, ClassSubmission


@dataclass(frozen=True)
class Ledger:
    overrides: tuple[Override, ...] = ()
    late_policy: LatePolicy | None = None


@dataclass(frozen=True)
class LedgerOutcome:
    submissions: tuple[ClassSubmission, ...]
    warnings: tuple[str, ...]


def student_keys(row: ClassSubmission) -> set[str]:
    """What a ledger entry may call this submission's student by (compared casefolded)."""
    s = row.student
    keys = {k.strip().casefold() for k in (row.name, s.student_id, s.sis_id, s.email, s.name) if k.strip()}
    # "Quist, Rita" from a gradebook is also Canvas's download name for her, quistrita.
    squashed = re.sub(r"[\W_]", "", s.name.casefold())
    return keys | {squashed} if squashed else keys


def apply_ledger(rows: Sequence[ClassSubmission], check_max: Mapping[str, float], ledger: Ledger) -> LedgerOutcome:
    """`rows` with final_score, adjustments and lateness set from `ledger`; check_max: check name -> its points."""
    warnings: list[str] = []
    index: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        for key in student_keys(row):
            index.setdefault(key, []).append(i)

    def matched(student: str, what: str) -> int | None:
        found = sorted(set(index.get(student.strip().casefold(), [])))
        if len(found) == 1:
            return found[0]
        if not found:
            warnings.append(f"{what}: no submission belongs to {student!r}; not applied")
        else:
            warnings.append(f"{what}: {student!r} matches {', '.join(rows[i].name for i in found)}; not applied")
        return None

    adjustments: dict[int, list[Adjustment]] = {i: [] for i in range(len(rows))}
    for override in ledger.overrides:
        what = f"the override of {override.check!r} for {override.student!r}"
        at = matched(override.student, what)
        if at is None:
            continue
        if override.check not in check_max or override.check not in rows[at].check_scores:
            warnings.append(f"{what}: {rows[at].name} has no check named {override.check!r}; not applied")
            continue
        if override.points > check_max[override.check]:
            warnings.append(f"{what}: {override.points:g} points is more than the check's "
                            f"{check_max[override.check]:g}; not applied")
            continue
        delta = override.points - rows[at].check_scores[override.check]
        adjustments[at].append(Adjustment(AdjustmentKind.OVERRIDE, round(delta, 6), override.reason, override.check,
                                          override.by, override.at))

    deadlines = {i: ledger.late_policy.deadline for i in range(len(rows))} if ledger.late_policy else {}
    extended: set[int] = set()
    for student, deadline in (ledger.late_policy.extensions.items() if ledger.late_policy else ()):
        at = matched(student, f"the extension for {student!r}")
        if at is not None:
            deadlines[at] = deadline
            extended.add(at)

    updated, untimed = [], []
    for i, row in enumerate(rows):
        subtotal = row.score + sum(a.points for a in adjustments[i])
        days, why = 0, ""
        policy = ledger.late_policy
        if policy is None:
            pass
        elif row.student.submitted_at:
            days = policy.days_late(dt.datetime.fromisoformat(row.student.submitted_at), deadlines[i])
            why = f"submitted {row.student.submitted_at}, due {deadlines[i].isoformat()}"
        elif row.student.late_marked and i not in extended:
            days = policy.late_marker_days
            why = (f"marked late by the LMS, no time known: counted as {days} day{'s' * (days != 1)} "
                   "(late_marker_days)")
        elif i in extended or CANVAS not in row.student.source:  # Canvas marks what is late; others say nothing
            untimed.append(row.name + (" (marked late by the LMS, but extended here)" if row.student.late_marked else ""))
        percent = policy.percent(days) if policy is not None else 0.0
        if policy is not None and percent > 0:
            base = row.max_score if policy.deduct_from == POSSIBLE else subtotal
            deduction = min(subtotal, percent / 100 * base)
            reason = f"{days} day{'s' * (days != 1)} late ({why}): {percent:g}% of the points {policy.deduct_from}"
            adjustments[i].append(Adjustment(AdjustmentKind.LATE, -round(deduction, 6), reason))
        final = max(0.0, row.score + sum(a.points for a in adjustments[i]))
        updated.append(dataclasses.replace(row, final_score=round(final, 6), adjustments=tuple(adjustments[i]),
                                           late_days=days, late_percent=percent))
    if untimed:
        warnings.append(f"no submission time is known for {len(untimed)} submission(s), so no late penalty was applied "
                        f"to them (give submitted_at in the mapping file): {', '.join(untimed)}")
    return LedgerOutcome(tuple(updated), tuple(warnings))
