"""Times the instructor writes (deadlines, extensions, when a submission came in): ISO 8601 with an offset.

A time without its UTC offset is refused: read in the wrong zone, a deadline an hour off would make
students late, or not.
"""

from __future__ import annotations

import datetime as dt


def aware_time(value: object) -> dt.datetime:
    """`value` (a datetime, as YAML reads one, or ISO 8601 text) as a datetime with its offset; ValueError says why not."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise ValueError(f"{value} is a date; give a time with its offset, e.g. {value}T23:59:00+01:00")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a time such as 2026-03-01T23:59:00+01:00") from None
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{value!r} is not a time such as 2026-03-01T23:59:00+01:00")
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no UTC offset; add one, e.g. {value.isoformat()}+01:00")
    return value
