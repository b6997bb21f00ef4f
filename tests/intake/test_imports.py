"""Imports the grader cannot offer cost only what uses them: stand-ins in every module, notebook set-up cells
(Otter-Grader's, nbgrader's) left out, and each failing function says which import."""

import ast
import re
import sys
import types

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.assignment import load_assignment, shipped_specs, spec_folder
from grader.grading import grade_submission
from grader.intake import Offered, prepare
from grader.intake.imports import STAND_IN_MODULE, STAND_IN_SOURCE, stand_in
from grader.intake.prepare import MAX_LISTED

from .conftest import ALICE, ASSIGNMENT, FUNCTIONS, alice_functions

OFFERED = Offered.of(ASSIGNMENT.allowed_imports).with_own({"helpers"})
NOT_OFFERED = "which the grader does not offer; a submission may import numpy, scipy, matplotlib, pandas, tqdm"


def rewrite(source: str) -> str:
    text, _ = stand_in(source, ast.parse(source), OFFERED, lambda line: f"rnn.py, line {line}")
    assert text.count("\n") == source.count("\n")  # every line stays where it was
    ast.parse(text)
    return text


def test_imports_of_packages_not_offered_become_stand_ins_and_the_rest_is_left_as_written():
    source = (
        "import numpy as np, torch\n"
        "from torch import (nn,\n    optim)\n"
        "import torch.nn.functional as F\n"
        "from helpers import shout\n"
        "from . import sibling\n"
        "try:\n    import jax\nexcept ImportError:\n    jax = None\n"
        "def f(x):\n    import seaborn as sns\n    return sns.heatmap(x)\n"
        "x = 1; import otter; y = 2\n"
    )
    lines = rewrite(source).split("\n")
    assert lines[0].startswith("import numpy as np; (torch, ) = (") and "absent('torch', " in lines[0]
    assert "(nn, optim, ) = (" in lines[1] and "absent('torch.optim', " in lines[1] and lines[2] == ")"
    assert "(F, ) = (" in lines[3] and "absent('torch.nn.functional', " in lines[3]
    assert lines[4:10] == ["from helpers import shout", "from . import sibling", "try:", "    import jax",
                           "except ImportError:", "    jax = None"]
    assert lines[11].startswith("    (sns, ) = (") and "rnn.py, line 12 imports seaborn, " + NOT_OFFERED in lines[11]
    assert lines[13].startswith("x = 1; (otter, ) = (") and lines[13].endswith("); y = 2")


def test_a_stand_in_fails_where_it_is_used_and_nowhere_else():
    namespace: dict = {}
    exec(compile(STAND_IN_SOURCE, "<stand-in>", "exec"), namespace)  # noqa: S102 - the grader's own stand-in
    torch = namespace["absent"]("torch", "rnn.py, line 2 imports torch, which the grader does not offer")

    def annotated(x: torch.Tensor, dtype=torch.float32) -> torch.Tensor:  # definitions only name it
        return x

    class Net(torch.nn.Module):  # a base class it stands in for is left out
        pass

    assert annotated(3) == 3 and Net.__mro__[1:] == (object,) and "not offered" in repr(torch.nn)
    for use in (lambda: torch.tensor([1.0]), lambda: torch.nn.Linear(2, 2), lambda: isinstance(1, torch.Tensor),
                lambda: torch + 1, lambda: list(torch), lambda: torch[0]):
        with pytest.raises(ModuleNotFoundError, match="^rnn.py, line 2 imports torch, which the grader does not offer$"):
            use()


def _graded(folder):
    return grade_submission(folder, ASSIGNMENT, diagnostics=False, include_hidden=False)


def _lost(result) -> list:
    """The checks that lost points by the submission's code (not a time limit a busy machine made it miss)."""
    return [c for c in result.checks if c.score < c.max_score and c.stopped_by is None]


@pytest.mark.slow  # a whole grading
def test_a_package_used_inside_one_function_costs_that_function_only(tmp_path):
    """It cost 0/100 for all seven: `import torch` stopped rnn.py from loading."""
    text = ALICE.replace("import numpy as np\n", "import numpy as np\nimport torch\n", 1)
    text = re.sub(r"(def clip_gradients\(.*\):\n)", r"\1    torch.manual_seed(0)\n", text)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(text)
    result = _graded(tmp_path / "s")
    failed = {c.function for c in _lost(result)}
    assert "clip_gradients" in failed and failed <= {"clip_gradients", "train"}  # train calls clip_gradients
    assert all(f"rnn.py, line 4 imports torch, {NOT_OFFERED}" in c.reason for c in _lost(result))
    assert result.intake.notes == (
        "rnn.py, line 4: the grader does not offer torch, so its import was left out; what uses it fails, saying so",)


