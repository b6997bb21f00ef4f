"""Grading a whole class folder: discover, reuse what is unchanged, grade the rest in parallel, hold back
regrades that change a grade, apply the ledger, compare the submissions, summarize, export."""

from __future__ import annotations

import dataclasses
import json
import shutil
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
from grader.batch.regrade import STAGING, change
from grader.batch.stats import problem_of, row, stopped, summarize
from grader.batch.store import previous_result, store_result, stored_content, stored_result
from grader.batch.task import Task, pack_folder
from grader.batch.workflow import CANVAS, MOODLE, SIMILARITY, ClassWorkflow
from grader.grading import grade_submission
from grader.ledger import apply_ledger
from grader.lms import identity as lms
from grader.lms.canvas import render_canvas_csv
from grader.lms.moodle import render_moodle_csv
from grader.outputs import INSTRUCTOR_REPORT, OutputError, write_atomically
from grader.render.class_overview import render_class_html
from grader.render.gradebook import render_grades_csv
from grader.results import (ClassResult, ClassSubmission, FailureKind, Problem, RegradeChange, SimilaritySummary,
                            SubmissionResult)
from grader.sandbox import Limits, Policy, SandboxUnavailable
from grader.sandbox.isolation import choose, open_to_others
from grader.sandbox.packages import resolve
from grader.sandbox.scratch import Refused

GRADES, SUMMARY, INDEX = "grades.csv", "summary.json", "index.html"
RETRIED = (Problem.CRASHED, Problem.TIMED_OUT)  # what --retry-failed grades again
UID_TIER = "unprivileged-user"


