"""Grading a whole class folder: discover, reuse what is unchanged, grade the rest in parallel, summarize."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.batch.archive import MAX_ARCHIVE_BYTES, BrokenSubmission
from grader.batch.discover import ZIP, Entry, discover, printable_name
from grader.batch.errors import BatchError, ClassInterrupted
from grader.batch.keys import content_digest, grading_key, spec_digest
from grader.batch.progress import ProgressReport
from grader.batch.stats import row, summarize
from grader.batch.store import store_result, stored_result
from grader.batch.task import Task, pack_folder
from grader.grading import grade_submission
from grader.outputs import INSTRUCTOR_REPORT, OutputError, write_atomically
from grader.render.class_overview import render_class_html
from grader.render.gradebook import render_grades_csv
from grader.results import ClassResult, ClassSubmission, SubmissionResult
from grader.sandbox import Limits

GRADES, SUMMARY, INDEX = "grades.csv", "summary.json", "index.html"


def grade_class(
    folder: Path,
    out_dir: Path,
    assignment: Assignment,
    *,
    jobs: int | None = None,
    force: bool = False,
    dask_address: str | None = None,
    limits: Limits | None = None,
    grade: Callable[..., SubmissionResult] = grade_submission,
    progress: bool = True,
) -> ClassResult:
    """Grade every submission (sub-folder or zip file) of `folder` into out_dir/<name>/, then write
    out_dir/grades.csv, summary.json and index.html; return the class result.

    A submission whose content, grader version, spec and limits are those of the results already in
    out_dir/<name>/ is not graded again, unless `force`. `grade` is called as
    grade(submission_folder, assignment, limits=..., include_hidden=True) in worker processes (so it
    must be importable by name). Raises BatchError when the class cannot be graded as asked and
    ClassInterrupted on Ctrl-C (finished results stay complete on disk).
    """
    started = time.monotonic()
    folder, out_dir = Path(folder), Path(out_dir)
    if not folder.is_dir():
        raise BatchError(f"{folder} is not a folder")
    if jobs is not None and jobs < 1:
        raise BatchError(f"--jobs must be at least 1, not {jobs}")
    limits = limits or assignment.grading.limits
    found = discover(folder, exclude=out_dir)
    _refuse_output_among_submissions(folder, out_dir, found.entries)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None

    spec = spec_digest(assignment)
    entries = {entry.name: entry for entry in found.entries}
    keys: dict[str, str | None] = {}
    rows: dict[str, ClassSubmission] = {}
    results: dict[str, SubmissionResult] = {}
    tasks = []
    for entry in found.entries:
        task, keys[entry.name] = _task(entry, spec, assignment, limits, ship=dask_address is not None)
        reused = None if force or keys[entry.name] is None else stored_result(out_dir, entry.name, keys[entry.name])
        if reused is not None:
            results[entry.name] = reused
            rows[entry.name] = row(reused, source=printable_name(entry.path.name), reused=True, report=f"{entry.name}/{INSTRUCTOR_REPORT}", note=entry.note)
        else:
            tasks.append(task)

    report = ProgressReport(len(entries), len(rows), progress)

    def finished(task: Task, data: dict[str, Any]) -> None:
        result = SubmissionResult.from_dict(data)
        entry = entries[task.name]
        note = entry.note
        try:
            report_path = store_result(out_dir, result, keys[task.name])
        except OutputError as exc:
            report_path, note = "", "; ".join(filter(None, [note, f"its results could not be written: {exc}"]))
        except Exception as exc:  # a renderer's bug on one submission's odd values must not stop the class
            report_path, note = "", "; ".join(filter(None, [note, f"its report could not be rendered ({type(exc).__name__}); "
                                                                   "the grade stands, see grades.csv"]))
        results[task.name] = result
        rows[task.name] = row(result, source=printable_name(entry.path.name), reused=False, report=report_path, note=note)
        report.finished(result.name, result.score, result.max_score, rows[task.name].problem)

    try:
        if dask_address is not None:
            from grader.batch.cluster import run_dask

            run_dask(dask_address, tasks, grade, finished)
        else:
            from grader.batch.local import default_jobs, run_local

            run_local(tasks, grade, jobs or default_jobs(), finished)
    except KeyboardInterrupt:
        raise ClassInterrupted(len(rows), len(entries), str(out_dir)) from None
    finally:
        report.close()

    order = [entry.name for entry in found.entries]
    class_result = summarize(
        str(folder),
        [rows[name] for name in order],
        [results[name] for name in order],
        ignored=found.ignored,
        seconds=time.monotonic() - started,
    )
    _write_class_outputs(out_dir, class_result)
    return class_result


def _refuse_output_among_submissions(folder: Path, out_dir: Path, entries) -> None:
    """The results must not land in the students' folders (and would change their content on every run)."""
    out = out_dir.resolve()
    if out == folder.resolve():
        raise BatchError(f"--out {out_dir} is the class folder itself; give a separate folder such as grading-output/")
    for entry in entries:
        if out.is_relative_to(entry.path.resolve()):
            raise BatchError(f"--out {out_dir} is inside the submission {printable_name(entry.path.name)}; give a folder outside it")


def _task(entry: Entry, spec: str, assignment: Assignment, limits: Limits, ship: bool) -> tuple[Task, str | None]:
    """The task for `entry` and its cache key (None if it could not be read: it is graded every time)."""
    base = Task(entry.name, entry.kind, str(entry.path), assignment=assignment, limits=limits)
    try:
        key = grading_key(content_digest(entry.path), spec, limits)
    except OSError as exc:
        return Task(**{**vars(base), "refused": f"{printable_name(entry.path.name)} could not be read ({exc.strerror or exc})"}), None
    if not ship:
        return base, key
    try:
        # A cluster's workers may not see this disk: the task carries the submission.
        if entry.kind == ZIP:
            if entry.path.stat().st_size > MAX_ARCHIVE_BYTES:
                raise BrokenSubmission(f"the zip file is more than the {MAX_ARCHIVE_BYTES // 1024**2} MiB allowed")
            payload = entry.path.read_bytes()
        else:
            payload = pack_folder(entry.path)
    except BrokenSubmission as exc:
        return Task(**{**vars(base), "refused": str(exc)}), key
    return Task(**{**vars(base), "payload": payload}), key


def _write_class_outputs(out_dir: Path, result: ClassResult) -> None:
    try:
        write_atomically(out_dir / GRADES, render_grades_csv(result))
        write_atomically(out_dir / SUMMARY, json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        write_atomically(out_dir / INDEX, render_class_html(result))
    except OutputError as exc:
        raise BatchError(str(exc)) from None
