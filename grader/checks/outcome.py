"""What a check's run comes to, before scoring turns it into points (no Hypothesis needed to read it)."""

from __future__ import annotations

from dataclasses import dataclass

WHOLE = "*"  # in failed_parts: the check failed as a whole


@dataclass(frozen=True)
class Outcome:
    failed_parts: frozenset[str]  # empty when the check passed; WHOLE when it failed as a whole
    reason: str = ""
    feedback: str = ""
    hint: str = ""
    seconds: float = 0.0
    stopped_by: str = ""  # the sandbox failure kind that stopped the check, if one did
    carried_from: str = ""  # the function whose fault a forgiven difference was (the check passed)
    cause: str = ""  # the id of the mistake the hint names (grader.mistakes), if it names one

    @classmethod
    def failed(cls, reason: str, feedback: str = "", stopped_by: str = "") -> Outcome:
        """The check could not pass at all (its function is missing, the submission was not run, ...)."""
        return cls(frozenset({WHOLE}), reason, feedback or reason, stopped_by=stopped_by)
