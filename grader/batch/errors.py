"""Why a class run stopped (a single submission's trouble never stops it: it becomes that submission's result)."""

from __future__ import annotations

from grader.errors import ExitCode, GraderError


class BatchError(GraderError):
    """The class cannot be graded as asked (no such folder, bad --jobs, no Dask); the message says why."""


class ClassInterrupted(GraderError):
    """Ctrl-C: the workers were stopped; every finished submission's results are complete on disk."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, finished: int, total: int, out_dir: str):
        self.finished, self.total = finished, total
        super().__init__(
            f"Interrupted: {finished} of {total} submissions have finished results in {out_dir}; "
            "run the same command again to grade the rest."
        )
