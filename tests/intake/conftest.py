"""Submissions as students hand them in, built from alice (a correct submission) for the intake tests."""

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from shipped_course import shipped

REPO = Path(__file__).resolve().parents[2]
ALICE = (REPO / "submissions" / "alice" / "rnn.py").read_text()
ASSIGNMENT = shipped()  # the shipped course
FUNCTIONS = tuple(ASSIGNMENT.functions)

# What students write around the functions: the book, a training run, a plot.
TOP_LEVEL_WORK = '''
with open("goblet_book.txt", encoding="utf-8") as f:
    book_data = f.read()
book_chars = sorted(set(book_data))
K = len(book_chars)
params = init_params(K, 100, 0.01, np.random.default_rng(0))
params, smooth_loss = train(book_data, params, 100000)
print("final smooth loss", smooth_loss[-1])
'''


def alice_functions() -> list[str]:
    """alice's rnn.py cut into one piece per function (the docstring and import first)."""
    return re.split(r"\n(?=def )", ALICE)


def alice_notebook_cells() -> list:
    """A notebook as students write it: markdown, magics, imports, one cell per function, then work."""
    cells = [
        new_markdown_cell("# Assignment 4: a vanilla RNN trained with AdaGrad"),
        new_code_cell("%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt"),
        new_code_cell("!ls data"),
    ]
    cells += [new_code_cell(piece.replace("import numpy as np\n", "")) for piece in alice_functions()]
    cells += [
        new_code_cell("book_data = open('data/goblet_book.txt').read()\nK = len(set(book_data))"),
        new_code_cell("%%time\nparams, losses = train(book_data, init_params(K, 100, 0.01, np.random.default_rng(1)), 10**5)"),
        new_code_cell("params, losses = train(book_data, init_params(K, 100, 0.01, np.random.default_rng(1)), 10**5)"),
        new_code_cell("plt.plot(losses)\nplt.xlabel('update')\nplt.show()"),
    ]
    return cells


def write_notebook(path: Path, cells: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def functions():
    return FUNCTIONS
