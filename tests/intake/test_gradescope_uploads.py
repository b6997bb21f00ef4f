"""Gradescope always gets a results.json: misnamed files, notebooks, several copies, nothing, a grader crash."""

import contextlib
import html
import io
import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader import autograder
from grader.outputs import RESULTS

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


def test_a_crash_of_the_grader_gives_zero_and_a_message_and_the_log_keeps_the_traceback(tmp_path, monkeypatch, capsys):
    def crash(*args, **kwargs):
        raise RuntimeError("a bug in the grader")

    monkeypatch.setattr(autograder, "grade_submission", crash)
    write(tmp_path / "submission", "rnn.py")
    assert autograder.main([str(tmp_path / "submission"), str(tmp_path / "results")]) == 0
    document = json.loads((tmp_path / "results" / RESULTS).read_text())
    assert document["score"] == 0 and "the autograder itself failed" in document["output"]
    assert "a bug in the grader" not in document["output"]
    log = capsys.readouterr().out
    assert "Traceback" in log and "RuntimeError: a bug in the grader" in log


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
