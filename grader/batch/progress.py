"""Progress of a class run: a rich progress bar (counts, elapsed, ETA) on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressReport:
    """Told about each finished submission; shows it on `stream` (stderr by default)."""

    def __init__(self, total: int, reused: int, enabled: bool = True, stream: TextIO | None = None):
        self.total, self.done = total, reused
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._bar: Progress | None = None
        self._task = None
        if enabled and self.stream.isatty():
            self._bar = Progress(
                TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("elapsed"),
                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False,
            )
        if not enabled:
            return
        if reused:
            self._print(f"{reused} of {total} submissions unchanged since the last run; their results are kept")
        if self._bar is not None:
            self._bar.start()
            # The ETA is estimated from the submissions graded in this run only.
            self._task = self._bar.add_task("grading", total=total - reused)

    def finished(self, name: str, score: float, max_score: float, problem: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        # A folder name can hold terminal escape sequences; show such names quoted.
        name = name if name.isprintable() else repr(name)
        what = f"{score:g}/{max_score:g}" + (f" ({problem})" if problem else "")
        if self._bar is not None:
            self._bar.console.print(f"{name}: {what}", markup=False, highlight=False)
            self._bar.advance(self._task)
        else:
            self._print(f"[{self.done}/{self.total}] {name}: {what}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)
