"""late-policy.yaml: the deadline and what lateness costs.

    deadline: 2026-03-01T23:59:00+01:00
    grace_minutes: 15          # submitted within this after the deadline counts as on time
    percent_per_day: 10        # per started day after deadline + grace
    cap_percent: 50            # the most a late submission loses
    deduct_from: possible      # percent of the points possible (as Canvas's late policy) or of those earned
    extensions:                # per student (ID, SIS ID, e-mail, name or submission name)
      "1001": 2026-03-04T23:59:00+01:00   # a new deadline
      "quistrita": 2                      # or days added to the deadline
    late_marker_days: 1        # a submission the LMS marked late, with no time known, counts as this many
                               # days late (default 1, the least a late one is; 0: such a mark costs nothing)

When each submission came in is read from the LMS export (Gradescope's metadata) or the mapping file. A
Canvas download says no time, only which submissions Canvas marked late against its own due date (LATE in
the file names): without a time, a marked one counts as late_marker_days days late and an unmarked one as on
time, unless the student has an extension here, which Canvas's mark does not know of (then nothing is
applied, and the warnings say so). A time, when known, always decides.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.ledger.overrides import LedgerError, checked_time, read_yaml

POSSIBLE, EARNED = "possible", "earned"
FIELDS = ("deadline", "grace_minutes", "percent_per_day", "cap_percent", "deduct_from", "extensions", "late_marker_days")
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class LatePolicy:
    deadline: dt.datetime
    percent_per_day: float
    grace: dt.timedelta = dt.timedelta()
    cap_percent: float = 100.0
    deduct_from: str = POSSIBLE
    extensions: Mapping[str, dt.datetime] = field(default_factory=dict)  # student key -> their deadline
    late_marker_days: int = 1  # days late of a submission the LMS marked late whose time is not known

    def days_late(self, submitted: dt.datetime, deadline: dt.datetime) -> int:
        """Started days after deadline + grace (0 when on time)."""
        late = submitted - (deadline + self.grace)
        return max(0, math.ceil(late / DAY)) if late > dt.timedelta() else 0

    def percent(self, days: int) -> float:
        return min(self.cap_percent, days * self.percent_per_day)


def load_late_policy(path: Path) -> LatePolicy:
    data = read_yaml(path)
    if not isinstance(data, dict) or "deadline" not in data or "percent_per_day" not in data:
        raise LedgerError(f"{path}: a late policy needs at least deadline and percent_per_day "
                          f"(and may give {', '.join(FIELDS[1:])})")
    unknown = sorted(set(map(str, data)) - set(FIELDS))
    if unknown:
        raise LedgerError(f"{path}: unknown field {', '.join(unknown)} (the fields are {', '.join(FIELDS)})")
    deadline = checked_time(data["deadline"], f"{path}, deadline")
    numbers = {}
    for name, default in (("grace_minutes", 0), ("percent_per_day", None), ("cap_percent", 100)):
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise LedgerError(f"{path}: {name} must be a number of at least 0, not {value!r}")
        numbers[name] = float(value)
    if numbers["cap_percent"] > 100:
        raise LedgerError(f"{path}: cap_percent is at most 100, not {numbers['cap_percent']:g}")
    marker_days = data.get("late_marker_days", 1)
    if isinstance(marker_days, bool) or not isinstance(marker_days, int) or marker_days < 0:
        raise LedgerError(f"{path}: late_marker_days must be a whole number of days, at least 0, not {marker_days!r}")
    deduct_from = data.get("deduct_from", POSSIBLE)
    if deduct_from not in (POSSIBLE, EARNED):
        raise LedgerError(f"{path}: deduct_from is {POSSIBLE!r} or {EARNED!r}, not {deduct_from!r}")
    extensions = {}
    for student, value in (data.get("extensions") or {}).items():
        where = f"{path}, extension for {student}"
        if isinstance(value, int) and not isinstance(value, bool):
            extensions[str(student)] = deadline + value * DAY
        else:
            extensions[str(student)] = checked_time(value, where)
    return LatePolicy(
        deadline=deadline,
        percent_per_day=numbers["percent_per_day"],
        grace=dt.timedelta(minutes=numbers["grace_minutes"]),
        cap_percent=numbers["cap_percent"],
        deduct_from=deduct_from,
        extensions=extensions,
        late_marker_days=marker_days,
    )
