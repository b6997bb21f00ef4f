"""Student bytes read in the grader's own process cost at most a bounded, linear amount of its time.

Each input below took the code before this change quadratic or exponential time (minutes to days); the
bounds asserted are generous wall times for work that now takes milliseconds, so a busy machine cannot
change the verdict, while the old code could not come near them.
"""

import json
import random
import time
import zipfile

import pytest
from nbformat.v4 import new_code_cell

from grader.files.archive import BrokenSubmission, unpack
from grader.intake.extract import MAX_SOURCE_CHARS, SourceError, decode, extract
from grader.intake.locate import NotFound, holds_submission, locate
from grader.intake.notebook import MAX_CELLS, MAX_JSON_VALUES, is_magic, read_notebook
from grader.intake.prepare import prepare

from .conftest import ALICE, FUNCTIONS, write_notebook

FAST = 20.0  # seconds of wall time: each case below takes under a second on an idle machine, and the old code 20x or more


class Clock:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def test_a_cell_holding_a_long_line_of_spaces_is_read_in_linear_time(tmp_path):
    """64k spaces cost the old magic-line pattern 31 s of CPU; 400k would have taken about 20 minutes."""
    path = write_notebook(tmp_path / "rnn.ipynb", [new_code_cell(ALICE), new_code_cell("seed = 1\n" + " " * 400_000)])
    with Clock() as clock:
        notebook = read_notebook(path.read_bytes(), "rnn.ipynb")
    assert clock.seconds < FAST
    assert "def forward" in notebook.text


def test_a_cell_with_a_magic_is_scanned_for_logical_lines_in_linear_time(tmp_path):
    """Each line is tested as a magic only where a logical line starts: one pass over brackets and quotes."""
    code = "%time\nx = [" + "(" * 200_000 + "\n'''\n" + "'\\'" * 60_000
    path = write_notebook(tmp_path / "rnn.ipynb", [new_code_cell(ALICE), new_code_cell(code)])
    with Clock() as clock:
        notebook = read_notebook(path.read_bytes(), "rnn.ipynb")
    assert clock.seconds < FAST
    assert "def forward" in notebook.text and notebook.skipped_cells[0].cell == 2


@pytest.mark.parametrize(("line", "magic"), [
    ("%matplotlib inline", True), ("  !pip install tqdm", True), ("files = !ls", True), ("a, b = %time f()", True),
    ("x = 1", False), ("y = 100 % 3", False), ("x == !y", False), (" " * 1000, False), ("", False),
])
def test_magic_and_shell_lines_are_told_from_python(line, magic):
    assert is_magic(line) is magic


def test_thousands_of_statements_on_one_line_are_extracted_in_linear_time():
    """ast.get_source_segment split the whole source once per kept statement: 4,000 of them took 32 s,
    these 14,000 about 7 minutes (and 28,000, the most a file may hold, half an hour)."""
    source = "import numpy as np\n" + "a = 1; print(a); " * 14_000 + "\n"
    with Clock() as clock:
        extraction = extract(source, "rnn.py")
    assert clock.seconds < FAST
    assert len(extraction.work) == 14_000 and extraction.text.split("\n")[1].startswith("a = 1; a = 1; ")


def test_a_file_name_of_rnn_and_many_digits_is_ranked_in_linear_time(tmp_path):
    """The old name pattern backtracked exponentially on digits: 40 of them would take days."""
    (tmp_path / ("rnn" + "1" * 200 + "x.py")).write_text("x = 1\n")
    with Clock() as clock, pytest.raises(NotFound):
        locate(tmp_path, FUNCTIONS)
    assert clock.seconds < FAST


