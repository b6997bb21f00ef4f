"""The one results model. Grading fills it in; every renderer (terminal, JSON, HTML, CSV) only reads it.

Frozen dataclasses with enums for what has a fixed set of values (visibility, status, the sandbox's
failure kinds, a class submission's problem); the report's diagnostics nest in ``Diagnostics``. cattrs
turns the model into plain JSON-ready data and back (``to_dict`` / ``from_dict``), so class grading can
reuse finished results without regrading.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

import cattrs


class Visibility(enum.StrEnum):
    """Gradescope's visibility of a check."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    AFTER_DUE_DATE = "after_due_date"
    AFTER_PUBLISHED = "after_published"


# The visibility of the checks a student sees as soon as the grade does (and the student kit ships); the others
# are hidden from students, in a sandbox of their own (grader.grading).
PUBLIC = Visibility.VISIBLE


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class SourceKind(enum.StrEnum):
    """What the graded file was: a Python module or a Jupyter notebook."""

    MODULE = "module"
    NOTEBOOK = "notebook"


class FailureKind(enum.StrEnum):
    """Why the sandbox could not complete an import or a call."""

    import_error = "import_error"
    missing_function = "missing_function"
    exception = "exception"
    timeout = "timeout"  # it used its time limit in CPU time (or on the clock, where CPU time is not measured)
    stalled = "stalled"  # the clock's cap stopped it while other load left it too little CPU (not while it slept)
    memory = "memory"
    signal = "signal"
    exited = "exited"
    malformed = "malformed"
    budget = "budget"
    refused = "refused"
    grader = "grader"  # the grader itself failed (its exception, its process lost): not the submission's doing


# A check's reason when the function it tests is still the template's stub; outputs say it once per function.
NOT_WRITTEN = "{} is not written yet (it raises NotImplementedError)"


@dataclass(frozen=True)
class Explanation:
    """A named mistake as the course's mistakes.yaml explains it (grader.mistakes)."""

    title: str  # a few words: "no backpropagation through time"
    contract: str  # what the contract asks, formulas as text
    instead: str  # what the mistake computes instead
    find: str  # how to find it in one's own code


@dataclass(frozen=True)
class CheckResult:
    """One named check, e.g. ``compute_gradients: dW matches reference``."""

    name: str
    function: str  # the contract function the check tests
    score: float
    max_score: float
    visibility: Visibility
    reason: str = ""  # one line: why it failed (empty when passed)
    feedback: str = ""  # the full text a student reads: smallest failing case, expected vs got, hint
    hint: str = ""  # the likely bug, when the failure pattern shows it
    stopped_by: FailureKind | None = None  # the sandbox failure (timeout, signal, memory, ...) that stopped it
    seconds: float = 0.0
    carried_from: str = ""  # passed although it differs from the reference, by that function's fault alone
    cause: str = ""  # the id of the mistake the hint names (grader.mistakes), when it names one
    explanation: Explanation | None = None  # the course's explanation of that mistake

    @property
    def status(self) -> Status:
        return Status.PASSED if self.score >= self.max_score else Status.FAILED


@dataclass(frozen=True)
class LoadFailure:
    """rnn.py could not be imported at all (or the submission was refused before it ran)."""

    kind: FailureKind
    message: str


@dataclass(frozen=True)
class GradientRow:
    """A row of the course reports' gradient table: max relative error of one parameter's gradient."""

    param: str
    vs_reference: float | None  # against the reference's analytic gradient
    vs_numerical: float | None  # against centered differences of the submission's own forward


@dataclass(frozen=True)
class GradientTable:
    rows: tuple[GradientRow, ...]
    case: str  # the case the table was computed on, in words
    failure: str = ""  # why the table is missing or incomplete


@dataclass(frozen=True)
class Sample:
    update: int
    text: str


