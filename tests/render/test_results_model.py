"""The results model survives its (de)serialisation exactly: what class grading stores is what it reads back."""

import dataclasses
import enum
import json
import types
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.results import (
    CheckResult,
    ClassResult,
    ClassSubmission,
    FailureKind,
    Problem,
    Status,
    SubmissionResult,
    Visibility,
)

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # JSON-encodable text
SCALARS = {
    str: texts,
    int: st.integers(0, 10**6),
    float: st.floats(allow_nan=False, allow_infinity=False),
    bool: st.booleans(),
}


def values(kind) -> st.SearchStrategy:
    """Values of an annotated type of the results model, nested dataclasses included: a field added to the model
    is covered by the round trip without touching this test."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind in SCALARS:
        return SCALARS[kind]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return st.sampled_from(kind)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return st.builds(kind, **{f.name: values(hints[f.name]) for f in dataclasses.fields(kind) if f.init})
    if origin is tuple:
        return st.lists(values(args[0]), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(values(args[0]), values(args[1]), max_size=3)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(st.none() if a is type(None) else values(a) for a in args))
    raise TypeError(f"no strategy for {kind!r}")


submission_results = values(SubmissionResult)
class_results = values(ClassResult)
roundtrips = settings(max_examples=25, derandomize=True, database=None, deadline=None,
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
    # A row the grader failed on holds 0 for its scores, which is no grade: read back, it holds 0 again.
    ungraded = tuple(s if s.has_grade else dataclasses.replace(
        s, score=0.0, final_score=None, check_scores=dict.fromkeys(s.check_scores, 0.0)) for s in result.submissions)
    assert ClassResult.from_dict(json.loads(json.dumps(result.to_dict()))) == dataclasses.replace(result,
                                                                                                 submissions=ungraded)


def test_a_class_row_without_a_grade_has_null_scores_and_only_such_a_row_may():
    failed = ClassSubmission("bob", "bob", 0.0, 10.0, {"forward: shapes": 0.0}, 0.0, problem=Problem.GRADER_FAILED,
                             final_score=2.0)
    graded = ClassSubmission("ann", "ann", 7.0, 10.0, {"forward: shapes": 3.0}, 1.0)
    result = ClassResult("class", (failed, graded), (), (), 10.0, 7.0, 7.0, ("bob",), (), 2, 0)
    rows = json.loads(json.dumps(result.to_dict()))["submissions"]
    assert [(r["score"], r["final_score"], r["check_scores"]) for r in rows] == [
        (None, None, {"forward: shapes": None}), (7.0, None, {"forward: shapes": 3.0})]
    read = ClassResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert read.submissions == (dataclasses.replace(failed, final_score=None), graded)
    rows[1]["score"] = None
    with pytest.raises(TypeError):
        ClassResult.from_dict({**result.to_dict(), "submissions": rows})


def test_enums_are_stored_as_their_values_and_status_follows_the_score():
    check = CheckResult("f: g", "f", 1.0, 2.0, Visibility.AFTER_DUE_DATE, stopped_by=FailureKind.timeout)
    data = json.loads(json.dumps(SubmissionResult("a", (check,), 1.0, 2.0, "t", "d", 0.0, "v", "s").to_dict()))
    assert data["checks"][0]["visibility"] == "after_due_date" and data["checks"][0]["stopped_by"] == "timeout"
    assert check.status is Status.FAILED and CheckResult("f: g", "f", 2.0, 2.0, Visibility.VISIBLE).status is Status.PASSED
