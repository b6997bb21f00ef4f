"""The clean module: definitions kept where they were, top-level work left out and named, hostile source refused."""

import ast
import re
import textwrap

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.intake import prepare
from grader.intake.extract import (
    MAX_SOURCE_CHARS,
    UNUSED,
    WORK,
    ClassMethods,
    SourceError,
    class_methods,
    extract,
    instance_state,
)

from .conftest import ALICE, FUNCTIONS, TOP_LEVEL_WORK, alice_functions


def kept_names(text: str) -> set[str]:
    tree = ast.parse(text)
    names = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names |= {n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name for a in stmt.names}
    return names


def test_top_level_work_after_the_functions_is_left_out_and_the_functions_keep_their_lines():
    source = ALICE + TOP_LEVEL_WORK
    extraction = extract(source, "rnn.py")
    assert kept_names(extraction.text) == {"np", "init_params", "softmax", "forward", "compute_gradients",
                                           "clip_gradients", "adagrad_step", "synthesize", "train"}
    assert extraction.text.split("\n")[: len(ALICE.split("\n")) - 1] == ALICE.split("\n")[:-1]
    assert [s.code for s in extraction.work] == [
        'with open("goblet_book.txt", encoding="utf-8") as f:', "book_chars = sorted(set(book_data))",
        "K = len(book_chars)", "params = init_params(K, 100, 0.01, np.random.default_rng(0))",
        "params, smooth_loss = train(book_data, params, 100000)", 'print("final smooth loss", smooth_loss[-1])']
    first = ALICE.count("\n") + 2
    assert extraction.work[0].line == first and extraction.work[0].end_line == first + 1


def test_constants_and_harmless_calls_into_modules_are_kept_work_and_what_depends_on_it_is_not():
    source = (
        "import numpy as np\n"
        "M = 100\n"
        "EPS = np.finfo(float).eps\n"
        "rng = np.random.default_rng(42)\n"
        "SIZES = [M * 2 for _ in range(3)]\n"
        "data = np.loadtxt('book.txt')\n"
        "K = len(data)\n"
        "SCALE = float(M)\n"
        "def f(x):\n    return x * EPS + SCALE + K\n"
    )
    extraction = extract(source, "rnn.py")
    assert kept_names(extraction.text) == {"np", "M", "EPS", "rng", "SIZES", "SCALE", "f"}
    assert [s.code for s in extraction.skipped] == ["data = np.loadtxt('book.txt')", "K = len(data)"]


def test_imports_only_the_skipped_work_used_are_left_out_but_those_the_functions_use_stay():
    source = ("import numpy as np\nimport matplotlib.pyplot as plt\nimport scipy\nfrom tqdm import tqdm\n"
              "from __future__ import annotations\n\n"
              "def train(n):\n    return [np.sqrt(i) for i in tqdm(range(n))]\n\n"
              "plt.plot(train(3))\nplt.show()\n")
    extraction = extract(source, "rnn.py")
    assert {(s.code, s.reason) for s in extraction.skipped} == {
        ("import matplotlib.pyplot as plt", UNUSED), ("import scipy", UNUSED),
        ("plt.plot(train(3))", WORK), ("plt.show()", WORK)}
    assert "from tqdm import tqdm" in extraction.text and "from __future__ import annotations" in extraction.text


def test_a_guarded_main_block_is_dropped_without_a_word_and_guarded_imports_stay():
    source = ("try:\n    from tqdm import tqdm\nexcept ImportError:\n    def tqdm(x):\n        return x\n\n"
              "def f(n):\n    return list(tqdm(range(n)))\n\n"
              "if __name__ == '__main__':\n    print(f(3))\n")
    extraction = extract(source, "rnn.py")
    assert extraction.skipped == ()
    assert "from tqdm import tqdm" in extraction.text and "print(f(3))" not in extraction.text


