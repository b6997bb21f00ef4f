"""Grading a whole class folder: discover, reuse what is unchanged, grade the rest in parallel, hold back
regrades that change a grade, apply the ledger, compare the submissions, summarize, export."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.atomic import remove_unfinished
from grader.batch.discover import FILES, ZIP, Entry, discover
from grader.batch.errors import BatchError, ClassInterrupted
from grader.batch.keys import content_digest, grading_key, spec_digest
from grader.batch.out_files import CANVAS, MOODLE, SIMILARITY
from grader.batch.progress import ProgressReport
from grader.batch.regrade import STAGING, change
from grader.batch.stats import compared, problem_of, row, stopped, summarize
from grader.batch.store import previous_result, store_result, stored_content, stored_result
from grader.batch.task import Task, pack_files, pack_folder
from grader.batch.workflow import ClassWorkflow
from grader.files.archive import MAX_ARCHIVE_BYTES, BrokenSubmission
from grader.files.listing import printable_name
from grader.grading import grade_submission
from grader.ledger import apply_ledger
from grader.lms import identity as lms
from grader.lms.canvas import with_gradebook_names
from grader.outputs import INSTRUCTOR_REPORT, OutputError, write_atomically
from grader.render.canvas_csv import render_canvas_csv
from grader.render.class_overview import render_class_html
from grader.render.gradebook import render_grades_csv
from grader.render.moodle_csv import moodle_download, render_moodle_csv
from grader.results import (
    ClassResult,
    ClassSubmission,
    FailureKind,
    Problem,
    RegradeChange,
    SimilaritySummary,
    StudentIdentity,
    SubmissionResult,
)
from grader.sandbox import Limits, Policy, SandboxUnavailable
from grader.sandbox.isolation import choose, open_to_others, tier_class
from grader.sandbox.packages import resolve
from grader.sandbox.scratch import Refused, shown
from grader.sandbox.sweep import sweep

GRADES, SUMMARY, INDEX = "grades.csv", "summary.json", "index.html"
LOCK = ".class-run.lock"
SIMILARITY_PENDING = "not made yet: the class files are written first, then again with the similarity report"
# What --retry-failed grades again; and what the grader failed on, which has no grade (any rerun grades it again).
RETRIED = (Problem.CRASHED, Problem.TIMED_OUT)


@dataclasses.dataclass(frozen=True)
class ClassSettings:
    """How a class run grades, the command line's options in one object (checked here, once).

    `jobs`: processes grading at once on this machine (None: one per core); `dask_address`: grade on that
    Dask cluster instead. `limits`: the sandbox's (None: the spec's). `force`: grade everything again;
    `retry_failed`: only what crashed or timed out (and what is new, or has no grade); `accept_regrade`: apply the grade
    changes of a regrade instead of holding them back. `grade` is called as grade(submission_folder,
    assignment, limits=..., include_hidden=True, policy=..., cores=...) in worker processes, so it must be
    importable by name; `cores` is the cores each grading may use (the machine's over the gradings at once). `policy`: which sandbox tiers are acceptable. `workflow`: the ledger, identities, similarity
    and LMS settings (grader.batch.workflow).
    """

    jobs: int | None = None
    force: bool = False
    dask_address: str | None = None
    limits: Limits | None = None
    grade: Callable[..., SubmissionResult] = grade_submission
    progress: bool = True
    workflow: ClassWorkflow = dataclasses.field(default_factory=ClassWorkflow)
    retry_failed: bool = False
    accept_regrade: bool = False
    policy: Policy = Policy.strict

    def __post_init__(self) -> None:
        if self.jobs is not None and self.jobs < 1:
            raise BatchError(f"--jobs must be at least 1, not {self.jobs}")
        object.__setattr__(self, "policy", Policy(self.policy))


def grade_class(folder: Path, out_dir: Path, assignment: Assignment, settings: ClassSettings | None = None,
                **options: Any) -> ClassResult:
    """Grade every submission (sub-folder or zip file) of `folder` into out_dir/<name>/, then write
    out_dir/grades.csv, canvas.csv, moodle.csv, summary.json, index.html and similarity.html; return the
    class result. `options` are ClassSettings' fields (over those of `settings`, when given).

    A submission whose content, grader version, spec and limits are those of the results already in
    out_dir/<name>/ is not graded again, unless `force`; with `retry_failed`, only the submissions whose
    results say they crashed or timed out are (and new ones). A submission the grader itself failed on has no
    grade (Problem.GRADER_FAILED: no key, no 0 in any LMS file): every rerun grades it again; when that was a
    regrade, its earlier result stays in its folder meanwhile. A submission graded again with the same
    content whose grade changes keeps its old result until `accept_regrade`: the change is listed in
    ClassResult.regrade. A submission stopped by the clock while it was starved of CPU (FailureKind.stalled)
    while others were graded beside it (jobs > 1, or a Dask cluster) is graded again alone once the others
    are done, and that result is the one kept; its note says so. One that used its CPU time, or slept, timed
    out on its own and is not graded again. When no sandbox tier the policy accepts works here, nothing is
    graded (BatchError says why and how to fix it). The tier a stored result was graded in is part of its
    key, and a result from a weak tier is reused only by a run that accepts a weak tier: never by a strong
    one. Raises BatchError when the class cannot be graded as asked and ClassInterrupted on Ctrl-C
    (finished results stay complete on disk).
    """
    settings = dataclasses.replace(settings, **options) if settings is not None else ClassSettings(**options)
    return ClassRun(Path(folder), Path(out_dir), assignment, settings).run()


@dataclasses.dataclass
class _Submission:
    """One entry of the class folder as the run goes: what to grade, and once known, its result and row."""

    entry: Entry
    student: StudentIdentity
    task: Task
    content: str | None  # its content digest; None if it could not be read (graded every time)
    spec: str  # the spec digest its grading key takes (with per-student cases, the student's own salt)
    regrade: _Regrade | None = None  # graded again with the same content: the result it had, and why
    change: RegradeChange | None = None  # what that regrade changes
    alone: str = ""  # why it was graded again alone, if it was
    result: SubmissionResult | None = None
    row: ClassSubmission | None = None


@dataclasses.dataclass(frozen=True)
class _Regrade:
    """A submission graded again with the same content: its previous result, and why."""

    previous: SubmissionResult
    cause: str


class ClassRun:
    """One class run, in the order it happens: `plan` decides for each submission whether its stored
    result stands, `grade` runs the rest (local processes or a Dask cluster) and hands each result to
    `finished`, which `store`s it or, for a regrade, lets `regrade` hold back a changed grade; `finish`
    applies the ledger and writes the class files, before the similarity report and again after it."""

    def __init__(self, folder: Path, out_dir: Path, assignment: Assignment, settings: ClassSettings):
        if not folder.is_dir():
            raise BatchError(f"{folder} is not a folder")
        self.folder, self.out_dir, self.assignment, self.settings = folder, out_dir, assignment, settings
        self.limits = settings.limits or assignment.grading.limits
        try:  # refuse once, before anything runs, rather than once per submission
            tier = choose(settings.policy, resolve(assignment.allowed_imports))
        except SandboxUnavailable as exc:
            raise BatchError(str(exc)) from None
        self.found = discover(folder, exclude=out_dir)
        _refuse_output_among_submissions(folder, out_dir, self.found.entries)
        created = not out_dir.exists()
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None
        if tier_class(tier).other_user_on_host and settings.dask_address is None:
            _keep_from_other_users(folder, out_dir, created)
        self.staging = out_dir / STAGING
        self.submissions: dict[str, _Submission] = {}
        self.again: list[Task] = []  # starved by a neighbour: graded again alone after the others
        self.report: ProgressReport | None = None

    def run(self) -> ClassResult:
        started = time.monotonic()
        with _only_run_in(self.out_dir):
            # What a run killed before this one left: half-written files here, scratch folders and the
            # sandboxes' processes of its grading processes on this machine (grader.sandbox.sweep).
            remove_unfinished(self.out_dir)
            sweep()
            tasks = self.plan()
            self.grade(tasks)
            return self.finish(time.monotonic() - started)

    # --- plan: what stands, what is graded ------------------------------------------------------------

    def plan(self) -> list[Task]:
        """Each submission's task; the ones whose stored result stands are kept now, the rest returned."""
        settings, workflow = self.settings, self.settings.workflow
        students = with_gradebook_names(lms.identify(((e.name, e.path.name) for e in self.found.entries),
                                                     mapping=workflow.mapping, gradescope=workflow.gradescope),
                                        workflow.canvas_gradebook)
        tasks = []
        for entry in self.found.entries:
            student = students[entry.name]
            task, content = _task(entry, self.assignment.for_student(lms.case_identity(student, entry.name)),
                                  self.limits, ship=settings.dask_address is not None, policy=settings.policy)
            sub = self.submissions[entry.name] = _Submission(entry, student, task, content, spec_digest(task.required_assignment))
            previous = previous_result(self.out_dir, entry.name)
            if previous is not None and problem_of(previous)[0] is Problem.GRADER_FAILED:
                previous = None  # no grade to keep or to compare with: graded as if new (by any kind of rerun)
            key_matches = self._reusable(self.out_dir, sub) is not None
            failed = previous is not None and (problem_of(previous)[0] in RETRIED or self._regrade_failed(entry.name))
            if settings.retry_failed and previous is not None and not failed:
                self._keep(sub, previous, f"{entry.name}/{INSTRUCTOR_REPORT}",
                           "" if key_matches else "not regraded (--retry-failed), though it or the grader changed")
                continue
            if previous is not None and key_matches and not settings.force and not settings.retry_failed:
                self._keep(sub, previous, f"{entry.name}/{INSTRUCTOR_REPORT}")
                continue
            if previous is not None and content is not None and stored_content(self.out_dir, entry.name) == content:
                cause = ("--retry-failed" if settings.retry_failed else "--force" if settings.force
                         else "the grader, the spec or the limits changed")
                sub.regrade = _Regrade(previous, cause)
                held = self._reusable(self.staging, sub)
                if held is not None:  # graded by an earlier run and held back: no need to grade it again
                    self.regrade(sub, held, staged=True)
                    continue
            tasks.append(task)
        return tasks

    def _key(self, sub: _Submission, result: SubmissionResult) -> str | None:
        """The key `result` is stored under; None (grade it again next time) when the grader failed on it."""
        if sub.content is None or problem_of(result)[0] is Problem.GRADER_FAILED:
            return None
        # The tier the result was graded in, not the one this run chose: a cluster's workers may differ.
        return grading_key(sub.content, sub.spec, self.limits, result.isolation_tier)

    def _regrade_failed(self, name: str) -> bool:
        """Whether the grader failed on the submission's last regrade (its earlier result is kept: `regrade`)."""
        staged = previous_result(self.staging, name)
        return staged is not None and problem_of(staged)[0] is Problem.GRADER_FAILED

    def _reusable(self, where: Path, sub: _Submission) -> SubmissionResult | None:
        """The result stored in where/<name>/ if its key is the one it would get now; a weak tier's result
        only if this run accepts a weak tier."""
        stored = previous_result(where, sub.entry.name)
        accepts_weak = self.settings.policy is Policy.allow_weak
        key = None if stored is None else self._key(sub, stored)
        if stored is None or (stored.weak_isolation and not accepts_weak) or key is None:
            return None
        return stored_result(where, sub.entry.name, key)

    # --- grade: run the tasks, take each result as it comes ----------------------------------------------

    def grade(self, tasks: list[Task]) -> None:
        """Grade `tasks`, then, alone, those a neighbour starved into a timeout; Ctrl-C is ClassInterrupted."""
        local = self.settings.dask_address is None
        self.at_once = min(self._jobs(), len(tasks)) if local else len(tasks)  # a cluster takes what it can
        self.crowd = (f"the class was graded {self.at_once} at a time" if local
                      else "the class was graded in parallel on the Dask cluster")
        done = sum(sub.row is not None for sub in self.submissions.values())
        self.report = report = ProgressReport(len(self.submissions), done, self.settings.progress,
                                              jobs=self._jobs() if local else 1)
        try:
            self._run(tasks)
            if self.again:
                report.alone(len(self.again))
                self._run(self.again, one_at_a_time=True)
        except KeyboardInterrupt:
            done = sum(sub.row is not None for sub in self.submissions.values())
            raise ClassInterrupted(done, len(self.submissions), str(self.out_dir)) from None
        finally:
            report.close()

    def _jobs(self) -> int:
        from grader.batch.local import default_jobs

        return self.settings.jobs or default_jobs()

    def _run(self, batch: list[Task], one_at_a_time: bool = False) -> None:
        if self.settings.dask_address is None:
            from grader.batch.local import run_local

            run_local(batch, self.settings.grade, 1 if one_at_a_time else self._jobs(), self.finished, self.begun)
        else:
            from grader.batch.cluster import run_dask

            run_dask(self.settings.dask_address, batch, self.settings.grade, self.finished, one_at_a_time=one_at_a_time)

    def _progress(self) -> ProgressReport:
        """The report of the grading under way (grade() makes it before any task runs)."""
        if self.report is None:
            raise RuntimeError("no grading is under way")
        return self.report

    def begun(self, task: Task) -> None:
        self._progress().started(task.name)

    def finished(self, task: Task, data: dict[str, Any]) -> None:
        """A task's result came back: graded again alone later if a neighbour starved it, else kept."""
        sub = self.submissions[task.name]
        result = SubmissionResult.from_dict(data)
        # A neighbour may have starved it into the timeout: graded again alone, after the others, and only
        # that result is kept (a timeout alone is its own).
        if _starved(result) and self.at_once > 1 and not sub.alone:
            sub.alone = f"timed out while {self.crowd}; graded again alone"
            self.again.append(task)
            self._progress().again(task.name, f"timed out while {self.crowd}; it is graded again alone after the others")
            return
        if sub.alone and problem_of(result)[0] is Problem.TIMED_OUT:
            sub.alone += ", and timed out again"
        if sub.regrade is not None:
            self.regrade(sub, result)
        else:
            self.store(sub, result)
        problem = Problem.NONE if sub.row is None else sub.row.problem
        self._progress().finished(result.name, result.score, result.max_score, problem,
                                  "graded again alone" if sub.alone else "")

    # --- regrade: a new result for the same content -------------------------------------------------------

    def regrade(self, sub: _Submission, result: SubmissionResult, staged: bool = False) -> None:
        """Store `result` if the grade is the same or the change is accepted; otherwise keep the previous
        result, list the change and hold the new result back in the staging folder (`staged`: it is there)."""
        if sub.regrade is None:  # nothing to compare with
            self.store(sub, result)
            return
        settings, previous = self.settings, sub.regrade.previous
        if problem_of(result)[0] is Problem.GRADER_FAILED:
            self._failed_regrade(sub, previous, result)
            return
        difference = change(sub.entry.name, previous, result, cause=sub.regrade.cause)
        if difference is None or settings.accept_regrade or settings.retry_failed:
            if difference is not None:
                sub.change = dataclasses.replace(difference, applied=True)
            self.store(sub, result, reused=staged)
            return
        sub.change = difference
        note = (f"held back: regrading changes it from {result_points(previous)} to {result_points(result)} "
                "(--accept-regrade applies it)")
        if not staged:
            try:
                store_result(self.staging, result, self._key(sub, result), sub.content)
            except OutputError as exc:
                note += f"; the new result could not be kept: {exc}"
        self._keep(sub, previous, f"{sub.entry.name}/{INSTRUCTOR_REPORT}", note, reused=staged)

    def _failed_regrade(self, sub: _Submission, previous: SubmissionResult, result: SubmissionResult) -> None:
        """The grader failed regrading `sub`: its `previous` result stays in its folder, the failure (no grade, so
        nothing goes to the LMS) is its row, and kept in the staging folder, without a key, for --retry-failed."""
        name = sub.entry.name
        note = f"regrading it failed; its earlier result ({result_points(previous)}) stays in {name}/ until a rerun grades it"
        try:
            store_result(self.staging, result, None)
        except OutputError as exc:
            note += f"; the failure could not be kept: {exc}"
        self._keep(sub, result, f"{name}/{INSTRUCTOR_REPORT}", note, reused=False)

    # --- store: a submission's files ----------------------------------------------------------------------

    def store(self, sub: _Submission, result: SubmissionResult, reused: bool = False) -> None:
        name, note = sub.entry.name, ""
        # No content digest beside a result the grader failed on: it is no grade a regrade could change.
        content = None if problem_of(result)[0] is Problem.GRADER_FAILED else sub.content
        try:
            report_path = store_result(self.out_dir, result, self._key(sub, result), content)
            shutil.rmtree(self.staging / name, ignore_errors=True)
        except OutputError as exc:
            report_path, note = "", f"its results could not be written: {exc}"
        except Exception as exc:  # a renderer's bug on one submission's odd values must not stop the class
            report_path, note = "", f"its report could not be rendered ({type(exc).__name__}); the grade stands, see grades.csv"
        self._keep(sub, result, report_path, note, reused=reused)

    def _keep(self, sub: _Submission, result: SubmissionResult, report: str, note: str = "", reused: bool = True) -> None:
        sub.result = result
        sub.row = row(result, source=printable_name(sub.entry.path.name), reused=reused, report=report,
                      note="; ".join(filter(None, [sub.entry.note, sub.alone, note])), student=sub.student)

    # --- finish: the class files ---------------------------------------------------------------------------

    def finish(self, seconds: float) -> ClassResult:
        """Apply the ledger and write the class files; with the similarity report, write them again after
        it, so whatever it meets, the grades are out first."""
        workflow = self.settings.workflow
        subs = list(self.submissions.values())
        kept = [(sub.row, sub.result) for sub in subs if sub.row is not None and sub.result is not None]  # all, here
        results = [result for _, result in kept]
        ledger = apply_ledger([row for row, _ in kept], _check_maxima(results), workflow.ledger)
        graded = summarize(
            str(self.folder),
            ledger.submissions,
            results,
            ignored=self.found.ignored,
            seconds=seconds,
            explanations=self.assignment.mistakes,
            regrade=tuple(sub.change for sub in subs if sub.change is not None),
            similarity_note=SIMILARITY_PENDING if workflow.similarity else "turned off (--no-similarity)",
            warnings=ledger.warnings,
        )
        if workflow.compare is not None:
            graded = compared(graded, workflow.compare, workflow.compare_name)
        written = _write_class_outputs(self.out_dir, graded, workflow)
        if not workflow.similarity:
            return written
        similarity, note = _similarity(self.out_dir, {sub.entry.name: sub.entry for sub in subs}, workflow)
        return _write_class_outputs(self.out_dir, dataclasses.replace(graded, similarity=similarity, similarity_note=note),
                                    workflow)


@contextlib.contextmanager
def _only_run_in(out_dir: Path) -> Iterator[None]:
    """Hold the output folder's lock for the run: a second run writing there at the same time is refused
    (a killed run's lock goes with its process)."""
    try:
        fd = os.open(out_dir / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise BatchError(f"cannot lock the output folder {out_dir}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"another class run is writing to {out_dir}; wait until it ends, or give another --out") from None
        yield
    finally:
        os.close(fd)


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
    from grader.render.similarity_page import render_similarity_html
    from grader.similarity.collect import class_similarity
    from grader.similarity.detect import SimilarityUnavailable

    try:
        found = class_similarity({n: e.sources for n, e in entries.items()}, known=workflow.known, template=workflow.template)
    except SimilarityUnavailable as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - the grades are written already; an optional report must not undo that
        return None, (f"the similarity report failed ({type(exc).__name__}: {shown(str(exc))}); the grades are not "
                      "affected, please report it")
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
            raise BatchError(f"--out {out_dir} is inside the submission {printable_name(entry.path.name)}; "
                             "give a folder outside it")


def _task(entry: Entry, assignment: Assignment, limits: Limits, ship: bool,
          policy: Policy) -> tuple[Task, str | None]:
    """The task for `entry` and its content digest (None if it could not be read: it is graded every
    time)."""
    base = Task(entry.name, entry.kind, str(entry.path), assignment=assignment, limits=limits, policy=policy.value,
                files=tuple((name, str(path)) for name, path in entry.files))
    try:
        content = content_digest(entry.path, entry.files)
    except Refused as exc:  # beyond a submission's bounds: the sandbox would refuse it in the same words
        return Task(**{**vars(base), "refused": str(exc)}), None
    except OSError as exc:
        refused = f"{printable_name(entry.path.name)} could not be read ({exc.strerror or exc})"
        return Task(**{**vars(base), "refused": refused}), None
    if not ship:
        return base, content
    try:
        # A cluster's workers may not see this disk: the task carries the submission.
        if entry.kind == ZIP:
            if entry.path.stat().st_size > MAX_ARCHIVE_BYTES:
                raise BrokenSubmission(f"the zip file is more than the {MAX_ARCHIVE_BYTES // 1024**2} MiB allowed")
            payload = entry.path.read_bytes()
        elif entry.kind == FILES:
            payload = pack_files(entry.files)
        else:
            payload = pack_folder(entry.path)
    except (BrokenSubmission, Refused) as exc:
        return Task(**{**vars(base), "refused": str(exc)}), content
    except OSError as exc:  # as a worker's own reading of it would be (task.run_task): this submission's result
        return Task(**{**vars(base), "refused": f"it could not be read ({exc.strerror or exc})"}), content
    return Task(**{**vars(base), "payload": payload}), content


def _write_class_outputs(out_dir: Path, result: ClassResult, workflow: ClassWorkflow) -> ClassResult:
    """Write the class files; return `result` with what the LMS exports had to leave out among its warnings."""
    sources = {s.student.source for s in result.submissions}
    canvas = render_canvas_csv(result, assignment=workflow.canvas_assignment, gradebook=workflow.canvas_gradebook)
    moodle = render_moodle_csv(result, worksheet=workflow.moodle_worksheet)
    warnings = list(result.warnings)
    if workflow.canvas_gradebook is not None or any(lms.CANVAS in source for source in sources):
        warnings += [f"canvas.csv: {w}" for w in canvas.left_out]
    if workflow.moodle_worksheet is not None or moodle_download(result):
        warnings += [f"moodle.csv: {w}" for w in moodle.notes + moodle.left_out]
    result = dataclasses.replace(result, warnings=tuple(warnings))
    try:
        write_atomically(out_dir / GRADES, render_grades_csv(result, worksheet=workflow.moodle_worksheet))
        write_atomically(out_dir / CANVAS, canvas.text)
        write_atomically(out_dir / MOODLE, moodle.text)
        write_atomically(out_dir / SUMMARY, json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        write_atomically(out_dir / INDEX, render_class_html(result))
    except OutputError as exc:
        raise BatchError(str(exc)) from None
    return result
