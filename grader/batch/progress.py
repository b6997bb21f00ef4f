"""Progress of a class run: which submissions are being graded, how many are done, and how long is left.

The estimate comes from this run's own measured times: each submission's grading time from the moment
its worker started it to its result, averaged, applied to what is waiting and what is still running,
and divided among the jobs. Before the first result there is no measurement, and the estimate says so
instead of guessing. On a terminal it is a rich progress bar; otherwise one plain line per result.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from grader.results import Problem

RUNNING_SHOWN = 4


def estimate_seconds(durations: Sequence[float], waiting: int, running_elapsed: Sequence[float], jobs: int) -> float | None:
    """Seconds left: each running submission needs the mean duration minus what it has had, each waiting
    one the mean, and `jobs` of them run at a time. None before any duration was measured."""
    if not durations:
        return None
    mean = statistics.fmean(durations)
    left = waiting * mean + sum(max(0.0, mean - elapsed) for elapsed in running_elapsed)
    return left / max(1, jobs)


def describe(seconds: float | None) -> str:
    if seconds is None:
        return "time left: known after the first result"
    if seconds < 90:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


class _Column(ProgressColumn):
    """A column re-rendered at every refresh, so the running list and estimate stay current between results."""

    def __init__(self, text: Callable[[], str]):
        super().__init__()
        self._text = text

    def render(self, task) -> Text:
        return Text(self._text(), style="dim")


class ProgressReport:
    """Told when a submission starts and finishes; shows it on `stream` (stderr by default)."""

    def __init__(self, total: int, reused: int, enabled: bool = True, stream: TextIO | None = None,
                 jobs: int = 1, clock: Callable[[], float] = time.monotonic):
        self.total, self.done = total, reused
        self.waiting = total - reused
        self.jobs = jobs
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._clock = clock
        self._running: dict[str, float] = {}  # name -> when its worker started it
        self._durations: list[float] = []
        self._finished: set[str] = set()
        self._bar: Progress | None = None
        self._task = None
        if enabled and self.stream.isatty():
            self._bar = Progress(
                TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                _Column(lambda: describe(self.estimate())), _Column(self.running_text),
                console=Console(file=self.stream), transient=False,
            )
        if not enabled:
            return
        if reused:
            self._print(f"{reused} of {total} submissions unchanged since the last run; their results are kept")
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("grading", total=total - reused)

    def estimate(self) -> float | None:
        now = self._clock()
        return estimate_seconds(self._durations, self.waiting, [now - t for t in self._running.values()], self.jobs)

    def running_text(self) -> str:
        names = [_shown(n) for n in self._running]
        if not names:
            return ""
        more = f" and {len(names) - RUNNING_SHOWN} more" if len(names) > RUNNING_SHOWN else ""
        return "running: " + ", ".join(names[:RUNNING_SHOWN]) + more

    def started(self, name: str) -> None:
        if name in self._finished:  # its result overtook the news of its start
            return
        self._running[name] = self._clock()
        self.waiting = max(0, self.waiting - 1)

    def finished(self, name: str, score: float, max_score: float, problem: str, note: str = "") -> None:
        self.done += 1
        self._finished.add(name)
        self._stopped(name)
        grade = "no grade" if problem == Problem.GRADER_FAILED else f"{score:g}/{max_score:g}"  # its 0 is none
        what = grade + (f" ({problem})" if problem else "") + (f", {note}" if note else "")
        self._line(name, what, advance=True)

    def again(self, name: str, why: str) -> None:
        """`name`'s result is not kept: it will be graded once more (one more grading waits), for `why`."""
        self._stopped(name)
        self.waiting += 1
        self._line(name, why, advance=False)

    def alone(self, count: int) -> None:
        """The gradings left now run one at a time."""
        self.jobs = 1
        if self.enabled:
            self._print(f"grading {count} submission{'s' if count != 1 else ''} again, one at a time")

    def _stopped(self, name: str) -> None:
        began = self._running.pop(name, None)
        if began is None:  # no start was reported (a Dask cluster): it was waiting until now
            self.waiting = max(0, self.waiting - 1)
        else:
            self._durations.append(self._clock() - began)

    def _line(self, name: str, what: str, advance: bool) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._print(f"{_shown(name)}: {what}")
            if advance and self._task is not None:
                self._bar.advance(self._task)
        else:
            status = "; ".join(filter(None, [self.running_text(), describe(self.estimate()) if self.done < self.total else ""]))
            self._print(f"[{self.done}/{self.total}] {_shown(name)}: {what}" + (f" ({status})" if status else ""))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _print(self, line: str) -> None:
        if self._bar is not None and self._bar.live.is_started:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)


def _shown(name: str) -> str:
    # A folder name can hold terminal escape sequences; show such names quoted.
    return name if name.isprintable() else repr(name)
