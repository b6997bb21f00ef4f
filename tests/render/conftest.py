"""Result objects built directly, so renderer tests need neither a sandbox nor a submission.

The factories are fixtures (not imports) so that this folder needs no __init__.py.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from grader.results import (
    CapturedOutput,
    CheckResult,
    Diagnostics,
    FailureKind,
    FunctionTiming,
    GradientRow,
    GradientTable,
    LoadFailure,
    Sample,
    SubmissionResult,
    TrainingRun,
    Visibility,
)

HOSTILE = '<script>alert("pwned")</script>'


def _curve(start: float, end: float, n: int, restart_every: int) -> tuple[float, ...]:
    return tuple(end + (start - end) * math.exp(-(i % restart_every) / 120 - i / 700) for i in range(n))


def _make_training(**overrides) -> TrainingRun:
    run = TrainingRun(
        text_name="prose",
        text_chars=3000,
        n_updates=1500,
        m=32,
        seq_length=25,
        eta=0.1,
        submission_smooth_loss=_curve(106.0, 40.0, 1500, 300),
        reference_smooth_loss=_curve(106.0, 38.0, 1500, 300),
        wrap_updates=(119, 238, 419, 538, 719, 838, 1019, 1138, 1319, 1438),
        restart_updates=(300, 600, 900, 1200),
        samples=tuple(Sample(u, f"sample after {u}: the old door opened") for u in (300, 600, 900, 1200, 1500)),
        passage="At 8 o'clock, Yusuf drifted past the small key; nobody dropped it.",
        optimizer="AdaGrad",
    )
    return dataclasses.replace(run, **overrides)


def _make_gradients(**overrides) -> GradientTable:
    table = GradientTable(
        rows=(
            GradientRow("b", 1.4e-15, 3.0e-10),
            GradientRow("c", 1.3e-16, 8.8e-11),
            GradientRow("U", 1.1e-14, 6.1e-11),
            GradientRow("W", 0.93, 0.91),
            GradientRow("V", 5.0e-16, None),
        ),
        case="K=5, m=6, tau=4 (seed 2424)",
    )
    return dataclasses.replace(table, **overrides)


def _make_result(*, gradients: dict | None = None, training: dict | None = None, load_failure: str = "",
                 **overrides) -> SubmissionResult:
    """Overrides of the result's fields; ``gradients`` and ``training`` override fields of the diagnostics,
    ``load_failure`` is the message of an import error."""
    checks = (
        CheckResult("init_params: shapes and zeros", "init_params", 1.0, 1.0, Visibility.VISIBLE),
        CheckResult("forward: loss matches reference", "forward", 2.0, 2.0, Visibility.VISIBLE),
        CheckResult(
            "compute_gradients: dW matches reference",
            "compute_gradients",
            0.0,
            3.0,
            Visibility.VISIBLE,
            reason="dW differs from the reference by up to 0.41 (relative error 0.93)",
            feedback="dW differs from the reference by up to 0.41 (relative error 0.93).\n"
            "Smallest failing case: K=2, m=1, tau=2.\nExpected dW = [[0.12]]\nGot      dW = [[0.53]]",
            hint="dW uses h_t where it should use h_{t-1}.",
            stopped_by=FailureKind.timeout,
        ),
        CheckResult("compute_gradients: db matches reference", "compute_gradients", 1.0, 1.0, Visibility.HIDDEN),
        CheckResult("train: smooth loss matches reference", "train", 2.0, 2.0, Visibility.AFTER_DUE_DATE),
    )
    result = SubmissionResult(
        name="alice",
        checks=checks,
        score=6.0,
        max_score=9.0,
        isolation_tier="bubblewrap",
        isolation_description="in a bubblewrap sandbox without network, with a 2 GiB memory limit",
        execution_time=7.25,
        grader_version="0.1.0",
        spec_digest="0123456789abcdef",
        output=CapturedOutput(stdout="training...\nloss 42\n", stderr="", truncated=False),
        timings={
            "forward": FunctionTiming(12, 0.034, 0.005),
            "train": FunctionTiming(5, 2.1, 0.6),
        },
        diagnostics=Diagnostics(_make_gradients(**(gradients or {})), _make_training(**(training or {}))),
        load_failure=LoadFailure(FailureKind.import_error, load_failure) if load_failure else None,
    )
    return dataclasses.replace(result, **overrides)


@pytest.fixture
def make_result():
    """make_result(**overrides) -> SubmissionResult: a typical graded submission, fields replaced as given."""
    return _make_result


@pytest.fixture
def result() -> SubmissionResult:
    return _make_result()


@pytest.fixture
def hostile() -> str:
    return HOSTILE
