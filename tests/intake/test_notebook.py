"""Notebooks: code cells in order, magics and shell lines out, broken cells named, lines mapped back to cells."""

import json

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from grader.intake.extract import SourceError
from grader.intake.notebook import MAX_NOTEBOOK_BYTES, read_notebook
from grader.intake.prepare import prepare

from .conftest import FUNCTIONS, alice_notebook_cells, write_notebook


def test_code_cells_are_joined_with_magics_removed_and_each_line_maps_to_its_cell(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        new_markdown_cell("# title"),
        new_code_cell("%matplotlib inline\nimport numpy as np\nfiles = !ls"),
        new_code_cell("def f(x):\n    return np.tanh(x)"),
    ])
    notebook = read_notebook(path.read_bytes(), "a.ipynb")
    lines = notebook.text.split("\n")
    assert lines[:5] == ["", "import numpy as np", "", "", "def f(x):"]
    assert notebook.where(5) == (3, 1) and notebook.where(2) == (2, 2) and notebook.where(4) is None
    assert notebook.magic_lines == ((2, 1), (2, 3))


def test_cell_magics_and_cells_that_are_not_python_are_left_out_whole_and_named(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        new_code_cell("%%timeit\nx = 1"),
        new_code_cell("def f(:\n    pass"),
        new_code_cell("def g():\n    return 1"),
    ])
    notebook = read_notebook(path.read_bytes(), "a.ipynb")
    assert [(c.cell, c.why) for c in notebook.skipped_cells] == [
        (1, "a cell magic (%%timeit)"), (2, "it is not valid Python at line 1 (invalid syntax)")]
    assert notebook.text.strip() == "def g():\n    return 1"


@pytest.mark.parametrize("magic", ["%%time", "%%capture out", "  %%capture --no-stderr"])
def test_a_cell_under_time_or_capture_keeps_its_definitions_as_jupyter_does(tmp_path, magic):
    """IPython runs these cells' bodies in the notebook's namespace, so a function defined there exists; train
    defined in a %%time cell that also trained was left out with the cell, and the notebook lost its points."""
    path = write_notebook(tmp_path / "a.ipynb", [
        new_code_cell("import numpy as np"),
        new_code_cell(f"{magic}\n%matplotlib inline\ndef train(text):\n    return np.tanh(1)\n\nlosses = train('ab')"),
        new_code_cell("%%bash\nls data"),
    ])
    notebook = read_notebook(path.read_bytes(), "a.ipynb")
    assert notebook.text.split("\n")[2:8] == ["", "", "def train(text):", "    return np.tanh(1)", "", "losses = train('ab')"]
    assert notebook.where(5) == (2, 3) and notebook.magic_lines == ((2, 1), (2, 2))
    assert [(c.cell, c.why) for c in notebook.skipped_cells] == [(3, "a cell magic (%%bash)")]


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe\x00", b'{"cells": 3}'])
def test_a_file_that_is_not_a_notebook_is_one_clear_message(data):
    with pytest.raises(SourceError, match=r"^rnn\.ipynb (could not be read as a Jupyter notebook|is not UTF-8|is not JSON)"):
        read_notebook(data, "rnn.ipynb")