@dataclasses.dataclass
class _Regrade:
    """A submission graded again with the same content: its previous result, and why."""

    previous: SubmissionResult
    cause: str


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
    workflow: ClassWorkflow | None = None,
    retry_failed: bool = False,
    accept_regrade: bool = False,
    policy: Policy = Policy.strict,
) -> ClassResult:
    """Grade every submission (sub-folder or zip file) of `folder` into out_dir/<name>/, then write
    out_dir/grades.csv, canvas.csv, moodle.csv, summary.json, index.html and similarity.html; return the
    class result.

    A submission whose content, grader version, spec and limits are those of the results already in
    out_dir/<name>/ is not graded again, unless `force`; with `retry_failed`, only the submissions whose
    results say they crashed or timed out are (and new ones). A submission graded again with the same
    content whose grade changes keeps its old result until `accept_regrade`: the change is listed in
    ClassResult.regrade. A submission stopped by the clock while it was starved of CPU (FailureKind.stalled)
    while others were graded beside it (jobs > 1, or a Dask cluster) is graded again alone once the others
    are done, and that result is the one kept; its note says so. One that used its CPU time, or slept, timed
    out on its own and is not graded again. `grade` is called as
    grade(submission_folder, assignment, limits=..., include_hidden=True) in worker processes (so it
    must be importable by name; it also gets policy=...). `policy` says which sandbox tiers are acceptable:
    when none works here, nothing is graded (BatchError says why and how to fix it). The tier a stored
    result was graded in is part of its key, and a result from a weak tier is reused only by a run that
    accepts a weak tier: never by a strong one. Raises BatchError when the class cannot be graded as asked and
    ClassInterrupted on Ctrl-C (finished results stay complete on disk).
    """
    started = time.monotonic()
    folder, out_dir = Path(folder), Path(out_dir)
    workflow = workflow or ClassWorkflow()
    if not folder.is_dir():
        raise BatchError(f"{folder} is not a folder")
    if jobs is not None and jobs < 1:
        raise BatchError(f"--jobs must be at least 1, not {jobs}")
    limits = limits or assignment.grading.limits
    try:  # refuse once, before anything runs, rather than once per submission
        tier = choose(Policy(policy), resolve(assignment.allowed_imports))
    except SandboxUnavailable as exc:
        raise BatchError(str(exc)) from None
    found = discover(folder, exclude=out_dir)
    _refuse_output_among_submissions(folder, out_dir, found.entries)
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None
    if tier == UID_TIER and dask_address is None:
        _keep_from_other_users(folder, out_dir, created)

    specs: dict[str, str] = {}  # per submission: with per-student cases the salt, so the key, is the student's own
    staging = out_dir / STAGING
    entries = {entry.name: entry for entry in found.entries}
    students = lms.identify(((e.name, e.path.name) for e in found.entries), mapping=workflow.mapping,
                            gradescope=workflow.gradescope)
    accepts_weak = Policy(policy) is Policy.allow_weak
    contents: dict[str, str | None] = {}
    regrades: dict[str, _Regrade] = {}
    changes: dict[str, RegradeChange] = {}
    rows: dict[str, ClassSubmission] = {}
    results: dict[str, SubmissionResult] = {}
    alone: dict[str, str] = {}  # name -> the note saying it was graded again alone, and why
    tasks = []

    def key_of(name: str, result: SubmissionResult) -> str | None:
        # The tier the result was graded in, not the one this run chose: a cluster's workers may differ.
        content = contents[name]
        return None if content is None else grading_key(content, specs[name], limits, result.isolation_tier)

    def reusable(where: Path, name: str) -> SubmissionResult | None:
        """The result stored in where/<name>/ if its key is the one it would get now; a weak tier's result
        only if this run accepts a weak tier."""
        stored = previous_result(where, name)
        if stored is None or (stored.weak_isolation and not accepts_weak) or key_of(name, stored) is None:
            return None
        return stored_result(where, name, key_of(name, stored))

    def keep(name: str, result: SubmissionResult, report: str, note: str = "", reused: bool = True) -> None:
        entry = entries[name]
        results[name] = result
        rows[name] = row(result, source=printable_name(entry.path.name), reused=reused, report=report,
                         note="; ".join(filter(None, [entry.note, alone.get(name, ""), note])), student=students[name])

    def _finish_regrade(name: str, result: SubmissionResult, staged: bool = False) -> None:
        regrade = regrades[name]
        difference = change(name, regrade.previous, result, cause=regrade.cause)
        if difference is None or accept_regrade or retry_failed:
            if difference is not None:
                changes[name] = dataclasses.replace(difference, applied=True)
            _store(name, result, reused=staged)
            return
        changes[name] = difference
        note = (f"held back: regrading changes it from {result_points(regrade.previous)} to {result_points(result)} "
                "(--accept-regrade applies it)")
        if not staged:
            try:
                store_result(staging, result, key_of(name, result), contents[name])
            except OutputError as exc:
                note += f"; the new result could not be kept: {exc}"
        keep(name, regrade.previous, f"{name}/{INSTRUCTOR_REPORT}", note, reused=staged)

    def _store(name: str, result: SubmissionResult, reused: bool = False) -> None:
        note = ""
        try:
            report_path = store_result(out_dir, result, key_of(name, result), contents[name])
            shutil.rmtree(staging / name, ignore_errors=True)
        except OutputError as exc:
            report_path, note = "", f"its results could not be written: {exc}"
        except Exception as exc:  # a renderer's bug on one submission's odd values must not stop the class
            report_path, note = "", f"its report could not be rendered ({type(exc).__name__}); the grade stands, see grades.csv"
        keep(name, result, report_path, note, reused=reused)

    for entry in found.entries:
        name = entry.name
        task, contents[name] = _task(entry, assignment.for_student(lms.case_identity(students[name], name)), limits,
                                     ship=dask_address is not None, policy=Policy(policy))
        specs[name] = spec_digest(task.assignment)
        previous = previous_result(out_dir, name)
        key_matches = reusable(out_dir, name) is not None
        if retry_failed and previous is not None and problem_of(previous)[0] not in RETRIED:
            keep(name, previous, f"{name}/{INSTRUCTOR_REPORT}",
                 "" if key_matches else "not regraded (--retry-failed), though it or the grader changed")
            continue
        if previous is not None and key_matches and not force and not retry_failed:
            keep(name, previous, f"{name}/{INSTRUCTOR_REPORT}")
            continue
        if previous is not None and contents[name] is not None and stored_content(out_dir, name) == contents[name]:
            cause = "--retry-failed" if retry_failed else "--force" if force else "the grader, the spec or the limits changed"
            regrades[name] = _Regrade(previous, cause)
            held = reusable(staging, name)
            if held is not None:  # graded by an earlier run and held back: no need to grade it again
                _finish_regrade(name, held, staged=True)
                continue
        tasks.append(task)

    if dask_address is None:
        from grader.batch.local import default_jobs, run_local

        jobs = jobs or default_jobs()
        at_once = min(jobs, len(tasks))
        crowd = f"the class was graded {at_once} at a time"

        def run(batch: list[Task], one_at_a_time: bool = False) -> None:
            run_local(batch, grade, 1 if one_at_a_time else jobs, finished, begun)
    else:
        from grader.batch.cluster import run_dask

        at_once = len(tasks)  # as many as the cluster's workers take
        crowd = "the class was graded in parallel on the Dask cluster"

        def run(batch: list[Task], one_at_a_time: bool = False) -> None:
            run_dask(dask_address, batch, grade, finished, one_at_a_time=one_at_a_time)

    report = ProgressReport(len(entries), len(rows), progress, jobs=jobs or 1)

    def finished(task: Task, data: dict[str, Any]) -> None:
        result = SubmissionResult.from_dict(data)
        timed_out = problem_of(result)[0] is Problem.TIMED_OUT
        # A neighbour may have starved it into the timeout: graded again alone, after the others, and only
        # that result is kept (a timeout alone is its own).
        if _starved(result) and at_once > 1 and task.name not in alone:
            alone[task.name] = f"timed out while {crowd}; graded again alone"
            again.append(task)
            report.again(task.name, f"timed out while {crowd}; it is graded again alone after the others")
            return
        if timed_out and task.name in alone:
            alone[task.name] += ", and timed out again"
        if task.name in regrades:
            _finish_regrade(task.name, result)
        else:
            _store(task.name, result)
        report.finished(result.name, result.score, result.max_score, rows[task.name].problem,
                        "graded again alone" if task.name in alone else "")

    def begun(task: Task) -> None:
        report.started(task.name)

    again: list[Task] = []
    try:
        run(tasks)
        if again:
            report.alone(len(again))
            run(again, one_at_a_time=True)
    except KeyboardInterrupt:
        raise ClassInterrupted(len(rows), len(entries), str(out_dir)) from None
    finally:
        report.close()

    order = [entry.name for entry in found.entries]
    graded = [rows[name] for name in order]
    ledger = apply_ledger(graded, _check_maxima(results.values()), workflow.ledger)
    similarity, similarity_note = _similarity(out_dir, entries, workflow)
    class_result = summarize(
        str(folder),
        ledger.submissions,
        [results[name] for name in order],
        ignored=found.ignored,
        seconds=time.monotonic() - started,
        regrade=tuple(changes[name] for name in order if name in changes),
        similarity=similarity,
        similarity_note=similarity_note,
        warnings=ledger.warnings,
    )
    return _write_class_outputs(out_dir, class_result, workflow)


