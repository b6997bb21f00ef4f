import dataclasses
import json
import math
from pathlib import Path

import jsonschema
import pytest

from grader.render.gradescope import (
    render_gradescope_json,
    results_owner,
    to_gradescope,
)
from grader.results import (
    CapturedOutput,
    CheckResult,
    GradientRow,
    Sample,
    SubmissionResult,
    Visibility,
    student_copy,
)

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


def _validated(result: SubmissionResult) -> dict:
    document = json.loads(render_gradescope_json(result))
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return document


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"checks": (), "score": 0.0, "load_failure": "SyntaxError: invalid syntax (rnn.py, line 3)", "diagnostics": None},
        {"self_check": True, "hidden_checks_not_run": 7},
        {"gradients": {"rows": (GradientRow("W", math.nan, math.inf),)}},
    ],
    ids=["typical", "load-failure", "self-check", "non-finite"],
)
def test_results_json_follows_the_gradescope_format(make_result, overrides):
    _validated(make_result(**overrides))


def test_every_check_is_a_numbered_test_with_its_feedback(result):
    tests = _validated(result)["tests"]
    assert [t["name"] for t in tests] == [c.name for c in result.checks]
    assert [t["number"] for t in tests] == ["1.1", "2.1", "3.1", "3.2", "4.1"]
    failed = tests[2]
    assert failed["status"] == "failed" and failed["score"] == 0.0 and failed["max_score"] == 3.0
    assert failed["output"].startswith("dW differs from the reference")
    assert "Expected dW = [[0.12]]" in failed["output"]
    assert failed["output"].endswith("Hint: dW uses h_t where it should use h_{t-1}.")
    assert failed["tags"] == ["compute_gradients", "timeout"]
    assert [t["visibility"] for t in tests] == ["visible", "visible", "visible", "hidden", "after_due_date"]


def test_top_level_score_is_the_results_not_a_sum(result):
    document = _validated(dataclasses.replace(result, score=5.5))
    assert document["score"] == 5.5
    assert document["execution_time"] == result.execution_time
    assert document["stdout_visibility"] == "hidden"


def test_extra_data_carries_the_students_copy_of_the_result(result):
    extra = _validated(result)["extra_data"]
    assert extra["isolation_tier"] == "bubblewrap"
    assert extra["spec_digest"] == result.spec_digest
    assert extra["grader_version"] == result.grader_version
    assert extra["timings"]["train"]["calls"] == 5
    assert SubmissionResult.from_dict(extra["result"]) == student_copy(result)


def test_results_json_holds_nothing_of_the_hidden_checks_but_their_points(make_result):
    """Gradescope hands earlier results.json back to later uploads: no hidden feedback, case or output."""
    secret_case = "Smallest failing case: K=4, m=3, tau=5 with h0 = [[0.271828]]"
    hidden = CheckResult("compute_gradients: gradients are not clipped", "compute_gradients", 0.0, 2.0,
                         Visibility.HIDDEN, reason="dW was clipped", feedback=f"dW was clipped.\n{secret_case}",
                         hint="clip in train, not in compute_gradients")
    after = CheckResult("synthesize: draws from the given rng", "synthesize", 0.0, 2.0, Visibility.AFTER_DUE_DATE,
                        reason="used np.random", feedback="Expected [3, 1, 4] from seed 1729, got [2, 7, 1]")
    result = make_result(checks=(*make_result().checks, hidden, after),
                         hidden_output=CapturedOutput(stdout="printed while hidden checks ran: h0=0.271828"))
    document = _validated(result)
    text = json.dumps(document)
    for leak in ("0.271828", "K=4, m=3, tau=5", "clip in train", "seed 1729", "printed while hidden"):
        assert leak not in text
    by_name = {t["name"]: t for t in document["tests"]}
    assert by_name[hidden.name]["score"] == 0.0 and by_name[hidden.name]["max_score"] == 2.0
    assert by_name[hidden.name]["output"] == by_name[after.name]["output"] == ""
    assert by_name["compute_gradients: dW matches reference"]["output"].startswith("dW differs")


def test_an_upload_with_nothing_to_check_is_one_message_not_one_per_check(make_result):
    document = _validated(make_result(load_failure="The submission could not be graded: the upload is empty."))
    assert document["tests"] == [] and document["score"] == 6.0
    assert document["output"].count("the upload is empty") == 1


def test_the_summary_is_html_gradescope_renders_with_the_reports_essentials(result):
    document = _validated(result)
    assert document["output_format"] == "html" and document["test_output_format"] == "text"
    html = document["output"]
    assert "<td><code>compute_gradients</code></td><td>0 / 3</td><td>0 of 1</td>" in html  # visible checks only
    assert "<td>W</td><td>9.30e-01</td><td>9.10e-01</td>" in html and "<td>V</td><td>5.00e-16</td><td>not computed</td>" in html
    assert "<tr><td>after the last update</td>" in html and "K=5, m=6, tau=4 (seed 2424)" in html
    assert "sample after 1500: the old door opened" in html and "Yusuf drifted past" in html


def test_the_summary_escapes_what_the_submission_wrote(make_result, hostile):
    html = _validated(make_result(banner=hostile, training={"samples": (Sample(1, hostile),)}))["output"]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_non_finite_numbers_become_null(make_result):
    document = _validated(make_result(gradients={"rows": (GradientRow("W", math.nan, math.inf),)}))
    assert document["extra_data"]["result"]["diagnostics"]["gradients"]["rows"] == [
        {"param": "W", "vs_reference": None, "vs_numerical": None}
    ]


def test_summary_output_names_load_failure_and_self_check(make_result):
    text = _validated(
        make_result(load_failure="ImportError: no module named torch", self_check=True, hidden_checks_not_run=4)
    )["output"]
    assert "ImportError: no module named torch" in text
    assert "4 hidden checks not run" in text


def test_hostile_text_is_kept_verbatim_as_json_string(make_result, hostile):
    document = _validated(make_result(name=hostile))
    assert results_owner(document) == hostile


def test_unknown_visibility_is_refused(result):
    with pytest.raises(ValueError, match="not one of"):
        to_gradescope(result, visibility="students")


def test_owner_is_none_for_foreign_documents():
    assert results_owner({"score": 3}) is None
    assert results_owner([1, 2]) is None
    assert results_owner({"extra_data": {"generator": "someone-else", "submission": "alice"}}) is None


def test_the_summary_students_read_has_the_visible_checks_only_and_no_isolation_details(result):
    document = to_gradescope(result)
    assert document["score"] == 6.0  # Gradescope's grade: every check
    assert "Score on the visible checks: 3 / 6</h2>" in document["output"]
    assert "6 / 9" not in document["output"] and "2 more checks count towards your grade" in document["output"]
    assert "bubblewrap" not in document["output"] and "sandbox" not in document["output"]
    assert document["extra_data"]["isolation_tier"] == "bubblewrap"  # instructors read extra_data
