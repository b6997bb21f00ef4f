"""What a traced call (Sandbox.call with ``trace=``) reports of the calls it made, read defensively.

The worker records, while one call runs, each call that call makes to the named functions: the arguments
at the requested positions, copied before the call, and the returned value (small numeric arrays as
float64, numbers as floats, one level of dicts and lists; anything else None). It comes from the
submission's process, so it is a claim: a check may use it to explain a result it has already judged
from the call's own return value, and reads nothing from it without checking its shape. A record that
does not have the expected form makes the whole trace unreadable (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_CALLS = 4096  # the worker's TRACE_RECORDS


@dataclass(frozen=True)
class TraceSpec:
    """What to record of each call to one function: the arguments at ``args`` (positions, as the function
    declares them), and of its return value the items at ``returns`` of the returned tuple (None: all of it)."""

    args: tuple[int, ...] = ()
    returns: tuple[int, ...] | None = None

    def request(self) -> dict:
        return {"args": list(self.args), "ret": None if self.returns is None else list(self.returns)}


@dataclass(frozen=True)
class TracedCall:
    function: str
    args: tuple[Any, ...]  # the requested positions, in order (None where not recorded)
    returned: Any = None  # None also while the call had not returned (it raised)


@dataclass(frozen=True)
class Trace:
    calls: tuple[TracedCall, ...]
    complete: bool  # False: a bound stopped the recording before the traced call ended

    @classmethod
    def read(cls, raw: Any) -> Trace | None:
        if type(raw) is not dict or set(raw) != {"calls", "complete"} or type(raw["complete"]) is not bool:
            return None
        calls = raw["calls"]
        if type(calls) is not list or len(calls) > MAX_CALLS:
            return None
        read = []
        for call in calls:
            if (type(call) is not dict or not set(call) <= {"f", "args", "ret"} or type(call.get("f")) is not str
                    or type(call.get("args")) is not list):
                return None
            read.append(TracedCall(call["f"], tuple(call["args"]), call.get("ret")))
        return cls(tuple(read), raw["complete"])

    def of(self, function: str) -> list[TracedCall]:
        return [call for call in self.calls if call.function == function]
