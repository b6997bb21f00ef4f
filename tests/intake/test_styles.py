"""Submissions in the shapes students hand in (tests/intake/styles/: classes, Jupyter exports, helper modules;
and, built here from alice's rnn.py or another style's, a command line, top-level plotting or one bug of a real
student's), each graded whole: its score, and that what it loses is blamed on the function holding the bug,
naming the real cause, once."""

import shutil
from pathlib import Path

import pytest

from grader.grading import grade_submission

from .conftest import ALICE, ASSIGNMENT

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

# Styles that are another style's rnn.py, or alice's, with a few lines changed or added, built from it when a test
# grades them: name: (the rnn.py it starts from, its replacements (old, new; each old found once), code appended).
# A styles/ folder of the same name holds the style's other files (helper_loads_book's data.py).
CLASS_FROM_BOOK = (STYLES / "class_instance_from_book" / "rnn.py").read_text()


def _docstring(base: str, docstring: str) -> tuple[str, str]:
    """The replacement of ``base``'s docstring (its first line) by the style's."""
    return base.split("\n", 1)[0] + "\n", docstring + "\n"


VARIANTS = {
    "argparse_main": (ALICE, (_docstring(ALICE, '"""Assignment 4, run as a script: python rnn.py --text goblet_book.txt"""\n'),), '''

def main():
    import argparse
    parser = argparse.ArgumentParser(description="Train a char-RNN on a text file")
    parser.add_argument("--text", default="goblet_book.txt")
    parser.add_argument("--updates", type=int, default=100000)
    parser.add_argument("--m", type=int, default=100)
    args = parser.parse_args()
    with open(args.text, encoding="utf-8") as f:
        book = f.read()
    rng = np.random.default_rng(0)
    params = init_params(len(set(book)), args.m, 0.01, rng)
    params, smooth = train(book, params, args.updates)
    print(smooth[-1])


if __name__ == "__main__":
    main()
'''),
    "argparse_unguarded": (ALICE, (_docstring(ALICE, '"""Assignment 4: python rnn.py goblet_book.txt"""\n'),), '''

import argparse
parser = argparse.ArgumentParser()
parser.add_argument("book")
parser.add_argument("--updates", type=int, default=100000)
args = parser.parse_args()
book = open(args.book).read()
params, smooth = train(book, init_params(len(set(book)), 100, 0.01, np.random.default_rng()), args.updates)
'''),
    "matplotlib_tkagg": (ALICE, (_docstring(ALICE, '"""Assignment 4 with the loss plot."""\n'),
                                 ("import numpy as np\n", "import numpy as np\nimport matplotlib\n"
                                                          "matplotlib.use('TkAgg')\nimport matplotlib.pyplot as plt\n")), '''

book = open("goblet_book.txt").read()
params = init_params(len(set(book)), 100, 0.01, np.random.default_rng(1))
params, smooth = train(book, params, 2000)
plt.figure(figsize=(8, 4))
plt.plot(smooth)
plt.savefig("smooth_loss.png")
plt.show()
'''),
    "sys_exit_at_top": (ALICE, (_docstring(ALICE, '"""Assignment 4."""\n'),), '''

import sys

def main(path="goblet_book.txt"):
    book = open(path).read()
    params = init_params(len(set(book)), 100, 0.01, np.random.default_rng(7))
    train(book, params, 100000)
    return 0


sys.exit(main())
'''),
    "train_float32_memory": (ALICE, (_docstring(ALICE, '"""Assignment 4: AdaGrad memory in float32 to save space."""\n'),
                                     ("memory = {k: np.zeros_like(v) for k, v in params.items()}",
                                      "memory = {k: np.zeros(v.shape, dtype=np.float32) for k, v in params.items()}")),
                             ""),
    "train_mean_loss": (ALICE, (_docstring(ALICE, '"""Assignment 4: the smooth loss per character."""\n'),
                                ("    smooth_loss = loss\n", "    smooth_loss = loss / seq_length\n"),
                                ("0.001 * loss\n", "0.001 * loss / seq_length\n")), ""),
    "init_np_random": (ALICE, (_docstring(ALICE, '"""Assignment 4."""\n'),
                               ("rng.standard_normal((m, K)) * sigma", "np.random.normal(0, sigma, size=(m, K))"),
                               ("rng.standard_normal((m, m)) * sigma", "np.random.normal(0, sigma, size=(m, m))"),
                               ("rng.standard_normal((K, m)) * sigma", "np.random.normal(0, sigma, size=(K, m))")), ""),
    "h_last_1d": (ALICE, (_docstring(ALICE, '"""Assignment 4."""\n'), ("H[:, [tau - 1]]", "H[:, tau - 1]")), ""),
    # rnn.py uses data.py's one_hot, and data.py (in styles/helper_loads_book/) loads the book at its top level.
    "helper_loads_book": (ALICE, (_docstring(ALICE, '"""Assignment 4; data.py loads the book."""\n'),
                                  ("import numpy as np\n", "import numpy as np\nfrom data import one_hot\n"),
                                  ("        M = np.zeros((K, len(s)))\n        for t, ch in enumerate(s):\n"
                                   "            M[char_to_ind[ch], t] = 1\n        return M\n",
                                   "        return one_hot([char_to_ind[ch] for ch in s], K)\n")), ""),
    "class_train_reads_self_m": (CLASS_FROM_BOOK, (
        _docstring(CLASS_FROM_BOOK, '"""DD2424 Assignment 4: the RNN as a class; train takes m from the model."""'),
        ('K, m = len(chars), params["W"].shape[0]', "K, m = len(chars), self.m")), ""),
}


