"""overrides.yaml: a list of decisions, each giving one student's check a number of points.

    - student: "1001"          # the student's ID, SIS ID, e-mail, name, or the submission's name
      check: "forward: loss matches reference"
      points: 4                # the points for that check instead of the grader's (0..the check's maximum)
      reason: "the loss is right; the case overflowed in float32, accepted in the course"
      by: "Anna (TA)"
      at: 2026-03-05T10:00:00+01:00

Every field is required: a grade changed by hand must say why, by whom and when.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.errors import GraderError
from grader.timestamps import aware_time

FIELDS = ("student", "check", "points", "reason", "by", "at")
MAX_LEDGER_BYTES = 8 * 1024 * 1024


class LedgerError(GraderError):
    """A ledger file cannot be used as it is; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Override:
    student: str
    check: str
    points: float
    reason: str
    by: str
    at: str  # ISO 8601


def load_overrides(path: Path) -> tuple[Override, ...]:
    data = read_yaml(path)
    if data is None:
        return ()
    if not isinstance(data, list):
        raise LedgerError(f"{path}: expected a list of overrides (each with {', '.join(FIELDS)})")
    found, seen = [], set()
    for number, entry in enumerate(data, start=1):
        where = f"{path}, override {number}"
        if not isinstance(entry, dict):
            raise LedgerError(f"{where}: expected a mapping with {', '.join(FIELDS)}")
        missing = [f for f in FIELDS if entry.get(f) in (None, "")]
        if missing:
            raise LedgerError(f"{where}: missing {', '.join(missing)} (every override says who decided it, when and why)")
        unknown = sorted(set(map(str, entry)) - set(FIELDS))
        if unknown:
            raise LedgerError(f"{where}: unknown field {', '.join(unknown)} (the fields are {', '.join(FIELDS)})")
        points = entry["points"]
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) or points < 0:
            raise LedgerError(f"{where}: points must be a number of at least 0, not {points!r}")
        override = Override(str(entry["student"]).strip(), str(entry["check"]).strip(), float(points),
                            str(entry["reason"]).strip(), str(entry["by"]).strip(), time_text(entry["at"], where))
        if (override.student, override.check) in seen:
            raise LedgerError(f"{where}: {override.student!r} already has an override for {override.check!r}; keep one")
        seen.add((override.student, override.check))
        found.append(override)
    return tuple(found)


def read_yaml(path: Path):
    path = Path(path)
    try:
        if path.stat().st_size > MAX_LEDGER_BYTES:
            raise LedgerError(f"{path} is larger than {MAX_LEDGER_BYTES // 1024**2} MiB")
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LedgerError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LedgerError(f"{path} is not valid YAML: {exc}") from None


def time_text(value: object, where: str) -> str:
    """An ISO 8601 time with its offset, from YAML (a datetime) or text."""
    return checked_time(value, where).isoformat()


def checked_time(value: object, where: str) -> dt.datetime:
    try:
        return aware_time(value)
    except ValueError as exc:
        raise LedgerError(f"{where}: {exc}") from None
