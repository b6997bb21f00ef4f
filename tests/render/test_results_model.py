"""The results model survives its (de)serialisation exactly: what class grading stores is what it reads back."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.results import (
    CapturedOutput,
    CheckPassRate,
    CheckResult,
    ClassResult,
    ClassSubmission,
    Diagnostics,
    FailureKind,
    FunctionTiming,
    GradientRow,
    GradientTable,
    LoadFailure,
    Problem,
    Sample,
    ScoreBin,
    Status,
    SubmissionResult,
    TrainingRun,
    Visibility,
)

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # JSON-encodable text
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)
counts = st.integers(0, 10**6)


def tuples(strategy, max_size=4):
    return st.lists(strategy, max_size=max_size).map(tuple)


checks = st.builds(
    CheckResult, name=texts, function=texts, score=numbers, max_score=numbers, visibility=st.sampled_from(Visibility),
    reason=texts, feedback=texts, hint=texts, stopped_by=st.none() | st.sampled_from(FailureKind), seconds=numbers,
)
training_runs = st.builds(
    TrainingRun, text_name=texts, n_updates=counts, m=counts, seq_length=counts, eta=numbers,
    submission_smooth_loss=tuples(numbers), reference_smooth_loss=tuples(numbers), wrap_updates=tuples(counts),
    samples=tuples(st.builds(Sample, update=counts, text=texts)), passage=texts, failure=texts,
    restart_updates=tuples(counts), text_chars=counts, optimizer=texts,
)
diagnostics = st.builds(
    Diagnostics,
    gradients=st.builds(GradientTable, rows=tuples(st.builds(GradientRow, param=texts, vs_reference=st.none() | numbers,
                                                             vs_numerical=st.none() | numbers)),
                        case=texts, failure=texts),
    training=training_runs,
)
submission_results = st.builds(
    SubmissionResult, name=texts, checks=tuples(checks), score=numbers, max_score=numbers, isolation_tier=texts,
    isolation_description=texts, execution_time=numbers, grader_version=texts, spec_digest=texts,
    load_failure=st.none() | st.builds(LoadFailure, kind=st.sampled_from(FailureKind), message=texts),
    output=st.builds(CapturedOutput, stdout=texts, stderr=texts, truncated=st.booleans()),
    timings=st.dictionaries(texts, st.builds(FunctionTiming, calls=counts, total_seconds=numbers, max_seconds=numbers),
                            max_size=3),
    diagnostics=st.none() | diagnostics, self_check=st.booleans(), hidden_checks_not_run=counts,
)
class_results = st.builds(
    ClassResult, folder=texts,
    submissions=tuples(st.builds(
        ClassSubmission, name=texts, source=texts, score=numbers, max_score=numbers,
        check_scores=st.dictionaries(texts, numbers, max_size=3), seconds=numbers, problem=st.sampled_from(Problem),
        problem_detail=texts, reused=st.booleans(), report=texts, note=texts)),
    checks=tuples(st.builds(CheckPassRate, name=texts, function=texts, max_score=numbers, passed=counts, total=counts)),
    histogram=tuples(st.builds(ScoreBin, low=numbers, high=numbers, count=counts)),
    max_score=numbers, mean_score=numbers, median_score=numbers, troubled=tuples(texts), slowest=tuples(texts),
    graded_now=counts, reused=counts, ignored=tuples(texts), grader_version=texts, spec_digest=texts, seconds=numbers,
)
roundtrips = settings(max_examples=60, derandomize=True, database=None, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])


@roundtrips
@given(submission_results)
def test_a_submission_result_round_trips_through_plain_data_and_json(result):
    data = result.to_dict()
    assert SubmissionResult.from_dict(data) == result
    assert SubmissionResult.from_dict(json.loads(json.dumps(data))) == result


@roundtrips
@given(class_results)
def test_a_class_result_round_trips_through_plain_data_and_json(result):
    assert ClassResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_enums_are_stored_as_their_values_and_status_follows_the_score():
    check = CheckResult("f: g", "f", 1.0, 2.0, Visibility.AFTER_DUE_DATE, stopped_by=FailureKind.timeout)
    data = json.loads(json.dumps(SubmissionResult("a", (check,), 1.0, 2.0, "t", "d", 0.0, "v", "s").to_dict()))
    assert data["checks"][0]["visibility"] == "after_due_date" and data["checks"][0]["stopped_by"] == "timeout"
    assert check.status is Status.FAILED and CheckResult("f: g", "f", 2.0, 2.0, Visibility.VISIBLE).status is Status.PASSED