def test_statements_sharing_a_line_are_split_and_the_line_count_kept():
    source = "import numpy as np; book = open('book.txt').read(); M = 3\ndef f():\n    return np.zeros(M)\n"
    extraction = extract(source, "rnn.py")
    lines = extraction.text.split("\n")
    assert lines[0] == "import numpy as np; M = 3" and lines[1] == "def f():"
    assert [s.code for s in extraction.skipped] == ["import numpy as np; book = open('book.txt').read(); M = 3"]
    compile(extraction.text, "rnn.py", "exec")


def test_decorated_functions_and_classes_are_kept_whole():
    source = ("import functools\n@functools.lru_cache(maxsize=None)\ndef f(n):\n    return n\n\n"
              "class Model:\n    size = 3\n\n    def forward(self):\n        return self.size\n\nModel().forward()\n")
    extraction = extract(source, "rnn.py")
    assert kept_names(extraction.text) == {"functools", "f", "Model"}
    assert [s.code for s in extraction.skipped] == ["Model().forward()"]


@pytest.mark.parametrize("source, line", [("def f(:\n    pass\n", 1), ("x = 1\n\ndef g():\nreturn 2\n", 4)])
def test_a_syntax_error_is_one_line_naming_the_file_and_line(source, line):
    with pytest.raises(SourceError) as caught:
        extract(source, "RNN.py")
    message = str(caught.value)
    assert message.startswith(f"RNN.py, line {line}: ") and "\n" not in message


