"""Submissions in the shapes students hand in (tests/intake/styles/: classes, Jupyter exports, scripts with a
command line, helper modules, top-level plotting), each graded whole: its score, and that what it loses is
blamed on the function holding the bug, naming the real cause, once."""

from pathlib import Path

import pytest

from grader.grading import grade_submission

from .conftest import ASSIGNMENT

pytestmark = pytest.mark.slow

STYLES = Path(__file__).parent / "styles"

# name: (the checks it loses, with their scores; the mistakes their hints name; words the intake's notes or
# warning must hold)
EXPECTED = {
    # `model = RNN(K)` with K from the book, which is not in the upload: graded through an instance of the
    # grader's, as the methods read nothing an instance holds.
    "class_instance_from_book": ({}, set(), ["graded through an instance the grader made without calling __init__",
                                      "failed with FileNotFoundError"]),
    "class_notebook": ({}, set(), ["assignment4.ipynb defines init_params, forward,", "without calling __init__"]),
    "argparse_main": ({}, set(), []),
    # parse_args() at the top level: it read the sandbox worker's own configuration as the book's path, and
    # the warning quoted that configuration to the student; sys.argv is now as `python rnn.py` sets it.
    "argparse_unguarded": ({}, set(), ["your code ended the whole program (sys.exit(2)) during importing rnn.py",
                                "graded from their definitions alone"]),
    # AdaGrad's memory made float32 in train: "cause unknown", and the hprev check failed too, as the grader
    # could not tell whether hprev was reset; now a departure it knows, counted once, in the main check.
    "train_float32_memory": ({"train: smooth loss and params match the contract's loop": 1.5}, {"train.memory_float32"},
                             []),
    # Jupyter's "Download as .py": get_ipython() magics and shell lines, the book loaded, training timed
    "jupyter_export": ({}, set(), ["graded A4_notebook.py as the submission",
                                   "failed with NameError: name 'get_ipython' is not defined"]),
    "matplotlib_tkagg": ({}, set(), ["graded from their definitions alone"]),  # matplotlib.use("TkAgg"), a plot
    "sys_exit_at_top": ({}, set(), ["runs code at its top level (line 135)"]),  # sys.exit(main()), unguarded
    "init_np_random": ({"init_params: draws in contract order": 0}, {"init_params.not_from_rng"}, []),
    # data.py loads the book at its top level; rnn.py imports one_hot from it: every function failed with the
    # import, as only rnn.py's own top-level work was left out.
    "helper_loads_book": ({}, set(), ["data.py (lines 4-7), which rnn.py imports, runs code at its top level, and "
                                      "importing rnn.py failed with FileNotFoundError"]),
    "train_mean_loss": ({"train: smooth loss and params match the contract's loop": 1.5}, {"train.loss_reduction"}, []),
}
# The styles whose tests below say more than EXPECTED can.
ELSEWHERE = {"class_train_reads_self_m", "h_last_1d"}


def test_each_style_has_its_expectations():
    assert {p.name for p in STYLES.iterdir()} == {*EXPECTED, *ELSEWHERE}


def graded(name: str):
    return grade_submission(STYLES / name, ASSIGNMENT, include_hidden=False, diagnostics=False)


def losses(result) -> dict[str, float]:
    return {c.name: c.score for c in result.checks if c.score < c.max_score}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_style_is_graded_on_its_functions_and_loses_only_its_own_bug_s_checks(name):
    lost, causes, told = EXPECTED[name]
    result = graded(name)
    assert result.load_failure is None
    assert losses(result) == lost, [(c.name, c.reason) for c in result.checks if c.reason]
    assert {c.cause for c in result.checks if c.score < c.max_score} == causes
    said = " ".join((*result.intake.notes, result.intake.warning))
    assert all(words in said for words in told), said
    assert '"rlimits"' not in said and "protocol.py" not in said


def test_a_method_reading_the_instance_s_state_costs_its_own_checks_with_a_note_naming_the_read():
    """class RNN whose train reads self.m, set by __init__ from the book's run: the grader cannot make an
    instance that computes as the student's, so train alone is not graded, and the note names the line."""
    result = graded("class_train_reads_self_m")
    assert {c.function for c in result.checks if c.score < c.max_score} == {"train"}
    assert all(c.score == 0 for c in result.checks if c.function == "train")
    line = next(n for n, text in enumerate((STYLES / "class_train_reads_self_m" / "rnn.py").read_text().split("\n"), 1)
                if "self.m\n" in text + "\n" and "K, m = " in text)
    assert ("rnn.py defines train only as methods of RNN, which read what an instance holds "
            f"(train: self.m, line {line}), so the grader cannot make an instance") in result.intake.notes[1]


def test_a_train_crashing_on_its_compute_gradients_s_h_last_keeps_the_long_run_s_points_carried_from_it():
    """compute_gradients returned h_last as a 1-D (m,) vector: train, feeding it back as hprev, crashed on the
    long run's second update, and "smooth loss decreases" failed though the contract's loop with the student's
    own compute_gradients crashes the same way: one bug, counted in train as well as where it is."""
    result = graded("h_last_1d")
    assert losses(result) == {"compute_gradients: returned loss and h_last": 0}
    shape = next(c for c in result.checks if c.reason)
    assert "returned h_last with shape (2,); expected (2, 1)" in shape.reason
    assert shape.hint == ""  # the shape is the evidence: no "cause unknown" beside it
    long_run = next(c for c in result.checks if c.name == "train: smooth loss decreases over a longer run")
    assert long_run.carried_from == "compute_gradients"
