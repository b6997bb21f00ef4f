"""The clean module: definitions kept where they were, top-level work left out and named, hostile source refused."""

import ast

import pytest

from grader.intake.extract import MAX_SOURCE_CHARS, UNUSED, WORK, SourceError, extract

from .conftest import ALICE, TOP_LEVEL_WORK


def kept_names(text: str) -> set[str]:
    tree = ast.parse(text)
    names = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
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