@dataclass(frozen=True)
class TrainingRun:
    """A training run of the submission's own code, beside the reference on the same text and params.

    The run is several train calls; both smooth-loss curves carry the smoothing on across calls instead of
    restarting it at each call's first loss (grader.diagnostics.training says why and how).
    """

    text_name: str
    n_updates: int
    m: int
    seq_length: int
    eta: float
    submission_smooth_loss: tuple[float, ...]
    reference_smooth_loss: tuple[float, ...]
    wrap_updates: tuple[int, ...]  # updates after which the text position returned to 0
    samples: tuple[Sample, ...] = ()
    passage: str = ""
    failure: str = ""  # why the run could not complete, if it did not
    restart_updates: tuple[int, ...] = ()  # updates after which a new train call (e, hprev, optimizer state reset) began
    text_chars: int = 0  # characters of the text used (a prefix of it), 0 if unknown
    optimizer: str = ""  # the course's optimizer (AdaGrad, Adam), for the words around the curves


@dataclass(frozen=True)
class StepErrors:
    """One finite-difference step's relative errors, both ways the course reports compute them."""

    step: float
    norm: float  # ||a - n|| / max(floor, ||a|| + ||n||), over the entries differenced
    max: float  # max over those entries of |a - n| / max(floor, |a| + |n|)


@dataclass(frozen=True)
class CourseGradientRow:
    """A row of the course reports' gradient check (the text's first characters, m = 100)."""

    param: str
    vs_reference_norm: float | None  # against the reference's analytic gradient, all entries
    vs_reference_max: float | None
    numerical: tuple[StepErrors, ...] = ()  # against centered differences of the submission's own forward


@dataclass(frozen=True)
class RealTextRun:
    """The course reports' figures on a real text: one continuous run of the contract's loop with the
    submission's compute_gradients, clip_gradients and adagrad_step, one call of its own train, and the
    reference's curve as the band of several exact runs (grader.diagnostics.band says why a band)."""

    text_name: str
    text_chars: int
    K: int
    m: int
    n_updates: int
    eta: float
    seq_length: int
    sigma: float
    # Each curve at the updates in curve_updates (all of them, or about STORED_POINTS for a long run; the
    # notes were made from every update), as far as the curve goes.
    curve_updates: tuple[int, ...]
    loop_smooth_loss: tuple[float, ...]  # the contract's loop driven with the submission's functions
    train_smooth_loss: tuple[float, ...]  # the submission's own train, one call
    band_lo: tuple[float, ...]
    band_hi: tuple[float, ...]
    band_center: tuple[float, ...]  # the reference from the same initial weights as the submission
    band_runs: int
    updates_done: int = 0  # how far the loop got: n_updates unless it stopped
    wrap_updates: tuple[int, ...] = ()
    samples: tuple[Sample, ...] = ()
    best_update: int = 0  # the update after which the loop's smooth loss was lowest
    best_smooth_loss: float | None = None
    passage: str = ""  # from the parameters after best_update
    notes: tuple[str, ...] = ()  # each curve judged against the band; never a score
    drift: str = ""  # why exact implementations part
    gradient_case: str = ""
    gradient_rows: tuple[CourseGradientRow, ...] = ()
    gradient_failure: str = ""
    failure: str = ""  # what could not be done, and why
    seconds: float = 0.0  # wall time of the whole real-text report
    budget_seconds: float = 0.0  # the run's own time budget


@dataclass(frozen=True)
class Diagnostics:
    """What the report shows beyond the checks (grader.diagnostics computes it; it never changes a score)."""

    gradients: GradientTable
    training: TrainingRun
    real_text: RealTextRun | None = None  # with --text: the course reports' figures on that text


@dataclass(frozen=True)
class FunctionTiming:
    calls: int
    total_seconds: float
    max_seconds: float


@dataclass(frozen=True)
class CapturedOutput:
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False


