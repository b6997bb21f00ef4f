"""Submissions as students hand them in get the score of their functions, and the report says what was left out."""

import json
import shutil
import zipfile

import pytest
import yaml
from nbformat.v4 import new_code_cell

from grader import cli
from grader.assignment import load_assignment
from grader.grading import grade_submission
from grader.sandbox import Limits
from grader.specfile import default_spec_dir

from .conftest import ALICE, ASSIGNMENT, TOP_LEVEL_WORK, alice_notebook_cells, write_notebook

pytestmark = pytest.mark.slow


def alice_with(folder, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rnn.py").write_text(text)
    return folder


def test_alice_as_a_notebook_with_plotting_and_training_cells_scores_100(tmp_path):
    write_notebook(tmp_path / "alice" / "rnn.ipynb", alice_notebook_cells())
    result = grade_submission(tmp_path / "alice", ASSIGNMENT)
    assert result.score == result.max_score == 100, [c.reason for c in result.checks if c.reason]
    assert result.intake.kind == "notebook" and result.intake.file == "rnn.ipynb" and not result.intake.warning
    assert any(line.startswith("cell 15: left out, it runs at import (params, losses = train(")
               for line in result.intake.skipped)
    assert "cell 16: left out, it runs at import (plt.plot(losses))" in result.intake.skipped


def test_feedback_from_a_notebook_names_the_cell_and_its_line(tmp_path):
    cells = alice_notebook_cells()
    forward = next(i for i, c in enumerate(cells) if c.source.startswith("def forward("))
    cells[forward] = new_code_cell(cells[forward].source.replace("    K, tau = X.shape\n",
                                                                 "    K, tau = X.shape\n    1 / 0\n"))
    write_notebook(tmp_path / "bob" / "bob.ipynb", cells)
    result = grade_submission(tmp_path / "bob", ASSIGNMENT, include_hidden=False, diagnostics=False)
    feedback = next(c.feedback for c in result.checks if c.name == "forward: loss matches reference")
    assert f'File "bob.ipynb", cell {forward + 1}, line 3, in forward' in feedback
    assert 'File "rnn.py"' not in feedback


def test_alice_with_matplotlib_scipy_and_tqdm_imports_scores_100(tmp_path):
    text = ALICE.replace("import numpy as np\n", (
        "import numpy as np\nimport matplotlib\nimport matplotlib.pyplot as plt\nimport scipy\n"
        "from scipy.special import softmax as scipy_softmax\nfrom tqdm import tqdm\n"))
    text = text.replace("    for _ in range(n_updates):", "    for _ in tqdm(range(n_updates), disable=True):")
    text += "\n\ndef plot_loss(history):\n    plt.plot(history)\n    plt.show()\n    return scipy_softmax([0.0])\n"
    result = grade_submission(alice_with(tmp_path / "alice", text), ASSIGNMENT)
    assert result.score == result.max_score == 100, result.load_failure
    assert result.intake.warning == "" and result.intake.skipped == ()


def test_alice_followed_by_top_level_book_loading_and_training_scores_100_with_the_warning(tmp_path):
    result = grade_submission(alice_with(tmp_path / "alice", ALICE + TOP_LEVEL_WORK), ASSIGNMENT)
    assert result.score == result.max_score == 100
    first = ALICE.count("\n") + 2
    assert result.intake.warning.startswith(
        f"rnn.py runs code at its top level (lines {first}-{first + 6}), and importing rnn.py failed with "
        "FileNotFoundError")
    assert 'if __name__ == "__main__":' in result.intake.warning and "\n" not in result.intake.warning
    assert f'line {first}: with open("goblet_book.txt", encoding="utf-8") as f: (runs at import)' in result.intake.skipped
    assert result.intake.penalty == 0


def test_top_level_training_that_runs_too_long_is_skipped_and_a_course_penalty_applies(tmp_path):
    folder = alice_with(tmp_path / "alice", ALICE + TOP_LEVEL_WORK)
    (folder / "goblet_book.txt").write_text("the boy who lived " * 2000)  # the book is there: it trains
    spec = tmp_path / "spec"
    shutil.copytree(default_spec_dir(), spec)
    grading = yaml.safe_load((spec / "grading.yaml").read_text())
    (spec / "grading.yaml").write_text(yaml.safe_dump({**grading, "top_level_code_penalty": 5}))
    # A wall-clock allowance no load reaches: the import is stopped by its 3 s of CPU time, never by the cap
    # on waiting (a loaded machine gave "stopped after 12 s without finishing" instead).
    limits = Limits(import_seconds=3.0, wall_factor=100.0)
    result = grade_submission(folder, load_assignment(spec), limits=limits, include_hidden=False, diagnostics=False)
    assert "did not finish within 3 s" in result.intake.warning
    assert result.intake.penalty == 5 and result.score == sum(c.score for c in result.checks) - 5


def test_top_level_work_of_a_helper_module_costs_the_course_penalty_as_rnn_pys_own_does(tmp_path):
    """data.py loading the book, imported by rnn.py: its work left out is top-level work left out (it cost
    nothing when only a helper did the work)."""
    folder = alice_with(tmp_path / "alice", ALICE.replace("import numpy as np\n", "import numpy as np\nimport data\n"))
    (folder / "data.py").write_text('import numpy as np\n\nbook = open("goblet_book.txt").read()\n')
    spec = tmp_path / "spec"
    shutil.copytree(default_spec_dir(), spec)
    grading = yaml.safe_load((spec / "grading.yaml").read_text())
    (spec / "grading.yaml").write_text(yaml.safe_dump({**grading, "top_level_code_penalty": 5}))
    result = grade_submission(folder, load_assignment(spec), include_hidden=False, diagnostics=False)
    assert "data.py, line 3: book = open" in " ".join(result.intake.skipped)
    assert result.intake.penalty == 5 and result.score == sum(c.score for c in result.checks) - 5


def test_a_zip_and_the_path_of_rnn_py_are_each_graded_as_one_submission(tmp_path):
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("alice-a4/rnn.py", ALICE)
        zf.writestr("__MACOSX/alice-a4/._rnn.py", "junk")
    zipped = grade_submission(archive, ASSIGNMENT, include_hidden=False, diagnostics=False)
    assert zipped.name == "alice" and zipped.score == zipped.max_score > 0
    path = alice_with(tmp_path / "carol", ALICE) / "rnn.py"
    direct = grade_submission(path, ASSIGNMENT, include_hidden=False, diagnostics=False)
    assert direct.name == "carol" and direct.score == zipped.score


def test_a_folder_holding_one_nested_submission_is_graded_as_one_from_the_command_line(tmp_path, capsys):
    alice_with(tmp_path / "downloads" / "alice-a4", ALICE)
    status = cli.main([str(tmp_path / "downloads"), "--out", str(tmp_path / "out")])
    printed = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert status == 0, printed
    assert "Grading downloads/ as one submission, the one in alice-a4 (--class reads it as a class)." in printed
    assert "RNN assignment: alice-a4" in printed and "graded alice-a4/rnn.py" not in printed
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 100


def test_ctrl_c_on_a_single_grading_exits_130_without_a_traceback(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("grader.grading.grade_submission", interrupted)
    assert cli.main([str(alice_with(tmp_path / "alice", ALICE))]) == 130
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err and printed.err.strip().endswith("nothing was written.")


def test_functions_bound_through_an_instance_of_the_student_s_class_score_100_when_top_level_work_fails(tmp_path):
    from .test_extract import alice_with_self

    result = grade_submission(alice_with(tmp_path / "s", alice_with_self() + TOP_LEVEL_WORK), ASSIGNMENT)
    assert result.score == result.max_score == 100, [c.reason for c in result.checks if c.reason]
    assert "graded from their definitions alone" in result.intake.warning
