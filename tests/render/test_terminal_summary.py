import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from grader.render.terminal import make_console, progress, render_terminal
from grader.results import student_copy


def _plain(result, outputs=None) -> str:
    stream = io.StringIO()
    render_terminal(result, make_console(stream), outputs)
    return stream.getvalue()


def test_plain_text_when_not_a_terminal(result):
    text = _plain(result, {"report": Path("out/alice/report.html"), "results": Path("out/alice/results.json"),
                           "instructor": Path("out/alice/report-instructor.html")})
    assert "\x1b" not in text
    assert "compute_gradients" in text and "0 / 3" in text
    assert "FAIL" in text and "dW differs from the reference by up to 0.41" in text
    assert "Visible checks: 3 / 6" in text
    assert "Report: out/alice/report.html" in text and "Results: out/alice/results.json" in text
    assert "Instructor's report: out/alice/report-instructor.html" in text


def test_the_summary_states_visible_results_only(result):
    """Whoever reads the terminal (a student at a shared screen, a CI log) learns nothing of hidden checks."""
    text = _plain(result, {})
    assert "db matches reference" not in text and "smooth loss matches reference" not in text
    assert "6 / 9" not in text and "2 hidden checks were graded too" in text
    assert "bubblewrap" not in text


def test_colour_on_a_terminal(result):
    stream = io.StringIO()
    render_terminal(result, Console(file=stream, force_terminal=True, color_system="standard"))
    assert "\x1b[" in stream.getvalue()


def test_markup_from_the_submission_is_printed_literally(make_result, result):
    import dataclasses

    check = dataclasses.replace(result.checks[2], reason="KeyError: '[bold red]W[/]'")
    text = _plain(make_result(checks=(check,), load_failure="[link=http://x]boom[/link]"))
    assert "KeyError: '[bold red]W[/]'" in text
    assert "[link=http://x]boom[/link]" in text


def test_self_check_and_diagnostic_failures_are_mentioned(make_result):
    text = _plain(make_result(self_check=True, hidden_checks_not_run=3, gradients={"failure": "forward failed"}))
    assert "self-check: public checks only; 3 hidden checks not run" in text
    assert "diagnostics could not all run" in text


def test_progress_prints_nothing_off_a_terminal():
    stream = io.StringIO()
    with progress(make_console(stream), "grading alice"):
        pass
    assert stream.getvalue() == ""


def test_piped_output_has_no_escape_codes(tmp_path, result):
    """The way a student runs it: the summary printed to stdout, redirected to a file."""
    (tmp_path / "result.json").write_text(__import__("json").dumps(result.to_dict()))
    script = (
        "import json, sys; from grader.results import SubmissionResult; "
        "from grader.render.terminal import make_console, render_terminal; "
        "render_terminal(SubmissionResult.from_dict(json.load(open(sys.argv[1]))), make_console())"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    out = tmp_path / "summary.txt"
    with out.open("w") as f:
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "result.json")], stdout=f, check=True, env=env)
    text = out.read_text()
    assert "Visible checks: 3 / 6" in text and "\x1b" not in text


def test_a_reason_every_failed_check_gives_is_printed_once(make_result, result):
    """A submission that could not be loaded printed 'not run: rnn.py could not be loaded' under each of its 34
    checks."""
    import dataclasses

    reason = "not run: rnn.py could not be loaded (the message at the top says why)"
    checks = tuple(dataclasses.replace(c, reason=reason, score=0) for c in result.checks)
    text = _plain(make_result(checks=checks, load_failure="SyntaxError: too many nested parentheses"))
    assert text.count("could not be loaded") == 1 and "Each failed check: not run: rnn.py" in text
    assert text.count("FAIL") == len(student_copy(make_result(checks=checks)).checks)