@dataclass(frozen=True)
class Intake:
    """How the upload was read: which file was graded, and what of it the grader had to leave out."""

    file: str = "rnn.py"  # the graded file, as the student named it (relative to the upload)
    kind: SourceKind = SourceKind.MODULE
    notes: tuple[str, ...] = ()  # one line each: choices made reading the upload (which file, which folder)
    skipped: tuple[str, ...] = ()  # one line each: a cell or top-level statement left out
    warning: str = ""  # the file's top-level code stopped its import, so it was graded from its definitions
    penalty: float = 0.0  # points taken off for that (grading.yaml: top_level_code_penalty)


@dataclass(frozen=True)
class SubmissionResult:
    """Everything known about one graded submission. Scores are decided once, by grader.scoring."""

    name: str
    checks: tuple[CheckResult, ...]
    score: float
    max_score: float
    isolation_tier: str
    isolation_description: str
    execution_time: float
    grader_version: str
    spec_digest: str
    load_failure: LoadFailure | None = None
    banner: str = ""  # functions that are missing or cannot be called, said once (their checks point here)
    output: CapturedOutput = field(default_factory=CapturedOutput)  # while the visible checks ran
    hidden_output: CapturedOutput = field(default_factory=CapturedOutput)  # while the others ran: instructors only
    timings: dict[str, FunctionTiming] = field(default_factory=dict)  # of the visible checks' calls
    diagnostics: Diagnostics | None = None  # None: not computed (not asked for, or nothing could be loaded)
    self_check: bool = False  # graded by the student kit: public checks only
    hidden_checks_not_run: int = 0
    intake: Intake = field(default_factory=Intake)
    # Run in a tier that does not keep the grader's files and other submissions out of reach, because the
    # instructor accepted it (--allow-weak-sandbox): every output says so.
    weak_isolation: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _converter().unstructure(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        return _converter().structure(data, cls)


def totals(checks: tuple[CheckResult, ...]) -> tuple[float, float]:
    """(points, points possible) of ``checks``: the only sum of scores there is."""
    return round(sum(c.score for c in checks), 6), round(sum(c.max_score for c in checks), 6)


def student_copy(result: SubmissionResult) -> SubmissionResult:
    """What a student may read of ``result``: the visible checks and their points, the output of the run
    that made them; no hidden check, nothing printed while hidden checks ran, no isolation details."""
    visible = tuple(c for c in result.checks if c.visibility is Visibility.VISIBLE)
    score, max_score = totals(visible)
    return dataclasses.replace(result, checks=visible, score=score, max_score=max_score, isolation_tier="",
                               isolation_description="", hidden_output=CapturedOutput())


def _converter() -> cattrs.Converter:
    """A fresh converter (no module state): dataclasses as dicts, tuples as lists, enums as their values."""
    return cattrs.Converter(unstruct_collection_overrides={tuple: list}, detailed_validation=False)


WEAK_SANDBOX = (
    "WEAK SANDBOX: submissions ran as plain processes (--allow-weak-sandbox), so they could read the reference, "
    "the grader and other students' files; scores may be forged."
)


# What every class output says of the submissions the grader itself failed on (ClassResult.grader_failed).
GRADER_FAILED_TEXT = (
    "The grader itself failed on {count} submission(s): {names}. They have no grade: none is in canvas.csv or "
    "moodle.csv, and their scores in grades.csv are blank. Run the class again to grade them (a plain rerun and "
    "--retry-failed both do); if the grader fails again, please report it with the failure their line names."
)


# --- a whole class (grader.batch fills these in; the class overview, gradebook and summary.json read them) ---

class Problem(enum.StrEnum):
    """What kept a submission of a class from being graded normally."""

    NONE = ""
    NOT_GRADED = "could not be graded"
    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    # The grader itself failed on it: no grade exists, so none is exported (not even a 0) and a rerun grades it again.
    GRADER_FAILED = "the grader failed"


@dataclass(frozen=True)
class StudentIdentity:
    """Who handed a submission in, as far as the LMS export's names or the mapping file tell (grader.lms.identity)."""

    name: str = ""
    student_id: str = ""  # the LMS's: Canvas user ID, Moodle participant number, Gradescope SID
    sis_id: str = ""
    email: str = ""
    source: str = ""  # where it was read: canvas, moodle, gradescope, mapping file; "" for the folder name alone
    submitted_at: str = ""  # ISO 8601 with offset, when the export or the mapping file says
    late_marked: bool = False  # the LMS marked the submission late


class AdjustmentKind(enum.StrEnum):
    OVERRIDE = "override"  # an instructor's points for one check
    LATE = "late"  # the late policy's deduction from the total


@dataclass(frozen=True)
class Adjustment:
    """A change the instructor's ledger (grader.ledger) made to the grader's score: never the raw score itself."""

    kind: AdjustmentKind
    points: float  # added to the score (negative: a deduction)
    reason: str
    check: str = ""  # the overridden check; "" for the late penalty, which applies to the total
    by: str = ""  # who decided it
    at: str = ""  # when


@dataclass(frozen=True)
class ClassSubmission:
    """One submission's line in the class outputs."""

    name: str  # also the folder its results.json and report.html are in
    source: str  # the folder or zip file in the class folder it came from
    score: float
    max_score: float
    check_scores: dict[str, float]  # check name -> score
    seconds: float  # the submission's execution_time
    problem: Problem = Problem.NONE  # NONE: the checks ran (passed or failed)
    problem_detail: str = ""  # one line: what went wrong, when problem is set
    reused: bool = False  # the result of an earlier run (same content, grader, spec and limits)
    report: str = ""  # report.html relative to the class output folder ("" if it could not be written)
    note: str = ""  # e.g. a name collision resolved, or why the outputs could not be written
    student: StudentIdentity = field(default_factory=StudentIdentity)
    final_score: float | None = None  # score after the ledger (grader.ledger); score stays the grader's raw score
    adjustments: tuple[Adjustment, ...] = ()  # the ledger's changes, overrides first, then the late penalty
    late_days: int = 0
    late_percent: float = 0.0
    sandbox: str = ""  # the isolation tier it ran in
    weak_isolation: bool = False  # that tier was a weak one (--allow-weak-sandbox)
    # The ids of the mistakes its failed checks named (hidden checks' too: the class outputs are the
    # instructor's), and the functions with a failed check that names none ("look at these by hand").
    mistakes: tuple[str, ...] = ()
    unexplained: tuple[str, ...] = ()

    @property
    def final(self) -> float:
        """The score that counts: the ledger's final score when there is one, else the grader's."""
        return self.score if self.final_score is None else self.final_score

    @property
    def has_grade(self) -> bool:
        """Whether the row holds a grade at all: not when the grader itself failed on it, whose score of 0 is no
        grade and is never exported as one."""
        return self.problem is not Problem.GRADER_FAILED


@dataclass(frozen=True)
class CheckPassRate:
    name: str
    function: str
    max_score: float
    passed: int  # submissions with full points on this check
    total: int  # submissions this check was run on

    @property
    def failure_rate(self) -> float:
        return 1.0 - self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class MistakeCount:
    """One named mistake over a class: who made it, and one smallest failing case that shows it."""

    id: str
    function: str
    title: str
    students: tuple[str, ...]  # submission names, in the class folder's order
    share: float  # of the submissions whose checks ran
    example: str = ""  # a failed check's reason naming this mistake, with its smallest failing case
    example_check: str = ""
    share_before: float | None = None  # in the run given with --compare (None: not compared, or not seen there)


@dataclass(frozen=True)
class Unexplained:
    """The submissions whose failed checks of ``function`` name no known mistake: to look at by hand."""

    function: str
    students: tuple[str, ...]


@dataclass(frozen=True)
class ScoreBin:
    low: float
    high: float  # exclusive, except for the last bin, which includes the maximum
    count: int


@dataclass(frozen=True)
class CheckChange:
    name: str
    before: float | None  # None: the check did not exist
    after: float | None


@dataclass(frozen=True)
class RegradeChange:
    """A submission whose grade a regrade changes (grader.batch.regrade): who, and by how much."""

    name: str
    before: float
    after: float
    checks: tuple[CheckChange, ...]
    problem_before: Problem = Problem.NONE
    problem_after: Problem = Problem.NONE
    applied: bool = False  # False: the new result is held back until the instructor accepts it
    cause: str = ""  # why it was graded again, in words


@dataclass(frozen=True)
class SimilaritySummary:
    """What index.html says about the similarity report (the page itself is written beside it)."""

    page: str  # similarity.html, relative to the class output folder
    flagged: int
    pairs_compared: int
    threshold: float
    known_solutions: int = 0


@dataclass(frozen=True)
class ClassResult:
    """A graded class. Aggregates are computed once, by grader.batch.stats, and only read by renderers."""

    folder: str
    submissions: tuple[ClassSubmission, ...]  # in the class folder's order
    checks: tuple[CheckPassRate, ...]  # the most failed first
    histogram: tuple[ScoreBin, ...]
    max_score: float
    mean_score: float
    median_score: float
    troubled: tuple[str, ...]  # names of the submissions with a problem, in the class folder's order
    slowest: tuple[str, ...]  # names, the slowest first
    graded_now: int  # graded in this run
    reused: int  # taken over from an earlier run
    ignored: tuple[str, ...] = ()  # files in the class folder that are neither folders nor zip files
    grader_version: str = ""
    spec_digest: str = ""
    seconds: float = 0.0  # wall time of this run
    ungradable: tuple[str, ...] = ()  # could not be graded at all (refused, or not importable): kept out of the pass rates
    mean_final: float = 0.0  # of the final scores (after the ledger), over every submission
    regrade: tuple[RegradeChange, ...] = ()  # the submissions whose grade this run's regrading changes
    similarity: SimilaritySummary | None = None
    similarity_note: str = ""  # why there is no similarity report, when there is none
    warnings: tuple[str, ...] = ()  # ledger entries not applied, submissions left out of an LMS file, ...
    weak_isolation: tuple[str, ...] = ()  # names of the submissions graded in a weak sandbox
    mistakes: tuple[MistakeCount, ...] = ()  # the most frequent first
    unexplained: tuple[Unexplained, ...] = ()  # in contract order
    compared_with: str = ""  # the summary.json given with --compare
    mistakes_gone: tuple[MistakeCount, ...] = ()  # made in that run, not in this one (share: that run's)
    # The submissions the grader itself failed on: they have no grade (kept out of the scores' numbers and of the
    # LMS files) until a rerun grades them; the class run's exit status says so (ExitCode.GRADER_FAILED).
    grader_failed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """As summary.json holds it: a row without a grade has null scores (grades.csv's blank cells), not the 0
        it holds here, which a reader adding the scores up would count as a grade."""
        data = _converter().unstructure(self)
        for submission, entry in zip(self.submissions, data["submissions"]):
            if not submission.has_grade:
                entry.update(score=None, final_score=None, check_scores=dict.fromkeys(entry["check_scores"]))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassResult:
        """A summary.json read back (--compare): a row without a grade holds 0 again, which its problem says is none;
        a null score on any other row is refused."""
        return _converter().structure({**data, "submissions": [_no_grade_as_zero(e) for e in data["submissions"]]}, cls)


def _no_grade_as_zero(entry: dict[str, Any]) -> dict[str, Any]:
    if entry["problem"] != Problem.GRADER_FAILED.value:
        return entry
    return {**entry, "score": entry["score"] or 0.0,
            "check_scores": {name: score or 0.0 for name, score in entry["check_scores"].items()}}