def variant(name: str) -> str:
    """The rnn.py of a style built from another (VARIANTS)."""
    base, replacements, appended = VARIANTS[name]
    for old, new in replacements:
        assert base.count(old) == 1, (name, old)
        base = base.replace(old, new)
    return base + appended


def test_each_style_has_its_expectations():
    assert {p.name for p in STYLES.iterdir()} | set(VARIANTS) == {*EXPECTED, *ELSEWHERE}


def graded(name: str, tmp_path: Path):
    """The style's grading: its folder in styles/, or, for a style built from another, a copy of its folder's
    other files (if any) with its rnn.py built (VARIANTS)."""
    folder = STYLES / name
    if name in VARIANTS:
        folder = tmp_path / name
        if (STYLES / name).is_dir():
            shutil.copytree(STYLES / name, folder)
        folder.mkdir(exist_ok=True)
        (folder / "rnn.py").write_text(variant(name))
    return grade_submission(folder, ASSIGNMENT, include_hidden=False, diagnostics=False)


def losses(result) -> dict[str, float]:
    return {c.name: c.score for c in result.checks if c.score < c.max_score}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_style_is_graded_on_its_functions_and_loses_only_its_own_bug_s_checks(name, tmp_path):
    lost, causes, told = EXPECTED[name]
    result = graded(name, tmp_path)
    assert result.load_failure is None
    assert losses(result) == lost, [(c.name, c.reason) for c in result.checks if c.reason]
    assert {c.cause for c in result.checks if c.score < c.max_score} == causes
    said = " ".join((*result.intake.notes, result.intake.warning))
    assert all(words in said for words in told), said
    assert '"rlimits"' not in said and "protocol.py" not in said


def test_a_method_reading_the_instance_s_state_costs_its_own_checks_with_a_note_naming_the_read(tmp_path):
    """class RNN whose train reads self.m, set by __init__ from the book's run: the grader cannot make an
    instance that computes as the student's, so train alone is not graded, and the note names the line."""
    result = graded("class_train_reads_self_m", tmp_path)
    assert {c.function for c in result.checks if c.score < c.max_score} == {"train"}
    assert all(c.score == 0 for c in result.checks if c.function == "train")
    line = next(n for n, text in enumerate(variant("class_train_reads_self_m").split("\n"), 1)
                if "self.m\n" in text + "\n" and "K, m = " in text)
    assert ("rnn.py defines train only as methods of RNN, which read what an instance holds "
            f"(train: self.m, line {line}), so the grader cannot make an instance") in result.intake.notes[1]


def test_a_train_crashing_on_its_compute_gradients_s_h_last_keeps_the_long_run_s_points_carried_from_it(tmp_path):
    """compute_gradients returned h_last as a 1-D (m,) vector: train, feeding it back as hprev, crashed on the
    long run's second update, and "smooth loss decreases" failed though the contract's loop with the student's
    own compute_gradients crashes the same way: one bug, counted in train as well as where it is."""
    result = graded("h_last_1d", tmp_path)
    assert losses(result) == {"compute_gradients: returned loss and h_last": 0}
    shape = next(c for c in result.checks if c.reason)
    assert "returned h_last with shape (2,); expected (2, 1)" in shape.reason
    assert shape.hint == ""  # the shape is the evidence: no "cause unknown" beside it
    long_run = next(c for c in result.checks if c.name == "train: smooth loss decreases over a longer run")
    assert long_run.carried_from == "compute_gradients"