@pytest.mark.parametrize("odd", [{"cell_type": 7}, {"id": ["not", "a", "string"]}])
def test_a_notebook_off_nbformats_schema_is_still_read_from_its_code_cells(odd):
    """nbformat's schema validation is not run: its verdict was never used, and on values like these its
    error reporting crashed (a number as a cell's type, a list as a cell's id), which refused a notebook
    whose code reads fine."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# title", "id": "a"},
             {"cell_type": "code", "metadata": {}, "source": ["def f(x):\n", "    return x"], "outputs": [],
              "execution_count": None, "id": "b"}]
    cells[0 if "cell_type" in odd else 1].update(odd)
    data = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    notebook = read_notebook(data.encode(), "rnn.ipynb")
    assert notebook.text.strip() == "def f(x):\n    return x" and notebook.where(1) == (2, 1)


def test_an_oversized_notebook_is_refused_before_it_is_parsed():
    with pytest.raises(SourceError, match="clear its outputs"):
        read_notebook(b" " * (MAX_NOTEBOOK_BYTES + 1), "rnn.ipynb")


def test_alice_as_a_notebook_keeps_every_function_and_says_which_cells_were_left_out(tmp_path):
    write_notebook(tmp_path / "alice" / "Assignment 4.ipynb", alice_notebook_cells())
    with prepare(tmp_path / "alice", FUNCTIONS) as prepared:
        module = (prepared.folder / "rnn.py").read_text()
        assert prepared.graded_file == "Assignment 4.ipynb" and prepared.fallback is None
        assert prepared.skipped == (
            "cell 2, line 3: import matplotlib.pyplot as plt (imports a module the functions do not use)",
            "cell 13: left out, it runs at import (book_data = open('data/goblet_book.txt').read())",
            "cell 14: left out, it runs at import (params, losses = train(book_data, init_params(K, 100, 0.01, np.rand...)",
            "cell 15: left out, it runs at import (params, losses = train(book_data, init_params(K, 100, 0.01, np.rand...)",
            "cell 16: left out, it runs at import (plt.plot(losses))",
            "magic and shell lines (% and !) left out in cells 2, 3, 14",
        )
        namespace = {}
        exec(compile(module, "rnn.py", "exec"), namespace)
        assert all(callable(namespace[name]) for name in FUNCTIONS)
        line = module.split("\n").index("def forward(params, X, Y, h0):") + 1
        assert prepared.relabel(f'File "rnn.py", line {line + 2}, in forward') == \
            'File "Assignment 4.ipynb", cell 7, line 3, in forward'


BLACK_CONTINUATIONS = [  # Black puts a line's operator at the start of its continuation line
    'names = [k for k in keys if k\n    != "unused"]',
    "def train(book, steps, every):\n    shown = max(steps // 10\n    % every, 1)\n    return shown",
]


@pytest.mark.parametrize("magic", ["", "%matplotlib inline\n"])
@pytest.mark.parametrize("source", BLACK_CONTINUATIONS)
def test_an_operator_starting_a_continuation_line_is_python_not_a_magic(tmp_path, source, magic):
    path = write_notebook(tmp_path / "a.ipynb", [new_code_cell(magic + source)])
    notebook = read_notebook(path.read_bytes(), "a.ipynb")
    assert notebook.skipped_cells == () and notebook.text.strip() == source
    assert notebook.magic_lines == (((1, 1),) if magic else ())


def test_only_lines_that_start_a_logical_line_can_be_magics(tmp_path):
    cell = "\n".join([
        "%matplotlib inline",
        "x = (1",
        "     != 2)",  # inside brackets
        "doc = '''",
        "!important",  # inside a string
        "'''",
        "y = 5 \\",
        "    % 3",  # after a backslash
        "z = '(' # )",  # a bracket in a string, another in a comment
        "  !ls data",  # an indented magic, at the start of a logical line
        "files = !ls",
    ])
    notebook = read_notebook(write_notebook(tmp_path / "a.ipynb", [new_code_cell(cell)]).read_bytes(), "a.ipynb")
    assert notebook.skipped_cells == () and notebook.magic_lines == ((1, 1), (1, 10), (1, 11))
    assert notebook.text.split("\n")[1:9] == cell.split("\n")[1:9]


def test_a_version_3_notebook_with_outputs_is_read_as_its_code():
    cell = {"cell_type": "code", "collapsed": False, "input": "def f(x):\n    return x", "language": "python",
            "metadata": {}, "outputs": [{"output_type": "stream", "stream": "stdout", "text": "hello\n"}]}
    data = json.dumps({"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
                       "worksheets": [{"cells": [cell], "metadata": {}}]}).encode()
    assert read_notebook(data, "rnn.ipynb").text.strip() == "def f(x):\n    return x"


def test_a_notebook_is_parsed_once_to_tell_a_class_from_one_submission_locate_and_prepare_it(tmp_path, monkeypatch):
    """A 30 MB notebook was parsed three times in one grading, once by each of read_path, locate and prepare."""
    import grader.intake.notebook as notebook_module
    from grader.intake.locate import read_path

    parsed = []
    loads = notebook_module.json.loads
    monkeypatch.setattr(notebook_module.json, "loads", lambda text: parsed.append(len(text)) or loads(text))
    write_notebook(tmp_path / "student" / "rnn.ipynb", alice_notebook_cells() + [new_code_cell(f"seed = {id(tmp_path)}")])
    read_path(tmp_path / "student", FUNCTIONS)
    with prepare(tmp_path / "student", FUNCTIONS) as prepared:
        assert prepared.notebook is not None and "def forward" in prepared.notebook.text
    assert len(parsed) == 1
