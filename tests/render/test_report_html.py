"""report.html, parsed with the standard library: its sections, its self-containment, its escaping."""

import dataclasses
from html.parser import HTMLParser

from grader.render.html import REFERENCE_COLOR, SUBMISSION_COLOR, render_html, report_owner
from grader.results import CapturedOutput, Sample

SECTIONS = {"score", "checks", "gradients", "training", "samples", "passage", "output", "timings"}


class Page(HTMLParser):
    """Tags, ids, attributes and the visible text of a page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if "id" in a}

    @property
    def visible(self) -> str:
        return "".join(self.text)

    def all(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


def test_report_has_every_section(result):
    page = Page(render_html(result))
    assert SECTIONS <= page.ids
    assert "self-check" not in page.ids
    assert SECTIONS | {"isolation", "instructor-copy"} <= Page(render_html(result, instructor=True)).ids


def test_the_students_copy_shows_the_visible_checks_only_and_nothing_of_the_isolation(make_result):
    result = make_result(hidden_output=CapturedOutput(stdout="HIDDEN-CASE K=3 m=2", stderr="HIDDEN-ERR"))
    page = Page(render_html(result))
    assert "db matches reference" not in page.visible and "smooth loss matches reference" not in page.visible
    assert "3 / 6" in page.visible and "6 / 9" not in page.visible  # the visible points only
    assert "2 more checks count towards your grade" in page.visible
    assert "HIDDEN" not in page.visible and "bubblewrap" not in page.visible and "isolation" not in page.ids
    instructor = Page(render_html(result, instructor=True)).visible
    assert "db matches reference" in instructor and "6 / 9" in instructor
    assert "HIDDEN-CASE K=3 m=2" in instructor and "HIDDEN-ERR" in instructor and "bubblewrap" in instructor


def test_report_is_self_contained(result):
    page = Page(render_html(result))
    assert not page.all("script") and not page.all("link") and not page.all("img") and not page.all("iframe")
    assert all("src" not in attrs for _, attrs in page.tags)
    assert all(not attrs.get("href", "").startswith(("http", "//")) for _, attrs in page.tags)
    assert len(page.all("style")) == 1


def test_scores_per_function_and_check_with_feedback(result):
    page = Page(render_html(result, instructor=True))
    text = page.visible
    assert "6 / 9" in text
    assert "compute_gradients" in text and "1 / 4" in text  # 0/3 + 1/1
    assert "dW differs from the reference by up to 0.41" in text
    assert "Expected dW = [[0.12]]" in text
    assert "Hint: dW uses h_t where it should use h_{t-1}." in text


def test_gradient_table_rows(result):
    text = Page(render_html(result)).visible
    assert "9.30e-01" in text and "3.00e-10" in text and "not computed" in text
    assert "K=5, m=6, tau=4" in text


def test_loss_plot_is_inline_svg_with_both_curves_and_marks(result):
    page = Page(render_html(result))
    assert len(page.all("svg")) == 1
    strokes = [a.get("stroke") for a in page.all("polyline")]
    assert strokes == [SUBMISSION_COLOR, REFERENCE_COLOR]
    dashed = [a for a in page.all("line") if a.get("stroke-dasharray")]
    # every wrap and restart is a vertical line, plus one legend entry for each kind
    run = result.diagnostics.training
    assert len(dashed) == len(run.wrap_updates) + len(run.restart_updates) + 2


def test_samples_and_passage_and_timings(result):
    text = Page(render_html(result, instructor=True)).visible
    run = result.diagnostics.training
    for sample in run.samples:
        assert f"after update {sample.update}" in text and sample.text in text
    assert run.passage in text
    assert "5 calls of" in text and "a fresh AdaGrad state" in text
    assert "2.100 s" in text and "bubblewrap" in text


def test_self_check_banner(make_result):
    page = Page(render_html(make_result(self_check=True, hidden_checks_not_run=12)))
    assert "self-check" in page.ids
    assert "self-check: public checks only; 12 hidden checks not run" in page.visible


def test_everything_from_the_submission_is_escaped(make_result, hostile, result):
    failing = dataclasses.replace(result.checks[2], reason=hostile, feedback=hostile, hint=hostile)
    html = render_html(
        make_result(
            name=hostile,
            checks=(failing,),
            load_failure=hostile,
            output=CapturedOutput(stdout=hostile, stderr=hostile),
            gradients={"failure": hostile},
            isolation_description=hostile,
            training={"text_name": hostile, "failure": hostile, "samples": (Sample(1, hostile),), "passage": hostile},
        )
    )
    page = Page(html)
    assert not page.all("script")
    assert "<script>" not in html
    assert page.visible.count(hostile) >= 10


def test_report_names_its_submission_for_outputs(make_result, hostile):
    assert report_owner(render_html(make_result(name="bob"))[:4096]) == "bob"
    assert report_owner(render_html(make_result(name=hostile))[:4096]) == hostile
    assert report_owner("<html><head><title>mine</title></head></html>") is None


def test_missing_diagnostics_are_said_plainly(make_result):
    text = Page(render_html(make_result(gradients={"rows": (), "failure": "compute_gradients failed: boom"}))).visible
    assert "No gradient table." in text and "compute_gradients failed: boom" in text
    text = Page(render_html(make_result(diagnostics=None))).visible
    assert "No gradient table." in text and "No training run was made." in text


def test_failed_training_run_shows_why_and_what_it_has(make_result):
    run = dict(submission_smooth_loss=(100.0, 99.0), samples=(), passage="", failure="train failed on updates 301-600")
    page = Page(render_html(make_result(training=run)))
    assert "train failed on updates 301-600" in page.visible
    assert len(page.all("polyline")) == 2


def test_long_output_is_cut(make_result):
    page = Page(render_html(make_result(output=CapturedOutput(stdout="x" * 50_000, truncated=True))))
    assert "30000 more characters not shown" in page.visible
    assert "The grader kept only the start of your output" in page.visible


def test_no_checks_at_all(make_result):
    text = Page(render_html(make_result(checks=(), score=0.0, max_score=0.0, load_failure="SyntaxError"))).visible
    assert "No checks were run." in text and "No function could be checked" in text


def test_a_reason_every_failed_check_gives_is_shown_once(make_result, result):
    """A submission that could not be loaded showed 'not run: rnn.py could not be loaded' 64 times: as the reason
    and the details of each of its checks."""
    reason = "not run: rnn.py could not be loaded (the message at the top says why)"
    checks = tuple(dataclasses.replace(c, reason=reason, feedback=reason, score=0) for c in result.checks)
    page = render_html(make_result(checks=checks, load_failure="SyntaxError: too many nested parentheses"),
                       instructor=True)
    assert page.count("could not be loaded") == 1 and f"Each failed check: {reason}" in page
