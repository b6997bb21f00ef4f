"""Gradescope gets a results.json for every upload (misnamed files, notebooks, several copies, nothing), and none
when the grader itself failed."""

import contextlib
import html
import io
import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader import autograder
from grader.errors import ExitCode
from grader.outputs import RESULTS
from grader.sandbox import SandboxError, SandboxUnavailable

from .conftest import ALICE, alice_notebook_cells, write_notebook


def run_autograder(tmp_path, upload) -> tuple[dict, str]:
    """Grade as run_autograder does (tests/gradescope runs the script itself in the image); `upload` fills
    submission/."""
    (tmp_path / "submission").mkdir()
    upload(tmp_path / "submission")
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        assert autograder.main([str(tmp_path / "submission"), str(tmp_path / "results")]) == 0
    return json.loads((tmp_path / "results" / RESULTS).read_text()), log.getvalue()


def write(folder, relative, text=ALICE):
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_text(text)


@pytest.mark.slow
def test_an_upload_named_rnn_upper_case_is_graded_and_the_student_told(tmp_path):
    document, _ = run_autograder(tmp_path, lambda s: write(s, "RNN.py"))
    assert document["score"] == 100
    assert "graded RNN.py as the submission (the grader looks for rnn.py)" in document["output"]


@pytest.mark.slow
def test_a_notebook_upload_is_graded_and_the_left_out_cells_listed(tmp_path):
    document, _ = run_autograder(tmp_path, lambda s: write_notebook(s / "Assignment4 (1).ipynb", alice_notebook_cells()))
    assert document["score"] == 100
    assert "Left out of Assignment4 (1).ipynb" in document["output"] and "cell 16: left out" in document["output"]


@pytest.mark.slow
def test_two_copies_grade_the_most_plausible_and_say_which(tmp_path):
    def upload(submission):
        write(submission, "draft/rnn (1).py", "import numpy as np\n\ndef forward(params, X, Y, h0):\n    pass\n")
        write(submission, "final/rnn.py")

    document, _ = run_autograder(tmp_path, upload)
    assert document["score"] == 100
    assert "found 2 candidates, chose final/rnn.py (defines 7 of the 7 functions) over draft/rnn (1).py" in document["output"]


def test_an_empty_upload_gets_zero_and_what_to_upload(tmp_path):
    document, _ = run_autograder(tmp_path, lambda s: None)
    assert document["score"] == 0
    assert "the upload is empty; upload rnn.py (or a notebook, or a zip of your folder)" in document["output"]


@pytest.mark.parametrize("failure", [RuntimeError("a bug in the grader"),
                                     SandboxError("the sandbox worker could not start: no such file"),
                                     SandboxUnavailable("no sandbox tier works here")],
                         ids=["bug", "sandbox-error", "sandbox-unavailable"])
def test_a_failure_of_the_grader_itself_is_no_grade_and_the_log_says_what_to_do(tmp_path, monkeypatch, capsys, failure):
    """No results.json (Gradescope then shows the submission as not graded, with no score), never a 0."""
    def crash(*args, **kwargs):
        raise failure

    monkeypatch.setattr("grader.grading.grade_submission", crash)
    write(tmp_path / "submission", "rnn.py")
    assert autograder.main([str(tmp_path / "submission"), str(tmp_path / "results")]) == ExitCode.GRADER_FAILED
    assert not (tmp_path / "results" / RESULTS).exists()
    log = capsys.readouterr().out
    assert "Traceback" in log and f"{type(failure).__name__}: {failure}" in log
    assert autograder.NO_GRADE in log


@pytest.fixture
def graded_alice(monkeypatch, graded_example) -> None:
    """autograder.main grades with the session's grading of alice (tests/conftest.py graded_example): a test of what
    it does with a grade's outputs needs a real one, not a grading of its own (seconds in the sandbox)."""
    def grade(submission, assignment, **options):
        assert (submission / "rnn.py").read_text() == ALICE
        return graded_example("alice")

    monkeypatch.setattr("grader.grading.grade_submission", grade)


@pytest.mark.usefixtures("graded_alice")
def test_outputs_cut_short_by_a_failure_leave_no_results_json(tmp_path, monkeypatch, capsys):
    """results.json is written first: a later output failing leaves no grade of a half-written grading."""
    real = autograder.write_outputs

    def half(result, folder):
        real(result, folder)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(autograder, "write_outputs", half)
    write(tmp_path / "submission", "rnn.py")
    assert autograder.main([str(tmp_path / "submission"), str(tmp_path / "results")]) == ExitCode.GRADER_FAILED
    assert not (tmp_path / "results" / RESULTS).exists()
    assert "No space left on device" in capsys.readouterr().out


@pytest.mark.usefixtures("graded_alice")
def test_a_failure_of_the_log_after_the_results_keeps_the_grade(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the terminal renderer failed")

    monkeypatch.setattr(autograder, "render_terminal", broken)
    write(tmp_path / "submission", "rnn.py")
    assert autograder.main([str(tmp_path / "submission"), str(tmp_path / "results")]) == ExitCode.OK
    assert json.loads((tmp_path / "results" / RESULTS).read_text())["score"] == 100
    log = capsys.readouterr().out
    assert "RuntimeError: the terminal renderer failed" in log and "stands" in log


def test_a_submission_that_kills_its_own_worker_is_graded_not_a_failure_of_the_grader(tmp_path):
    """What the submission's code does is its own: the grader's no-grade path is for the grader's failures."""
    killer = ALICE + "\n\ndef init_params(K, m, sigma, rng):\n    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    document, log = run_autograder(tmp_path, lambda s: write(s, "rnn.py", killer))
    killed = [t for t in document["tests"] if "init_params" in t["name"]]
    assert killed and all(t["score"] == 0 for t in killed) and 0 < document["score"] < 100
    assert autograder.NO_GRADE not in log


@pytest.mark.slow
def test_a_notebooks_own_text_quoted_in_what_was_left_out_is_spelled_out(tmp_path):
    # A cell magic's line is quoted as the notebook has it: a lone surrogate (JSON's "\ud800") made the
    # results unwritable (the student got 0 for a correct notebook), and escapes reached the terminal raw.
    cells = [new_code_cell("%%bash \ud800 \x1b]0;owned\x07 \u202e echo"),
             new_code_cell('print("\x1b[2J")'), *alice_notebook_cells()]
    notebook = json.dumps(new_notebook(cells=cells))  # JSON's escapes, as nbformat cannot write a surrogate
    document, log = run_autograder(tmp_path, lambda s: (s / "rnn.ipynb").write_text(notebook))
    assert document["score"] == 100
    output = html.unescape(document["output"])  # Gradescope shows it as HTML
    assert "a cell magic (%%bash \\ud800 \\x1b]0;owned\\x07 \\u202e echo)" in output
    assert 'print("\\x1b[2J")' in output
    for text in (json.dumps(document, ensure_ascii=False), log):
        assert "\x1b" not in text and "\u202e" not in text and "\ud800" not in text