def _starved(result: SubmissionResult) -> bool:
    """Whether the clock stopped a call that other load left too little CPU: the one timeout a neighbour can
    cause (grader.sandbox.clock). A call that used its CPU time, or slept, timed out on its own."""
    return any(kind is FailureKind.stalled for kind, _ in stopped(result))


def result_points(result: SubmissionResult) -> str:
    return f"{result.score:g}/{result.max_score:g}"


def _check_maxima(results) -> dict[str, float]:
    return {c.name: c.max_score for r in results for c in r.checks}


def _similarity(out_dir: Path, entries: dict[str, Entry], workflow: ClassWorkflow) -> tuple[SimilaritySummary | None, str]:
    """The similarity page written to out_dir, or why there is none."""
    if not workflow.similarity:
        return None, "turned off (--no-similarity)"
    from grader.render.similarity_page import render_similarity_html
    from grader.similarity.collect import class_similarity
    from grader.similarity.detect import SimilarityUnavailable

    try:
        found = class_similarity({n: e.path for n, e in entries.items()}, known=workflow.known, template=workflow.template)
    except SimilarityUnavailable as exc:
        return None, str(exc)
    try:
        write_atomically(out_dir / SIMILARITY, render_similarity_html(found))
    except OutputError as exc:
        return None, f"similarity.html could not be written: {exc}"
    summary = SimilaritySummary(SIMILARITY, len(found.flagged), found.pairs_compared, found.threshold, found.known_solutions)
    note = "" if workflow.template else "no template was given (--template), so code handed out to everyone counts as shared"
    return summary, note


