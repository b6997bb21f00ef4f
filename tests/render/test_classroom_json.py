"""The result GitHub Classroom's autograding reporter reads: points per check, hidden checks unnamed."""

import dataclasses

from grader.render.classroom import OTHER_CHECKS, runner_result
from grader.results import FailureKind, LoadFailure


def test_the_tests_scores_add_up_to_the_result_and_failed_checks_carry_their_feedback(result):
    document = runner_result(result)
    assert document["version"] == 1 and document["status"] == "fail"
    assert document["max_score"] == result.max_score
    assert sum(t["score"] for t in document["tests"]) == result.score  # what the reporter sends Classroom
    failed = next(t for t in document["tests"] if t["name"] == "compute_gradients: dW matches reference")
    assert failed["status"] == "fail" and failed["score"] == 0
    assert "Smallest failing case: K=2, m=1, tau=2." in failed["message"]
    assert "Hint: dW uses h_t where it should use h_{t-1}." in failed["message"]
    passed = next(t for t in document["tests"] if t["name"] == "forward: loss matches reference")
    assert passed["status"] == "pass" and passed["message"] == ""


def test_checks_that_are_not_visible_are_one_unnamed_test_without_feedback(result):
    hidden = dataclasses.replace(result.checks[3], score=0.0, feedback="secret case: K=7", reason="secret")
    document = runner_result(dataclasses.replace(result, checks=(*result.checks[:3], hidden, result.checks[4])))
    names = [t["name"] for t in document["tests"]]
    assert "compute_gradients: db matches reference" not in names
    assert "train: smooth loss matches reference" not in names
    (other,) = [t for t in document["tests"] if t["name"] == OTHER_CHECKS]
    assert other["score"] == 2.0 and other["status"] == "fail" and other["message"] == ""
    assert "secret" not in str(document)


def test_a_submission_that_does_not_load_says_so_in_an_erroring_test(make_result):
    failure = LoadFailure(FailureKind.import_error, "SyntaxError: invalid syntax (rnn.py, line 3)")
    document = runner_result(make_result(load_failure=failure))
    assert document["tests"][0]["status"] == "error"
    assert "SyntaxError: invalid syntax (rnn.py, line 3)" in document["tests"][0]["message"]


def test_full_points_is_a_passing_runner(make_result, result):
    full = tuple(dataclasses.replace(c, score=c.max_score) for c in result.checks)
    assert runner_result(make_result(checks=full, score=9.0))["status"] == "pass"