def test_hostile_sources_are_refused_with_a_message_not_a_crash():
    with pytest.raises(SourceError, match="more than the"):
        extract("x = 1\n" * (MAX_SOURCE_CHARS // 6 + 1), "rnn.py")
    with pytest.raises(SourceError, match="rnn.py"):
        extract("x = " + "(" * 5000 + ")" * 5000 + "\n", "rnn.py")
    with pytest.raises(SourceError, match="rnn.py"):
        extract("x = 1\0\n", "rnn.py")


def test_windows_and_old_mac_line_ends_keep_their_line_numbers():
    source = "import numpy as np\r\nbook = open('b')\r\ndef f():\r\n    return np.pi\r\n"
    extraction = extract(source, "rnn.py")
    assert extraction.skipped[0].line == 2 and extraction.text.split("\n")[2] == "def f():"


def alice_as_a_class(decorator: str = "@staticmethod") -> str:
    """alice's rnn.py with every function a method of class RNN (`decorator` on each), calling each other
    through the class, as students who write classes do."""
    head, *pieces = alice_functions()
    methods = "\n".join(textwrap.indent(f"{decorator}\n{piece}", "    ") for piece in pieces)
    methods = re.sub(r"(?<![\w.])(softmax|forward|compute_gradients|clip_gradients|adagrad_step)\((?!self|cls)",
                     r"RNN.\1(", methods)
    return head + "\nclass RNN:\n" + methods.replace("def RNN.", "def ")


def _module(text: str) -> dict:
    module: dict = {}
    exec(compile(text, "rnn.py", "exec"), module)  # noqa: S102 - the test's own source, as the sandbox runs it
    return module


def _alice_agrees(module: dict) -> None:
    alice = _module(ALICE)
    rng = np.random.default_rng(3)
    params = module["init_params"](4, 3, 0.5, np.random.default_rng(1))
    X, Y = np.eye(4)[:, [0, 2, 1]], np.eye(4)[:, [2, 1, 3]]
    h0 = rng.standard_normal((3, 1))
    assert np.array_equal(module["compute_gradients"](params, X, Y, h0)[1],
                          alice["compute_gradients"](params, X, Y, h0)[1])
    def trained(train):  # train updates the params in place
        return train("abcdabcd" * 4, {k: v.copy() for k, v in params.items()}, 3, 0.1, 5)[1]

    assert trained(module["train"]) == trained(alice["train"])


@pytest.mark.parametrize("decorator", ["@staticmethod", "@classmethod"])
def test_contract_functions_written_as_static_methods_of_a_class_are_bound_at_the_top_level(tmp_path, decorator):
    """A class RNN whose static methods are the contract's functions scored 0: the sandbox looks them up at
    the top level of rnn.py only."""
    source = alice_as_a_class(decorator)
    if decorator == "@classmethod":
        source = re.sub(r"^    def (\w+)\(", r"    def \1(cls, ", source, flags=re.M)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(source + TOP_LEVEL_WORK)
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        as_it_is = (prepared.folder / "rnn.py").read_text()
        prepared.use_definitions_only()
        alone = (prepared.folder / "rnn.py").read_text()
    assert as_it_is.startswith(source + TOP_LEVEL_WORK)  # the student's lines keep their numbers
    assert "init_params = RNN.init_params\n" in as_it_is and "forward = RNN.forward\n" in as_it_is
    _alice_agrees(_module(alone))
    assert prepared.notes == (
        "rnn.py defines init_params, forward, compute_gradients, clip_gradients, adagrad_step, synthesize and "
        "train as static or class methods of RNN, not at its top level: graded as the contract's functions; "
        "define them at the top level of the file",)


def test_in_a_notebook_static_methods_are_bound_too_and_top_level_functions_are_left_as_they_are(tmp_path):
    head, *pieces = alice_functions()
    cells = [new_code_cell(head), new_code_cell(alice_as_a_class().split("\nclass RNN:\n")[1].join(["class RNN:\n", ""])),
             new_code_cell(pieces[0])]  # init_params also at the top level: that one stays the student's own
    (tmp_path / "s").mkdir()
    nbformat.write(new_notebook(cells=cells), tmp_path / "s" / "A4.ipynb")
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        module = (prepared.folder / "rnn.py").read_text()
    assert "init_params = " not in module and "forward = RNN.forward\n" in module
    _alice_agrees(_module(module))
    assert prepared.notes[0].startswith("A4.ipynb defines forward, compute_gradients,")


def test_methods_that_take_self_but_read_no_state_are_bound_through_an_instance_and_a_star_import_is_trusted(tmp_path):
    """class RNN whose methods take self and read nothing an instance holds: any instance computes as the
    student's, and the functions were named as needing an instance the grader cannot make (counted missing)."""
    with_self = alice_with_self().replace(MADE_THROUGH_AN_INSTANCE, "")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(with_self)
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        text = (prepared.folder / "rnn.py").read_text()
    assert text.startswith(with_self) and "\nforward = object.__new__(RNN).forward\n" in text
    _alice_agrees(_module(text))
    assert prepared.notes == (
        "rnn.py defines init_params, forward, compute_gradients, clip_gradients, adagrad_step, synthesize and "
        "train only as methods of RNN, which read nothing an instance holds: graded through an instance the "
        "grader made without calling __init__; define the contract's functions at the top level of the file",)
    (tmp_path / "s" / "rnn.py").write_text("from model import *\n" + alice_as_a_class())
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        assert prepared.notes == () and not re.search(r"^\w+ = RNN\.", (prepared.folder / "rnn.py").read_text(), re.M)


# The assignment's usual top level around a class: the book's K makes the instance the functions are bound through.
MADE_FROM_THE_BOOK = """
book = open("goblet_book.txt").read()
K = len(set(book))
model = RNN(K, m=100)
""" + "".join(f"{f} = model.{f}\n" for f in FUNCTIONS)


def test_functions_bound_through_an_instance_made_from_the_book_are_bound_through_one_the_grader_makes(tmp_path):
    """`model = RNN(K)` with K from the book, which is not in the submission: the definitions alone left out the
    instance and every binding through it, and a submission whose methods are right scored 0."""
    source = alice_with_self().replace(MADE_THROUGH_AN_INSTANCE, MADE_FROM_THE_BOOK)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(source)
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        assert (prepared.folder / "rnn.py").read_text() == source  # as it is, it binds them itself
        assert prepared.notes == ()
        prepared.use_definitions_only()
        alone = (prepared.folder / "rnn.py").read_text()
    assert "model" not in kept_names(alone) and "\ntrain = object.__new__(RNN).train\n" in alone
    _alice_agrees(_module(alone))
    assert prepared.notes == (
        "rnn.py defines init_params, forward, compute_gradients, clip_gradients, adagrad_step, synthesize and "
        "train only as methods of RNN, which read nothing an instance holds: graded through an instance the "
        "grader made without calling __init__; define the contract's functions at the top level of the file",)


def test_a_method_reading_what_init_sets_is_named_with_that_line_and_so_is_each_method_calling_it(tmp_path):
    """Only the methods that read the instance's state (directly or through another method) need the student's
    own instance; the others are bound through the grader's, so a state read costs its own function only."""
    source = alice_with_self().replace(MADE_THROUGH_AN_INSTANCE, MADE_FROM_THE_BOOK)
    source = source.replace("    def softmax(self, o):\n", "    def softmax(self, o):\n        o = o * self.m / 100\n", 1)
    line = source.split("\n").index("        o = o * self.m / 100") + 1
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(source)
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        prepared.use_definitions_only()
        alone = _module((prepared.folder / "rnn.py").read_text())
    assert {"init_params", "clip_gradients", "adagrad_step"} <= alone.keys()
    assert not {"forward", "compute_gradients", "synthesize", "train"} & alone.keys()
    assert prepared.notes[1] == (
        "rnn.py defines forward, compute_gradients, synthesize and train only as methods of RNN, which read what "
        f"an instance holds (forward: self.m, line {line}; compute_gradients: self.m, line {line}; synthesize: "
        f"self.m, line {line}; train: self.m, line {line}), so the grader cannot make an instance that computes "
        "as yours: define the contract's functions at the top level of the file, taking what they need as "
        "arguments")


@pytest.mark.parametrize("cls, why", [
    ("class RNN(Base):\n    def forward(self, x):\n        return x\n", "class RNN has a base class or a decorator (line 1)"),
    ("class RNN:\n    def __getattr__(self, name):\n        return 0\n    def forward(self, x):\n        return x\n",
     "class RNN defines __getattr__"),
    ("class RNN:\n    def forward(self, x):\n        return helper(self, x)\n", "self itself, line 3"),
    ("class RNN:\n    def forward(self, x):\n        return self.__class__.f(x)\n", "self.__class__, line 3"),
    ("class RNN:\n    scale = 1\n    def fit(self):\n        self.scale = 2\n    def forward(self, x):\n"
     "        return self.scale * x\n", "self.scale, line 6"),  # a class constant an instance may shadow
    ("class RNN:\n    def forward(*args):\n        return args[1]\n", "forward takes its instance in *args, line 2"),
    ("class RNN:\n    def __init__(self, k):\n        global K\n        K = k\n    def forward(self, x):\n"
     "        return x[:K]\n", "a method of class RNN declares K global (line 3)"),
])
def test_an_instance_whose_state_the_grader_cannot_rule_out_is_not_made(cls, why):
    assert instance_state(ast.parse(cls).body[0])["forward"] == why


def test_class_constants_and_other_methods_reached_through_self_are_no_instance_state():
    cls = ("class RNN:\n    scale = 2.0\n    def __init__(self, K):\n        self.K = K\n"
           "    @staticmethod\n    def twice(x):\n        return 2 * x\n"
           "    def forward(self, x):\n        return self.twice(x) * self.scale\n")
    assert instance_state(ast.parse(cls).body[0]) == {"__init__": None, "twice": None, "forward": None}


def test_a_latin_1_file_whose_class_name_python_normalises_is_bound_without_crashing(tmp_path):
    """`class µ:` (micro sign) in a file declaring latin-1: Python reads the name as Greek mu (NFKC), which
    latin-1 cannot encode, and writing `forward = μ.forward` in the declared encoding crashed the grader."""
    source = "# -*- coding: latin-1 -*-\n" + alice_as_a_class().replace("RNN", "\N{MICRO SIGN}") + TOP_LEVEL_WORK
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_bytes(source.encode("latin-1"))
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        as_it_is = (prepared.folder / "rnn.py").read_bytes()
        prepared.use_definitions_only()
        alone = (prepared.folder / "rnn.py").read_bytes()
    compile(as_it_is, "rnn.py", "exec")  # read as Python reads it: by its coding line, if any
    module: dict = {}
    exec(compile(alone, "rnn.py", "exec"), module)  # noqa: S102 - the test's own source, as the sandbox runs it
    _alice_agrees(module)
    assert len(as_it_is.decode("utf-8").split("\n")) > len(source.split("\n"))
    assert as_it_is.decode("utf-8").split("\n")[1:len(source.split("\n"))] == source.split("\n")[1:]
    assert "forward = \N{GREEK SMALL LETTER MU}.forward\n" in as_it_is.decode("utf-8")


def test_methods_written_without_self_or_a_decorator_are_bound_as_python_calls_them_from_the_class(tmp_path):
    """`class RNN: def forward(params, X, Y, h0)` with no decorator is a plain function in Python 3 (RNN.forward
    works), but was classed as needing an instance, for want of @staticmethod."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(alice_as_a_class(""))
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        module = _module((prepared.folder / "rnn.py").read_text())
    _alice_agrees(module)
    assert prepared.notes[0].startswith("rnn.py defines init_params, forward,")


def test_of_two_definitions_of_a_method_in_one_class_the_last_is_bound_as_python_keeps_it(tmp_path):
    """Two defs of forward in class RNN (a first draft left above) were taken for two classes defining it, and
    forward was left unbound."""
    source = alice_as_a_class().replace("class RNN:\n", "class RNN:\n    def forward(self):\n        pass\n\n", 1)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(source)
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        text = (prepared.folder / "rnn.py").read_text()
    assert "forward = RNN.forward\n" in text
    _alice_agrees(_module(text))


@pytest.mark.parametrize("rebinding", ["RNN = None\n", "RNN = RNN()\n", "from helpers import RNN\n"])
def test_a_class_whose_name_the_module_binds_again_has_no_methods_bound(tmp_path, rebinding):
    """`RNN = RNN()` after the class: `forward = RNN.forward` appended after it failed (an instance's method, or
    object.__new__ of a non-class), and with it the import of every top-level function."""
    source = alice_as_a_class() + "\n" + rebinding
    methods = class_methods(ast.parse(source), FUNCTIONS)
    assert methods == ClassMethods({}, {}, {}, {})


MADE_THROUGH_AN_INSTANCE = '''
model = RNN(m=100)
init_params, forward, compute_gradients = model.init_params, model.forward, model.compute_gradients
clip_gradients, adagrad_step = model.clip_gradients, model.adagrad_step
synthesize = model.synthesize
train = model.train
'''


def alice_with_self() -> str:
    """alice as class RNN whose methods take self, bound at the top level through an instance."""
    source = re.sub(r"^    def (\w+)\(", r"    def \1(self, ", alice_as_a_class(""), flags=re.M)
    source = source.replace("RNN.", "self.").replace("class RNN:\n", "class RNN:\n    def __init__(self, m=100):\n"
                                                                    "        self.m = m\n\n", 1)
    return source + MADE_THROUGH_AN_INSTANCE


def test_an_instance_of_the_module_s_class_is_kept_when_the_functions_are_bound_through_it():
    """`model = RNN(); forward = model.forward` beside work that fails: the definitions alone left out the
    instance, so every function bound through it was left out too and the submission scored 0."""
    extraction = extract(alice_with_self() + TOP_LEVEL_WORK, "rnn.py")
    assert {"model", *FUNCTIONS} <= kept_names(extraction.text)
    _alice_agrees(_module(extraction.text))
    assert [s.code for s in extraction.work][0].startswith("with open(")


@pytest.mark.parametrize("made", [
    "model = RNN(m=100)\nmodel.train(book_data, None, 10)\n",  # nothing kept uses the instance
    "model = RNN(m=len(book_data))\nforward = model.forward\n",  # its argument comes from the work
    "from helpers import Net\nmodel = Net()\nforward = model.forward\n",  # not a class of the module
])
def test_an_instance_nothing_kept_needs_or_made_from_work_is_left_out(made):
    source = alice_with_self().replace(MADE_THROUGH_AN_INSTANCE, "") + "book_data = open('book.txt').read()\n" + made
    extraction = extract(source, "rnn.py")
    assert "model" not in kept_names(extraction.text)
    assert any(s.code.startswith("model = ") for s in extraction.work)


def test_a_name_error_of_a_name_left_out_work_sets_says_which_cell_set_it(tmp_path):
    """A train() using char_to_ind from the notebook's data cell failed with a bare NameError, though the student
    had seen it work in Jupyter: the message now names the cell that set it and why it was left out."""
    head, *pieces = alice_functions()
    cells = [new_code_cell(head), new_code_cell("book = open('goblet_book.txt').read()\n"
                                                "char_to_ind = {c: i for i, c in enumerate(sorted(set(book)))}"),
             *map(new_code_cell, pieces)]
    (tmp_path / "s").mkdir()
    nbformat.write(new_notebook(cells=cells), tmp_path / "s" / "A4.ipynb")
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        told = prepared.relabel('File "rnn.py", line 9, in train\nNameError: name \'char_to_ind\' is not defined')
        kept = prepared.relabel("NameError: name 'c' is not defined. Did you mean: 'C'?")  # the comprehension's own
    assert told.endswith("NameError: name 'char_to_ind' is not defined (char_to_ind is set by A4.ipynb, cell 2, "
                         "line 2, which was left out as it runs at import: a function must not use what top-level "
                         "work makes)")
    assert kept == "NameError: name 'c' is not defined. Did you mean: 'C'?"


def test_a_module_s_name_errors_are_explained_only_once_its_definitions_alone_are_graded(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(ALICE + TOP_LEVEL_WORK)
    error = "NameError: name 'book_data' is not defined"
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        assert prepared.relabel(error) == error  # imported as it is: nothing was left out
        prepared.use_definitions_only()
        assert prepared.relabel(error) == (f"{error} (book_data is set by rnn.py, line {ALICE.count(chr(10)) + 2}, "
                                           "which was left out as it runs at import: a function must not use what "
                                           "top-level work makes)")


HELPER = """import numpy as np

book_data = open("goblet_book.txt").read()
char_to_ind = {c: i for i, c in enumerate(sorted(set(book_data)))}


def one_hot(indices, K):
    return np.eye(K)[:, indices]
"""


@pytest.mark.parametrize("work", ["", TOP_LEVEL_WORK])
def test_a_helper_module_rnn_py_imports_that_does_work_is_imported_from_its_definitions_alone(tmp_path, work):
    """data.py loading the book at its top level, imported by rnn.py: the import failed on the book, and with
    it every function, as only rnn.py's own work was ever left out. A module rnn.py does not import stays as it is."""
    (tmp_path / "s").mkdir()
    uses = "\n\ndef encode(indices, K):\n    return data.one_hot(indices, K)\n"
    (tmp_path / "s" / "rnn.py").write_text(ALICE.replace("import numpy as np\n", "import numpy as np\nimport data\n")
                                           + uses + work)
    (tmp_path / "s" / "data.py").write_text(HELPER)
    (tmp_path / "s" / "plots.py").write_text("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n")
    with prepare(tmp_path / "s", FUNCTIONS) as prepared:
        assert (prepared.folder / "data.py").read_text() == HELPER  # as it is, until rnn.py fails to import
        skipped = prepared.use_definitions_only()
        alone = (prepared.folder / "data.py").read_text()
        plots = (prepared.folder / "plots.py").read_text()
    assert "one_hot" in kept_names(alone) and not {"book_data", "char_to_ind"} & kept_names(alone)
    assert alone.split("\n").index("def one_hot(indices, K):") == HELPER.split("\n").index("def one_hot(indices, K):")
    assert plots.startswith("import matplotlib.pyplot as plt\nplt.plot")
    assert skipped[-2:] == ('data.py, line 3: book_data = open("goblet_book.txt").read() (runs at import)',
                            "data.py, line 4: char_to_ind = {c: i for i, c in enumerate(sorted(set(book_data)))} "
                            "(runs at import)")
    assert bool(work) == any(line.startswith("line ") for line in skipped)