def _keep_from_other_users(folder: Path, out_dir: Path, created: bool) -> None:
    """The unprivileged-user tier runs each submission as a uid of its own, to which the class folder and the
    results are "other users'" files: it must not reach them (classmates' code, their reports' expected
    values). An output folder the grader has just made is closed to others; anything else open is refused."""
    if created and open_to_others(out_dir):
        out_dir.chmod(out_dir.stat().st_mode & ~0o007)
    open_ = [str(path) for path in (folder, out_dir) if open_to_others(path)]
    if open_:
        raise BatchError(
            f"submissions run here as a user of their own (the unprivileged-user sandbox), and other users can "
            f"enter {' and '.join(open_)}, so a submission could read its classmates' code or results. "
            f"Fix: chmod o-rwx {' '.join(open_)}")


def _refuse_output_among_submissions(folder: Path, out_dir: Path, entries) -> None:
    """The results must not land in the students' folders (and would change their content on every run)."""
    out = out_dir.resolve()
    if out == folder.resolve():
        raise BatchError(f"--out {out_dir} is the class folder itself; give a separate folder such as grading-output/")
    for entry in entries:
        if out.is_relative_to(entry.path.resolve()):
            raise BatchError(f"--out {out_dir} is inside the submission {printable_name(entry.path.name)}; give a folder outside it")


def _task(entry: Entry, assignment: Assignment, limits: Limits, ship: bool,
          policy: Policy) -> tuple[Task, str | None]:
    """The task for `entry` and its content digest (None if it could not be read: it is graded every
    time)."""
    base = Task(entry.name, entry.kind, str(entry.path), assignment=assignment, limits=limits, policy=policy.value)
    try:
        content = content_digest(entry.path)
    except Refused as exc:  # beyond a submission's bounds: the sandbox would refuse it in the same words
        return Task(**{**vars(base), "refused": str(exc)}), None
    except OSError as exc:
        return Task(**{**vars(base), "refused": f"{printable_name(entry.path.name)} could not be read ({exc.strerror or exc})"}), None
    if not ship:
        return base, content
    try:
        # A cluster's workers may not see this disk: the task carries the submission.
        if entry.kind == ZIP:
            if entry.path.stat().st_size > MAX_ARCHIVE_BYTES:
                raise BrokenSubmission(f"the zip file is more than the {MAX_ARCHIVE_BYTES // 1024**2} MiB allowed")
            payload = entry.path.read_bytes()
        else:
            payload = pack_folder(entry.path)
    except (BrokenSubmission, Refused) as exc:
        return Task(**{**vars(base), "refused": str(exc)}), content
    return Task(**{**vars(base), "payload": payload}), content


def _write_class_outputs(out_dir: Path, result: ClassResult, workflow: ClassWorkflow) -> ClassResult:
    """Write the class files; return `result` with what the LMS exports had to leave out among its warnings."""
    sources = {s.student.source for s in result.submissions}
    canvas = render_canvas_csv(result, assignment=workflow.canvas_assignment, gradebook=workflow.canvas_gradebook)
    moodle, left_out = render_moodle_csv(result)
    warnings = list(result.warnings)
    if workflow.canvas_gradebook is not None or any(lms.CANVAS in source for source in sources):
        warnings += [f"canvas.csv: {w}" for w in canvas.warnings]
    if any(lms.MOODLE in source for source in sources):
        warnings += [f"moodle.csv: {w}" for w in left_out]
    result = dataclasses.replace(result, warnings=tuple(warnings))
    try:
        write_atomically(out_dir / GRADES, render_grades_csv(result))
        write_atomically(out_dir / CANVAS, canvas.text)
        write_atomically(out_dir / MOODLE, moodle)
        write_atomically(out_dir / SUMMARY, json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        write_atomically(out_dir / INDEX, render_class_html(result))
    except OutputError as exc:
        raise BatchError(str(exc)) from None
    return result