def test_a_notebook_with_more_cells_than_allowed_is_refused_before_nbformat_reads_it():
    cell = {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None}
    data = json.dumps({"cells": [cell] * (MAX_CELLS + 1), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    with pytest.raises(SourceError, match=f"holds {MAX_CELLS + 1:,} cells, more than the {MAX_CELLS:,} allowed"):
        read_notebook(data.encode(), "rnn.ipynb")


def test_a_notebook_with_more_code_than_a_module_may_hold_is_refused_before_it_is_parsed(tmp_path):
    path = write_notebook(tmp_path / "rnn.ipynb", [new_code_cell("x = 1\n" * (MAX_SOURCE_CHARS // 6 + 1))])
    with pytest.raises(SourceError, match=f"characters of code, more than the {MAX_SOURCE_CHARS:,} allowed"):
        read_notebook(path.read_bytes(), "rnn.ipynb")


@pytest.mark.parametrize("data", [b"[" * 200_000, b'{"cells": [], "metadata": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001])
def test_deeply_nested_json_is_one_clear_message(data):
    with pytest.raises(SourceError, match="^rnn.ipynb nests its JSON deeper than a notebook does, so it is not one"):
        read_notebook(data, "rnn.ipynb")


def test_corrupted_zips_are_broken_submissions_or_entries_never_a_crash(tmp_path):
    """Bytes of a good zip changed at random: each unpacks, or is refused in words; none raises anything else."""
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("rnn.py", "import numpy as np\n" + "def f(x):\n    return x\n" * 200)
        zf.writestr("data/a.txt", "hello " * 500)
    original = good.read_bytes()
    rng = random.Random(0)
    for i in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"s{i}.zip"
        path.write_bytes(bytes(data))
        (tmp_path / f"o{i}").mkdir()
        try:
            unpack(path, tmp_path / f"o{i}")
        except BrokenSubmission:
            pass
        holds_submission(path, FUNCTIONS)


def test_a_notebook_padded_with_more_json_values_than_allowed_is_refused_before_it_is_parsed(monkeypatch):
    """30 MB of cell metadata cost json.loads and nbformat 4.8 s of CPU (this machine: 18 s for one grading)."""
    import grader.intake.notebook as notebook_module

    monkeypatch.setattr(notebook_module.json, "loads", lambda *a, **k: pytest.fail("parsed"))
    cell = new_code_cell(ALICE, metadata={"pad": [{"a": 1}] * (MAX_JSON_VALUES // 2)})
    data = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    with pytest.raises(SourceError) as refused:
        read_notebook(data, "rnn.ipynb")
    assert str(refused.value) == (f"rnn.ipynb holds up to {data.count(b',') + data.count(b':') + data.count(b'['):,} "
                                  f"JSON values (outputs, metadata), more than the {MAX_JSON_VALUES:,} allowed; clear "
                                  "its outputs and submit again")


def test_nbformat_is_handed_the_cells_code_never_their_metadata_outputs_or_attachments(monkeypatch):
    """nbformat made a node of every value of the notebook: its cost grew with the padding, not the code
    (validating 2,990 cells of 230 empty outputs each cost it 14.6 s of CPU)."""
    import nbformat.notebooknode

    padding = {f"k{i}": [{"a": [1, 2]}, "x"] for i in range(20_000)}
    cells = [new_code_cell(ALICE, metadata={"pad": padding}), new_code_cell("x = 1", metadata={"pad": padding})]
    cells[0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["loss\n"] * 1000}]
    cells.append({"cell_type": "markdown", "metadata": {}, "source": "![plot](attachment:loss.png)",
                  "attachments": {"loss.png": {"image/png": "iVBORw0KGgo="}}})
    data = json.dumps({"cells": cells, "metadata": {"pad": padding}, "nbformat": 4, "nbformat_minor": 5})
    built = []
    from_dict = nbformat.notebooknode.from_dict
    monkeypatch.setattr(nbformat.notebooknode, "from_dict", lambda d: built.append(d) or from_dict(d))
    notebook = read_notebook(data.encode(), "rnn.ipynb")
    assert "def forward" in notebook.text and "x = 1" in notebook.text
    assert len(built) < 50


def test_a_version_3_heading_cannot_make_nbformat_write_a_billion_hashes():
    """nbformat turns a v3 heading cell into markdown of `level` '#'s: the level is the student's."""
    code = {"cell_type": "code", "input": ALICE, "language": "python", "outputs": [], "metadata": {}}
    heading = {"cell_type": "heading", "level": 10**12, "source": "Title", "metadata": {}}
    data = json.dumps({"worksheets": [{"cells": [heading, code], "metadata": {}}], "metadata": {},
                       "nbformat": 3, "nbformat_minor": 0})
    notebook = read_notebook(data.encode(), "rnn.ipynb")
    assert "def forward" in notebook.text and notebook.where(notebook.text.split("\n").index("def forward(params, X, Y, h0):") + 1)[0] == 2


def test_a_module_whose_coding_line_names_punycode_is_not_decoded_by_the_grader(tmp_path):
    """punycode's decoder is quadratic: 480 KB cost about 15 s of CPU, and locate and prepare each decoded it."""
    (tmp_path / "rnn.py").write_bytes(b"# coding: punycode\n" + b"a" * 240_000 + b"-" + b"b" * 240_000)
    with pytest.raises(LookupError, match="punycode takes time quadratic"):
        decode((tmp_path / "rnn.py").read_bytes())
    with Clock() as clock, prepare(tmp_path, FUNCTIONS) as prepared:
        assert prepared.graded_file == "rnn.py"
    assert clock.seconds < FAST
