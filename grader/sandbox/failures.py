"""Failure kinds and the messages a student reads for them."""

from __future__ import annotations

import dataclasses
import errno
import signal
from collections.abc import Mapping
from types import MappingProxyType

from grader.results import FailureKind  # part of the results model: results name what stopped a check

from .limits import Limits


@dataclasses.dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str
    detail: str = ""


class CallFailed(Exception):
    def __init__(self, failure: Failure, trace=None):
        super().__init__(failure.message)
        self.failure = failure
        self.trace = trace  # a traced call's Trace up to the failure (grader.sandbox.trace), else None


SIGNAL_HINTS: Mapping[int, str] = MappingProxyType({
    signal.SIGSEGV: "a crash in compiled code, often a stack overflow from very deep recursion",
    signal.SIGBUS: "a crash in compiled code",
    signal.SIGFPE: "an arithmetic crash in compiled code",
    signal.SIGABRT: "the program aborted itself",
    signal.SIGKILL: "stopped from outside, or it sent the signal to itself",
    signal.SIGXFSZ: "it wrote a file larger than allowed",
})


def sentence(text: str) -> str:
    """`text` ended with a full stop, unless it already ends a sentence (an exception's own message may)."""
    return text if text.endswith((".", "!", "?")) else text + "."


def during(what: str, sizes: str) -> str:
    return f"{what} ({sizes})" if sizes else what


def from_worker(reply: dict, what: str, sizes: str, limits: Limits, disk_capped: bool = False) -> Failure:
    """The failure the worker reported for a call or for the import (already validated); `disk_capped`: the
    sandbox's writable space is limited as a whole (grader.sandbox.space), which a full disk is then put down to."""
    kind = FailureKind(reply["kind"])
    name = f"{reply.get('error_type', '')}: {reply.get('error', '')}".strip(": ")
    detail = reply.get("detail", "")
    call = during(what, sizes)
    if kind is FailureKind.import_error:
        if reply.get("error_type") in ("SyntaxError", "IndentationError", "TabError"):
            message = sentence(f"rnn.py could not be loaded because of a syntax error: {name}")
        else:
            message = sentence(f"Importing rnn.py failed with {name}")
        return Failure(kind, message, detail)
    if kind is FailureKind.exception:
        message = sentence(f"{call} raised {name}")
        if disk_capped and reply.get("error", "").startswith(f"[Errno {errno.ENOSPC}]"):
            message += (f" The sandbox lets a submission write {limits.disk_bytes // 1024**2} MiB in all, beyond its "
                        "own files, and this write went past it.")
        return Failure(kind, message, detail)
    if kind is FailureKind.memory:
        return Failure(
            kind,
            f"{call} ran out of memory (MemoryError; the limit is {limits.memory_bytes // 1024**2} MiB).",
            detail,
        )
    if kind is FailureKind.exited:
        return Failure(kind, exited_message(call, f"sys.exit({reply.get('code')!r})"), detail)
    if kind is FailureKind.missing_function:
        return Failure(kind, missing_message(what))
    return Failure(kind, malformed_value_message(what, reply.get("where", "value"),
                                                 reply.get("problem", "")))


def missing_message(function: str) -> str:
    return f"rnn.py does not define a function called {function}, so it could not be called."


def malformed_value_message(function: str, where: str, problem: str) -> str:
    if where == "value":
        return f"{function} returned {problem}."
    return f"After {function} returned, its {where} held {problem}."


def malformed_frame_message(what: str, problem: str) -> str:
    return (
        f"The reply to {what} was not valid: it contained {problem}. This happens when code "
        "in rnn.py writes to the sandbox's private channel instead of returning a value."
    )


def exited_message(call: str, how: str) -> str:
    return (
        f"Your code ended the whole program ({how}) during {call} instead of returning. "
        "Do not call sys.exit(), exit() or os._exit() in rnn.py."
    )


def death(what: str, sizes: str, returncode: int | None, cpu_seconds: int) -> Failure:
    """The failure for a worker that died without replying."""
    call = during(what, sizes)
    if returncode is not None and returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGXCPU:
            return Failure(FailureKind.timeout,
                           f"{call} used more than the {cpu_seconds} s of CPU time allowed "
                           "and was stopped.")
        hint = SIGNAL_HINTS.get(number)
        suffix = f" ({hint})" if hint else ""
        return Failure(FailureKind.signal,
                       f"The program was killed by {name} during {call}{suffix}.")
    return Failure(FailureKind.exited, exited_message(call, f"exit status {returncode}"))


def group_memory(what: str, sizes: str, memory_bytes: int) -> Failure:
    """The worker was killed because the sandbox's processes together used more memory than allowed."""
    return Failure(FailureKind.memory,
                   f"{during(what, sizes)} ran out of memory: the program and the processes it started used more "
                   f"than the {memory_bytes // 1024**2} MiB allowed together, and it was stopped.")


def timeout(what: str, sizes: str, seconds: float) -> Failure:
    return Failure(FailureKind.timeout,
                   f"{during(what, sizes)} did not finish within {seconds:g} s and was stopped.")


def stalled(what: str, sizes: str, seconds: float, wall_factor: float) -> Failure:
    """A call stopped by the wall-clock cap while other load left it too little CPU (grader.sandbox.clock)."""
    return Failure(FailureKind.stalled,
                   f"{during(what, sizes)} was stopped after {seconds * wall_factor:g} s without finishing. It had "
                   f"used less than its {seconds:g} s of CPU time, because other processes on the grading "
                   "machine left it too little.")


def waited(what: str, sizes: str, seconds: float) -> Failure:
    """A call stopped by the wall-clock cap having used almost no CPU: it waited, it did not compute."""
    return Failure(FailureKind.timeout,
                   f"{during(what, sizes)} was stopped after {seconds:g} s without finishing, having used almost "
                   "no CPU time: it was waiting (time.sleep, input(), a process it started) rather than computing.")


def budget(what: str, sizes: str, total_seconds: float, ran_out_during: bool,
           kind: FailureKind = FailureKind.budget) -> Failure:
    """The budget's failure; `kind` is FailureKind.stalled when its wall-clock share ran out while the call
    waited (grader.sandbox.clock)."""
    if ran_out_during:
        text = f"The time budget of {total_seconds:g} s for the whole submission ran out during "
    else:
        text = (f"The time budget of {total_seconds:g} s for the whole submission was used up "
                "before ")
    return Failure(kind, text + f"{during(what, sizes)}.")


def refused(reason: str) -> Failure:
    return Failure(FailureKind.refused, f"The submission was not run: {reason}.")
