"""How a class's named mistakes and unexplained failures are counted from the results (no sandbox)."""

import pytest

from grader.batch.errors import BatchError
from grader.batch.stats import compared, row, summarize
from grader.batch.workflow import read_summary
from grader.results import (
    NOT_WRITTEN,
    CheckResult,
    Explanation,
    SubmissionResult,
    Visibility,
)

TITLE = Explanation("no BPTT", "a", "b", "c")


def _check(name, function, cause="", reason="wrong (smallest failing case: K=3)", passed=False, **more):
    return CheckResult(name, function, 1.0 if passed else 0.0, 1.0, Visibility.VISIBLE,
                       reason="" if passed else reason, cause=cause, **more)


def _result(name, *checks):
    return SubmissionResult(name, tuple(checks), sum(c.score for c in checks), len(checks), "bubblewrap", "", 1.0,
                            "0", "spec")


def _class(*results):
    rows = [row(r, source=r.name, reused=False, report=f"{r.name}/report.html") for r in results]
    return summarize("class", rows, results, explanations={"compute_gradients.no_bptt": TITLE})


def test_a_mistake_counts_each_student_once_with_the_shortest_failing_case():
    result = _class(
        _result("ann", _check("g1", "compute_gradients", "compute_gradients.no_bptt", "long reason (smallest failing case: K=30)"),
                _check("g2", "compute_gradients", "compute_gradients.no_bptt", "short (smallest failing case: K=3)")),
        _result("ben", _check("g1", "compute_gradients", "compute_gradients.no_bptt")),
        _result("cal", _check("s1", "synthesize", "synthesize.argmax")),
        _result("dee", _check("g1", "compute_gradients", passed=True)),
    )
    first, second = result.mistakes
    assert (first.id, first.title, first.students, first.share) == ("compute_gradients.no_bptt", "no BPTT", ("ann", "ben"), 0.5)
    assert first.example == "short (smallest failing case: K=3)" and first.example_check == "g2"
    assert (second.id, second.title, second.students) == ("synthesize.argmax", "synthesize.argmax", ("cal",))
    assert [s.mistakes for s in result.submissions] == [("compute_gradients.no_bptt",), ("compute_gradients.no_bptt",),
                                                       ("synthesize.argmax",), ()]


def test_a_function_whose_failures_name_no_mistake_is_listed_to_look_at_by_hand():
    result = _class(
        _result("ann", _check("f1", "forward"), _check("g1", "compute_gradients", "compute_gradients.no_bptt"),
                _check("g2", "compute_gradients")),  # g2 unnamed, but g1 explains compute_gradients
        _result("ben", _check("f1", "forward"), _check("t1", "train", reason=NOT_WRITTEN.format("train"))),
        _result("cal", _check("f1", "forward", carried_from="clip_gradients"),
                _check("t1", "train", reason="not run: train is missing")),
    )
    assert [(u.function, u.students) for u in result.unexplained] == [("forward", ("ann", "ben"))]


def test_compare_gives_each_mistake_its_earlier_share_and_lists_the_ones_gone():
    now = _class(_result("ann", _check("g1", "compute_gradients", "compute_gradients.no_bptt")),
                 _result("ben", _check("g1", "compute_gradients", passed=True)))
    before = _class(_result("x", _check("s1", "synthesize", "synthesize.argmax")),
                    _result("y", _check("g1", "compute_gradients", "compute_gradients.no_bptt")),
                    _result("z", _check("g1", "compute_gradients", passed=True)),
                    _result("w", _check("g1", "compute_gradients", passed=True)))
    both = compared(now, before, "old/summary.json")
    assert [(m.id, m.share, m.share_before) for m in both.mistakes] == [("compute_gradients.no_bptt", 0.5, 0.25)]
    assert [m.id for m in both.mistakes_gone] == ["synthesize.argmax"] and both.compared_with == "old/summary.json"


def test_compare_refuses_a_file_that_is_not_a_class_summary(tmp_path):
    (tmp_path / "results.json").write_text('{"name": "ann", "checks": []}')
    (tmp_path / "broken.json").write_text("{")
    for name, words in (("results.json", "not a summary.json with mistakes"), ("broken.json", "not a readable"),
                        ("absent.json", "no such file")):
        with pytest.raises(BatchError, match=words):
            read_summary(tmp_path / name)
