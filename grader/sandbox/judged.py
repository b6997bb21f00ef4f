"""A loop of sandbox calls that stops at the first refused answer, made in few exchanges."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import TypeVar

from .failures import CallFailed
from .sandbox import Call, Reply, Sandbox, Stop

T = TypeVar("T")


def each_judged(box: Sandbox, calls: Iterable[Call], judge: Callable[[Reply], T],
                batch: int = 100) -> tuple[list[T], CallFailed | Exception | None]:
    """``judge(reply)`` of each call in order, as a loop of ``box.call()`` that stops at the first failure gets
    them, and that failure (the CallFailed, or the exception ``judge`` raised; None: there was none).

    The worker makes the calls that loop makes, no more, in as few exchanges as Sandbox.call_many's Stop allows:
    the first call alone, then up to ``batch`` at a time, which the worker stops after a call that fails or
    whose value is shaped unlike the last value ``judge`` accepted (protocol.shape_key; after a value whose
    shape cannot be told in full, the next call goes alone); a batch so stopped goes on
    from the next call once ``judge`` has taken that value. So ``judge`` must judge a value by its kinds, shapes
    and finiteness alone, as grader.contract.conform does scalars, arrays and params (not a comparison of
    numbers, nor the contract's indices, whose range it checks): a value it refuses then always ends a batch.
    ``calls`` is read a batch at a time.
    """
    pending = iter(calls)
    taken: list[Call] = []  # read from ``calls``, not made yet
    values: list[T] = []
    stop = Stop()  # nothing judged yet: the first call goes alone
    while True:
        taken.extend(islice(pending, (1 if stop.like is None else batch) - len(taken)))
        if not taken:
            return values, None
        results = box.call_many(taken, stop)
        del taken[:len(results)]
        for result in results:
            if isinstance(result, CallFailed):
                return values, result
            try:
                values.append(judge(result))
            except Exception as refused:  # noqa: BLE001 - whatever ends the caller's loop ends this one
                return values, refused
            last = result
        # The values before the last were like the template (the worker went on); the last one may not be.
        stop = Stop.unlike(last.value)
