"""The one results model. Grading fills it in; every renderer (terminal, JSON, HTML, CSV) only reads it.

Plain dataclasses, so that ``dataclasses.asdict`` gives JSON-ready data and ``SubmissionResult.from_dict``
reads it back (class grading reuses finished results without regrading).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

PASSED = "passed"
FAILED = "failed"


@dataclass(frozen=True)
class CheckResult:
    """One named check, e.g. ``compute_gradients: dW matches reference``."""

    name: str
    function: str  # the contract function the check tests
    score: float
    max_score: float
    visibility: str  # Gradescope's: visible, hidden, after_due_date, after_published
    reason: str = ""  # one line: why it failed (empty when passed)
    feedback: str = ""  # the full text a student reads: smallest failing case, expected vs got, hint
    hint: str = ""  # the likely bug, when the failure pattern shows it
    tags: tuple[str, ...] = ()  # the sandbox failure kind (timeout, signal, memory, ...) when one stopped it
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return PASSED if self.score >= self.max_score else FAILED


@dataclass(frozen=True)
class GradientRow:
    """A row of the course reports' gradient table: max relative error of one parameter's gradient."""

    param: str
    vs_reference: float | None  # against the reference's analytic gradient
    vs_numerical: float | None  # against centered differences of the submission's own forward


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
    restart_updates: tuple[int, ...] = ()  # updates after which a new train call (e, hprev, AdaGrad memory reset) began
    text_chars: int = 0  # characters of the text used (a prefix of it), 0 if unknown


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
    load_failure: str = ""  # the submission could not be imported at all
    load_failure_kind: str = ""  # the sandbox's FailureKind value for it (import_error, timeout, ...)
    output: CapturedOutput = field(default_factory=CapturedOutput)
    timings: dict[str, FunctionTiming] = field(default_factory=dict)
    gradient_table: tuple[GradientRow, ...] = ()
    gradient_case: str = ""  # the case the gradient table was computed on, in words
    gradient_failure: str = ""  # why the gradient table is missing or incomplete
    training: TrainingRun | None = None
    self_check: bool = False  # graded by the student kit: public checks only
    hidden_checks_not_run: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        training = data.get("training")
        if training is not None:
            training = TrainingRun(
                **{
                    **training,
                    "submission_smooth_loss": tuple(training["submission_smooth_loss"]),
                    "reference_smooth_loss": tuple(training["reference_smooth_loss"]),
                    "wrap_updates": tuple(training["wrap_updates"]),
                    "restart_updates": tuple(training.get("restart_updates", ())),
                    "samples": tuple(Sample(**s) for s in training["samples"]),
                }
            )
        return cls(
            **{
                **data,
                "checks": tuple(CheckResult(**{**c, "tags": tuple(c["tags"])}) for c in data["checks"]),
                "output": CapturedOutput(**data["output"]),
                "timings": {k: FunctionTiming(**v) for k, v in data["timings"].items()},
                "gradient_table": tuple(GradientRow(**r) for r in data["gradient_table"]),
                "training": training,
            }
        )


# --- a whole class (grader.batch fills these in; the class overview, gradebook and summary.json read them) ---

NOT_GRADED, TIMED_OUT, CRASHED = "could not be graded", "timed out", "crashed"


@dataclass(frozen=True)
class ClassSubmission:
    """One submission's line in the class outputs."""

    name: str  # also the folder its results.json and report.html are in
    source: str  # the folder or zip file in the class folder it came from
    score: float
    max_score: float
    check_scores: dict[str, float]  # check name -> score
    seconds: float  # the submission's execution_time
    problem: str = ""  # NOT_GRADED, TIMED_OUT, CRASHED or "" (the checks ran, passed or failed)
    problem_detail: str = ""  # one line: what went wrong, when problem is set
    reused: bool = False  # the result of an earlier run (same content, grader, spec and limits)
    report: str = ""  # report.html relative to the class output folder ("" if it could not be written)
    note: str = ""  # e.g. a name collision resolved, or why the outputs could not be written


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
class ScoreBin:
    low: float
    high: float  # exclusive, except for the last bin, which includes the maximum
    count: int


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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassResult:
        return cls(
            **{
                **data,
                "submissions": tuple(ClassSubmission(**s) for s in data["submissions"]),
                "checks": tuple(CheckPassRate(**c) for c in data["checks"]),
                "histogram": tuple(ScoreBin(**b) for b in data["histogram"]),
                "troubled": tuple(data["troubled"]),
                "slowest": tuple(data["slowest"]),
                "ignored": tuple(data["ignored"]),
            }
        )