@pytest.mark.slow  # a whole grading
def test_an_unused_import_in_a_helper_module_the_functions_use_costs_nothing(tmp_path):
    """It cost 0/100: importing the helper failed, and rnn.py with it, definitions alone or not."""
    softmax = re.search(r"\ndef softmax\(o\):\n(    .*\n)+", ALICE).group(0)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(ALICE.replace(softmax, "\n").replace(
        "import numpy as np\n", "import numpy as np\n\nfrom helpers import softmax\n", 1))
    (tmp_path / "s" / "helpers.py").write_text("import numpy as np\nimport seaborn as sns\n\n" + softmax)
    result = _graded(tmp_path / "s")
    assert result.load_failure is None and _lost(result) == []
    assert result.intake.notes == (
        "helpers.py, line 2: the grader does not offer seaborn, so its import was left out; what uses it fails, saying so",)


def _locked(cell):
    cell.metadata.update({"deletable": False, "editable": False})
    return cell


def otter_student_notebook() -> list:
    """The shape Otter Assign gives students: a locked init cell, a check cell after each answer, check_all, export."""
    cells = [_locked(new_code_cell('# Initialize Otter\nimport otter\ngrader = otter.Notebook("rnn.ipynb")')),
             new_markdown_cell("# Assignment 4: a vanilla RNN")]
    for number, piece in enumerate(alice_functions(), start=1):
        cells += [new_markdown_cell(f"**Question {number}.**"), new_code_cell(piece),
                  _locked(new_code_cell(f'grader.check("q{number}")'))]
    return cells + [
        _locked(new_markdown_cell("---\n\nTo double-check your work, the cell below will rerun all of the autograder tests.")),
        _locked(new_code_cell("grader.check_all()")),
        _locked(new_markdown_cell("## Submission\n\nThe cell below will generate a zip file for you to submit.")),
        _locked(new_code_cell("# Save your notebook first, then run this cell to export your submission.\n"
                              "grader.export(pdf=False)")),
    ]


def nbgrader_student_notebook() -> list:
    """nbgrader's released shape, answered: solution cells, locked test cells using nose, a stub left unanswered."""
    def meta(cell, grade_id, solution, points=0):
        cell.metadata["nbgrader"] = {"grade": bool(points), "grade_id": grade_id, "locked": not solution,
                                     "points": points, "schema_version": 3, "solution": solution, "task": False}
        return cell

    cells = [new_code_cell('NAME = ""\nCOLLABORATORS = ""'), new_markdown_cell("---")]
    for number, piece in enumerate(alice_functions(), start=1):
        cells.append(meta(new_code_cell(piece), f"answer-{number}", True))
        cells.append(meta(new_code_cell('"""Check the answer above."""\nfrom nose.tools import assert_equal\n'
                                        "assert_equal(init_params(3, 2, 0.01, np.random.default_rng(0))['b'].shape, (2, 1))"),
                          f"test-{number}", False, points=1))
    cells.append(meta(new_code_cell("# YOUR CODE HERE\nraise NotImplementedError()"), "bonus", True))
    return cells


@pytest.mark.slow  # a whole grading each
@pytest.mark.parametrize("cells", [otter_student_notebook, nbgrader_student_notebook], ids=["otter", "nbgrader"])
def test_notebooks_made_from_otter_and_nbgrader_student_templates_score_full_marks(tmp_path, cells):
    """Otter's used to score 0: `grader = otter.Notebook(...)` passed for a constant, so `import otter` was kept."""
    (tmp_path / "s").mkdir()
    nbformat.write(new_notebook(cells=cells()), tmp_path / "s" / "rnn.ipynb")
    result = _graded(tmp_path / "s")
    assert result.load_failure is None and _lost(result) == []


