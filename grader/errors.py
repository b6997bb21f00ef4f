"""What a user can cause, and what the command line answers: one error family and its exit codes.

Everything an instructor, a TA or a student with the kit can get wrong and fix (a malformed spec, a path
that is not there, a bad option or environment setting, no usable sandbox on this machine, an output
folder that cannot be written) raises a ``GraderError``. The command line catches that one class at its
edge, prints the message as one line on stderr and exits with the error's ``exit_code``; anything else is
a bug of the grader and keeps its traceback. A submission's own trouble is not an error of the run: it
becomes that submission's result.

Subclasses exist where a caller must tell them apart (``SpecError`` for the spec folder, ``BatchError``
for a class run, ...); they live beside the code that raises them. This module imports nothing of the
grader's, so any module may use it.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class ExitCode(enum.IntEnum):
    """The command line's exit status."""

    OK = 0
    BELOW_FAIL_UNDER = 1  # --fail-under: a score (a class: any final score) is lower
    USAGE = 2  # a GraderError: what was asked cannot be done; nothing (more) was graded
    # The grader itself failed on a submission (of a class, or the Gradescope autograder's one): it has no grade
    # until a rerun (a Gradescope Regrade) gives one.
    GRADER_FAILED = 3
    INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT (128 + 2)


class GraderError(Exception):
    """Something a user caused and can fix; the message says what and where, in one line."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class UsageError(GraderError):
    """The command line names something the grader cannot grade, or options that do not go together."""


class SettingError(GraderError):
    """An environment variable the grader reads has a value it cannot use."""
