"""One unit of class grading, as it runs in a worker process (local or on a Dask worker).

A task names the submission and says where it is: a path the worker can read, or, for a cluster whose
workers cannot see the class folder, the submission itself as zip bytes. Whatever happens, the worker
returns a whole SubmissionResult as a plain dict: a submission that cannot be graded at all is a result
too, with every check failed for the reason in words, and so is one the grader itself failed on (an exception
of the grader's, say a SandboxUnavailable in the grading process): that result is no grade (Problem.GRADER_FAILED).
"""

from __future__ import annotations

import dataclasses
import io
import os
import stat
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.batch.discover import FILES, ZIP
from grader.files.archive import BrokenSubmission, unpack
from grader.files.flat import stage
from grader.files.listing import submission_files
from grader.results import SubmissionResult
from grader.sandbox import Limits, Policy
from grader.sandbox.claims import claimed_scratch
from grader.sandbox.protocol import printable
from grader.sandbox.scratch import is_a_link, shown
from grader.scoring import graded_or_not, grader_failed, not_graded

FAILURE_CHARS = 300  # of a grader's exception's message in a result: enough to report it, not a submission's dump


@dataclass(frozen=True)
class Task:
    name: str
    kind: str  # discover.FOLDER, ZIP or FILES
    path: str  # the folder or zip file, as the submitting machine sees it
    files: tuple[tuple[str, str], ...] = ()  # FILES: (the student's name for it, the file as that machine sees it)
    payload: bytes | None = None  # the submission as zip bytes, for workers that cannot read `path`
    refused: str = ""  # why it cannot be graded, found before it was sent (e.g. it could not be read)
    assignment: Assignment | None = None  # loaded once by the class run; travels with the task to any worker
    limits: Limits | None = None
    policy: str = Policy.strict.value  # which sandbox tiers the instructor accepts
    # The cores its grading may use (grade_submission's `cores`), set where it is handed to a process: the
    # report's diagnostics run beside the checks only with two, not when the class keeps every core busy.
    cores: int | None = None

    @property
    def required_assignment(self) -> Assignment:
        """The assignment to grade under: a task the class run makes always carries it."""
        if self.assignment is None:
            raise ValueError(f"the task of {self.name!r} carries no assignment")
        return self.assignment


def run_task(task: Task, grade: Callable[..., SubmissionResult]) -> dict[str, Any]:
    """Grade one submission with `grade` (grade_submission or a stand-in); return the result's dict."""
    if task.refused:
        return not_graded(task.name, task.refused, task.required_assignment).to_dict()
    with claimed_scratch("class-") as scratch:  # swept by a later run if this process is killed meanwhile
        try:
            return _graded(task, grade, scratch)
        except Exception as exc:  # noqa: BLE001 - a grader bug on one submission must not stop the class
            return grader_failed(task.name, failure_text(exc, {str(scratch): "<scratch>"}), task.required_assignment).to_dict()


def failure_text(exc: BaseException, names: Mapping[str, str]) -> str:
    """An exception of the grader's as a result says it: type and message on one line, printable and cut short
    (the message may quote the submission's bytes), each of `names` (a random scratch folder's, a task key)
    replaced by what it stands for, so the same failure reads the same on every run."""
    message = str(exc)
    for name, meaning in names.items():
        message = message.replace(name, meaning)
    message = " ".join(message.split())
    if len(message) > FAILURE_CHARS:
        message = message[:FAILURE_CHARS - 1] + "…"
    return f"{type(exc).__name__}: {printable(message)}" if message else type(exc).__name__


def _graded(task: Task, grade: Callable[..., SubmissionResult], scratch: Path) -> dict[str, Any]:
    try:
        folder = _materialize(task, scratch)
    except BrokenSubmission as exc:
        return not_graded(task.name, str(exc), task.required_assignment).to_dict()
    except OSError as exc:  # e.g. a folder that vanished or cannot be read
        return not_graded(task.name, f"it could not be read ({exc.strerror or exc})", task.required_assignment).to_dict()
    result = graded_or_not(task.name, lambda: grade(folder, task.required_assignment, limits=task.limits,
                                                    include_hidden=True, policy=Policy(task.policy),
                                                    cores=task.cores), task.required_assignment)
    # grade names a result by its folder, which for a zip is a temporary one.
    return dataclasses.replace(result, name=task.name).to_dict()


def over_time(task: Task, seconds: float) -> dict[str, Any]:
    """The result of a task stopped after `seconds` on the clock (the class run's limit per submission)."""
    reason = (f"grading it took longer than the {seconds:g} s a class run allows one submission "
              "(grading.yaml limits: task_seconds), so it was stopped")
    return not_graded(task.name, reason, task.required_assignment).to_dict()


def pack_folder(folder: Path) -> bytes:
    """A submission folder as zip bytes (regular files only), for a worker that cannot read it; within a
    submission's bounds, which submission_files holds it to (scratch.Refused)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for relative, full in submission_files(folder):
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                raise BrokenSubmission(is_a_link(shown(relative), full))
            if not stat.S_ISREG(mode):
                raise BrokenSubmission(f"{shown(relative)} is not a regular file; submit regular files only")
            zf.write(full, relative)
    return buffer.getvalue()


def pack_files(files) -> bytes:
    """A student's flat files (discover.Entry.files) as zip bytes of the folder they make (flat.stage)."""
    with claimed_scratch("pack-") as scratch:
        folder = scratch / "files"
        folder.mkdir()
        stage(files, folder)
        return pack_folder(folder)


def _materialize(task: Task, scratch: Path) -> Path:
    """The submission's folder, unpacking the zip (or payload) or putting a student's flat files together in
    `scratch` if needed; grading finds rnn.py (or the notebook) in it."""
    if task.payload is not None:
        archive = scratch / "submission.zip"
        archive.write_bytes(task.payload)
    elif task.kind == ZIP:
        archive = Path(task.path)
    elif task.kind == FILES:
        (scratch / "files").mkdir()
        stage([(name, Path(path)) for name, path in task.files], scratch / "files")
        return scratch / "files"
    else:
        return Path(task.path)
    (scratch / "unpacked").mkdir()
    unpack(archive, scratch / "unpacked")
    return scratch / "unpacked"