def test_otter_set_up_cells_are_listed_as_left_out(tmp_path):
    (tmp_path / "s").mkdir()
    nbformat.write(new_notebook(cells=otter_student_notebook()), tmp_path / "s" / "rnn.ipynb")
    with prepare(tmp_path / "s", FUNCTIONS, Offered.of(ASSIGNMENT.allowed_imports)) as prepared:
        module = (prepared.folder / "rnn.py").read_text()
    assert "otter" not in module and "grader." not in module
    assert prepared.skipped[:3] == (
        "cell 1, line 2: import otter (imports a module the functions do not use)",
        'cell 1, line 3: grader = otter.Notebook("rnn.ipynb") (runs at import)',
        'cell 5: left out, it runs at import (grader.check("q1"))',
    )


def test_an_import_the_student_guarded_is_left_to_fail_as_it_expects(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(ALICE.replace(
        "import numpy as np\n", "import numpy as np\ntry:\n    import torch\nexcept ImportError:\n    torch = None\n", 1))
    with prepare(tmp_path / "s", FUNCTIONS, OFFERED) as prepared:
        assert prepared.notes == () and "absent" not in (prepared.folder / "rnn.py").read_text()


@pytest.mark.parametrize("spec", shipped_specs())
def test_every_shipped_spec_declares_its_imports_and_its_contract_md_states_them(spec):
    """The 2025/26 variant declared none, so only numpy was offered there, and its contract.md said nothing."""
    folder = spec_folder(spec)
    assert "allowed" in yaml.safe_load((folder / "contract.yaml").read_text())["imports"]
    allowed = load_assignment(spec).allowed_imports
    words = " ".join((folder / "contract.md").read_text().split())
    stated = re.search(r"these packages: \*\*([^*]+)\*\* \(the list is `imports: allowed`", words)
    assert stated and re.split(r", | and ", stated.group(1)) == list(allowed)
    assert "only what uses it fails" in words


def test_in_a_notebook_the_stand_in_names_the_cell_and_its_line(tmp_path):
    cells = [new_markdown_cell("# RNN"), new_code_cell("import numpy as np\nimport torch"),
             *(new_code_cell(piece) for piece in alice_functions()),
             new_code_cell("def on_gpu(x):\n    return torch.tensor(x).cuda()")]
    (tmp_path / "s").mkdir()
    nbformat.write(new_notebook(cells=cells), tmp_path / "s" / "hw.ipynb")
    with prepare(tmp_path / "s", FUNCTIONS, Offered.of(ASSIGNMENT.allowed_imports)) as prepared:
        module = (prepared.folder / "rnn.py").read_text()
        assert (prepared.folder / "_rnn_grader_absent.py").is_file()
    assert f"hw.ipynb, cell 2, line 2 imports torch, {NOT_OFFERED}" in module
    assert prepared.notes[-1] == ("hw.ipynb, cell 2, line 2: the grader does not offer torch, so its import was left "
                                  "out; what uses it fails, saying so")


def test_a_decorator_from_a_package_not_offered_is_left_out_and_the_function_kept(monkeypatch):
    """numba's @jit would fail as the function is defined, and every function of the module with it."""
    source = ("import numpy as np\nfrom numba import jit\nimport torch\n\n"
              "@jit(nopython=True,\n     cache=True)\ndef f(x):\n    return np.sum(x)\n\n"
              "class Model:\n    @torch.no_grad()\n    def h(self):\n        return 1\n")
    text, stood_in = stand_in(source, ast.parse(source), OFFERED, lambda line: f"rnn.py, line {line}")
    stand_ins = types.ModuleType(STAND_IN_MODULE)
    exec(compile(STAND_IN_SOURCE, "<stand-in>", "exec"), stand_ins.__dict__)  # noqa: S102 - the grader's own
    monkeypatch.setitem(sys.modules, STAND_IN_MODULE, stand_ins)
    module: dict = {}
    exec(compile(text, "rnn.py", "exec"), module)  # noqa: S102 - the test's own source, as the sandbox runs it
    assert module["f"]([1, 2]) == 3 and module["Model"]().h() == 1
    without = "was left out; the function is graded without it"
    assert [s.note() for s in stood_in][2:] == [
        f"rnn.py, line 5: the grader does not offer numba, so the decorator @jit(nopython=True, cache=True) {without}",
        f"rnn.py, line 11: the grader does not offer torch, so the decorator @torch.no_grad() {without}",
    ]


def test_relative_imports_of_sibling_modules_are_made_absolute_as_the_files_are_graded_as_modules(tmp_path, monkeypatch):
    """src/rnn.py with `from .utils import softmax` (the student runs main.py beside src/) scored 0: the sandbox
    imports rnn.py as a module of its own, where a relative import has no package to be relative to."""
    head, *pieces = alice_functions()
    softmax = next(p for p in pieces if p.startswith("def softmax"))
    (tmp_path / "s" / "src").mkdir(parents=True)
    (tmp_path / "s" / "main.py").write_text("from src.rnn import train\n")
    (tmp_path / "s" / "src" / "__init__.py").write_text("")
    (tmp_path / "s" / "src" / "maths.py").write_text("import numpy as np\n\n" + softmax)
    (tmp_path / "s" / "src" / "utils.py").write_text("from .maths import (\n    softmax,\n)\nfrom . import maths as m\n")
    rnn = head + "from .utils import softmax\nfrom ..outside import x\n\n" + "".join(p for p in pieces if p is not softmax)
    (tmp_path / "s" / "src" / "rnn.py").write_text(rnn)
    with prepare(tmp_path / "s", FUNCTIONS, Offered.of(ASSIGNMENT.allowed_imports)) as prepared:
        module = (prepared.folder / "rnn.py").read_text()
        utils = (prepared.folder / "utils.py").read_text()
        monkeypatch.syspath_prepend(str(prepared.folder))
        for name in ("utils", "maths"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        namespace: dict = {}
        exec(compile(module.replace("from ..outside import x\n", "\n"), "rnn.py", "exec"), namespace)  # noqa: S102
    assert module.split("\n")[4:6] == ["from utils import softmax", "from ..outside import x"]  # level 2: not a sibling
    assert utils.split("\n")[:4] == ["from maths import softmax; (", "", ")", "import maths as m"]
    assert callable(namespace["forward"]) and namespace["softmax"].__module__ == "maths"
    why = "(the grader imports your files as modules of their own, not as a package)"
    assert prepared.notes[1:] == (f"src/rnn.py, line 5: `from .utils import` read as `from utils import` {why}",
                                  f"src/utils.py, line 1: `from .maths import` read as `from maths import` {why}",
                                  f"src/utils.py, line 4: `from . import` read as `import` {why}")


def test_a_misnamed_file_importing_a_package_not_offered_is_noted_once(tmp_path):
    """Its copy under its own name, beside the rnn.py made from it, was rewritten and noted as a helper too."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "A4.py").write_text(ALICE.replace("import numpy as np\n", "import numpy as np\nimport torch\n", 1))
    with prepare(tmp_path / "s", FUNCTIONS, Offered.of(ASSIGNMENT.allowed_imports)) as prepared:
        pass
    assert [note for note in prepared.notes if "torch" in note] == [
        "A4.py, line 4: the grader does not offer torch, so its import was left out; what uses it fails, saying so"]


@pytest.mark.parametrize("where", ["rnn.py", "helpers.py"])
def test_a_latin_1_file_whose_imported_names_python_normalises_is_rewritten_without_crashing(tmp_path, where):
    """`from .utils import µ` or `from torch import µ` (micro sign) in a file declaring latin-1: Python reads
    the name as Greek mu (NFKC), which latin-1 cannot encode, and writing the rewritten import in the declared
    encoding crashed the grader."""
    (tmp_path / "s").mkdir()
    imports = "# -*- coding: latin-1 -*-\nfrom .utils import \N{MICRO SIGN}\nfrom torch import \N{MICRO SIGN}m\n"
    (tmp_path / "s" / "utils.py").write_text("\N{GREEK SMALL LETTER MU} = 1.0\n")
    if where == "rnn.py":
        (tmp_path / "s" / "rnn.py").write_bytes((imports + ALICE).encode("latin-1"))
    else:
        (tmp_path / "s" / "rnn.py").write_text("from helpers import *\n" + ALICE)
        (tmp_path / "s" / "helpers.py").write_bytes(imports.encode("latin-1"))
    with prepare(tmp_path / "s", FUNCTIONS, Offered.of(ASSIGNMENT.allowed_imports)) as prepared:
        rewritten = (prepared.folder / where).read_bytes()
        compile(rewritten, where, "exec")  # read as Python reads it: by its coding line, if any
        text = rewritten.decode("utf-8")
    assert text.split("\n")[0] == "" and text.split("\n")[1] == "from utils import \N{GREEK SMALL LETTER MU}"
    assert text.split("\n")[2].startswith(f"(\N{GREEK SMALL LETTER MU}m, ) = (__import__('{STAND_IN_MODULE}')")
    assert any(f"{where}, line 2: " in note for note in prepared.notes)


def test_each_module_is_read_and_parsed_once_for_both_of_its_rewrites(tmp_path, monkeypatch):
    """The relative-import rewrite read and parsed every file at the top of the submission again, with a budget
    of its own, after the stand-in pass had: five files of ~490k characters nearly doubled prepare's time."""
    prepare_module = sys.modules["grader.intake.prepare"]  # grader.intake.prepare is also the function's name
    parsed: list[str] = []
    real_parse = prepare_module.parse

    def counting_parse(source, filename):
        parsed.append(source)
        return real_parse(source, filename)

    monkeypatch.setattr(prepare_module, "parse", counting_parse)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text("from helpers import *\nfrom .maths import softmax\n" + ALICE)
    helpers = "import torch\nfrom .maths import softmax\n\ndef g():\n    return torch.ones(1)\n"
    (tmp_path / "s" / "helpers.py").write_text(helpers)
    (tmp_path / "s" / "maths.py").write_text("import numpy as np\n\ndef softmax(x):\n    return np.exp(x)\n")
    with prepare(tmp_path / "s", FUNCTIONS, Offered.of(ASSIGNMENT.allowed_imports)) as prepared:
        rewritten = (prepared.folder / "helpers.py").read_text()
    assert rewritten.split("\n")[1] == "from maths import softmax" and "torch" in rewritten.split("\n")[0]
    assert rewritten.split("\n")[0].startswith("(torch, ) = ")
    assert sum("def g():" in source for source in parsed) == 1  # helpers.py, rewritten or not
    assert sum("return np.exp(x)" in source for source in parsed) == 1  # maths.py


def test_notes_on_the_modules_rewritten_are_capped_per_submission_not_per_file(tmp_path):
    """Each file's notes were capped on their own, so a submission of 495 modules gave 495 notes."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "rnn.py").write_text(ALICE)
    for number in range(20):
        (tmp_path / "s" / f"part{number:02}.py").write_text("import torch\nfrom .maths import softmax\n")
    (tmp_path / "s" / "maths.py").write_text("def softmax(x):\n    return x\n")
    with prepare(tmp_path / "s", FUNCTIONS, Offered.of(ASSIGNMENT.allowed_imports)) as prepared:
        assert (prepared.folder / "part19.py").read_text().split("\n")[1] == "from maths import softmax"
    assert len(prepared.notes) == MAX_LISTED + 1 and prepared.notes[-1] == f"... and {40 - MAX_LISTED} more"


def test_tqdm_notebook_is_imported_as_tqdm_auto_whose_bar_works_outside_jupyter():
    source = ("from tqdm.notebook import tqdm, trange as tr\nimport tqdm.notebook as tn\nimport tqdm.notebook\n"
              "from tqdm.notebook import (\n    tqdm as bar)\n")
    text = rewrite(source)
    assert text.split("\n")[:3] == ["from tqdm.auto import (tqdm, trange as tr)", "import tqdm.auto as tn",
                                    "import tqdm.notebook"]
    assert "from tqdm.auto import (tqdm as bar); (\n)" in text
    notes = stand_in(source, ast.parse(source), OFFERED, lambda line: f"rnn.py, line {line}")[1]
    assert notes[0].note() == ("rnn.py, line 1: tqdm.notebook works only in Jupyter (its progress bar is a widget), "
                               "so tqdm.auto was imported instead: the same progress bar, as text")


@pytest.mark.slow  # a whole grading
def test_a_colab_notebook_whose_train_shows_a_tqdm_notebook_bar_scores_100(tmp_path):
    """It lost train's 13 points: outside Jupyter, tqdm.notebook raises ImportError (IProgress not found)."""
    *pieces, train = alice_functions()
    cells = [new_code_cell("from tqdm.notebook import tqdm"), *map(new_code_cell, pieces),
             new_code_cell(train.replace("    for _ in range(n_updates):", "    for _ in tqdm(range(n_updates)):"))]
    (tmp_path / "s").mkdir()
    nbformat.write(new_notebook(cells=cells), tmp_path / "s" / "A4.ipynb")
    result = _graded(tmp_path / "s")
    assert result.score == result.max_score and not _lost(result), [c.reason for c in _lost(result)]
    assert result.intake.notes == ("A4.ipynb, cell 1, line 1: tqdm.notebook works only in Jupyter (its progress bar is "
                                   "a widget), so tqdm.auto was imported instead: the same progress bar, as text",)
