"""The similarity report on a class of the repository's examples: copies flagged, independent code and the
template never; the threshold follows the class; the page shows the pairs side by side, escaped."""

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.render.similarity_page import render_similarity_html
from grader.similarity.collect import KnownSolutionsError, class_similarity, known_solutions
from grader.similarity.detect import CAP, FLOOR, SMALL_CLASS_THRESHOLD, threshold_for
from grader.similarity.model import KNOWN
from grader.similarity.sources import read_code

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions"
TEMPLATE = EXAMPLES / "template" / "rnn.py"
RENAMES = {"params": "weights", "grads": "derivs", "loss": "total_cost", "memory": "accum", "hprev": "state",
           "softmax": "normalise", "X": "inputs", "Y": "targets", "P": "probs", "H": "hidden"}


def renamed(code: str) -> str:
    """Every name in RENAMES renamed, comments dropped and the blank lines doubled: a disguised copy."""
    for old, new in RENAMES.items():
        code = re.sub(rf"\b{old}\b", new, code)
    code = re.sub(r"  # .*", "", code)
    return code.replace("\n\n", "\n\n\n")


@pytest.fixture
def examples_class(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "class"
    for name in ("alice", "vectorised", "class_based", "template"):
        shutil.copytree(EXAMPLES / name, folder / name)
    (folder / "copycat").mkdir()
    (folder / "copycat" / "rnn.py").write_text(renamed((EXAMPLES / "alice" / "rnn.py").read_text()))
    with zipfile.ZipFile(folder / "zipped.zip", "w") as zf:  # read in memory, junk ignored
        zf.write(EXAMPLES / "vectorised" / "rnn.py", "zipped/rnn.py")
        zf.writestr("__MACOSX/zipped/._rnn.py", "junk")
    return {p.stem if p.suffix == ".zip" else p.name: p for p in sorted(folder.iterdir())}


def _flagged(report) -> set[frozenset[str]]:
    return {frozenset((p.first, p.second)) for p in report.flagged}


def test_a_renamed_copy_is_flagged_and_independent_code_and_the_template_are_not(examples_class):
    report = class_similarity(examples_class, template=TEMPLATE)
    flagged = _flagged(report)
    assert frozenset(("alice", "copycat")) in flagged
    assert frozenset(("vectorised", "zipped")) in flagged  # the same file, handed in as a zip
    assert flagged == {frozenset(("alice", "copycat")), frozenset(("vectorised", "zipped"))}
    assert report.too_little_code == ("template",)
    pair = next(p for p in report.flagged if {p.first, p.second} == {"alice", "copycat"})
    assert pair.score == 1.0 and pair.first_share > 0.9 and pair.second_share > 0.9


def test_without_the_template_as_boilerplate_a_blank_template_is_compared_but_still_not_flagged(examples_class):
    report = class_similarity(examples_class)
    assert "template" not in report.too_little_code
    assert not any("template" in (p.first, p.second) for p in report.flagged)


def test_each_submission_is_compared_with_known_solutions(examples_class, tmp_path):
    known = tmp_path / "known"
    known.mkdir()
    shutil.copy(ROOT / "reference" / "rnn.py", known / "public_repo.py")
    examples_class["from_github"] = tmp_path / "from_github"
    examples_class["from_github"].mkdir()
    (examples_class["from_github"] / "rnn.py").write_text(renamed((ROOT / "reference" / "rnn.py").read_text()))
    report = class_similarity(examples_class, known=known_solutions(known), template=TEMPLATE)
    against = [(p.first, p.second) for p in report.flagged if p.kind == KNOWN]
    assert against == [("from_github", "known/public_repo.py")]
    assert report.known_solutions == 1


def test_a_folder_of_known_solutions_must_hold_some(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(KnownSolutionsError, match="holds no folder"):
        known_solutions(tmp_path / "empty")


def test_the_threshold_comes_from_the_class_distribution():
    # Correct code is alike: the threshold sits well above the class's typical pair.
    similar_class = threshold_for([0.40 + 0.01 * (i % 10) for i in range(100)])
    assert similar_class.value == pytest.approx(similar_class.median + 4 * similar_class.spread)
    assert similar_class.value > 0.5
    varied = threshold_for([0.05 + 0.003 * (i % 10) for i in range(100)])
    assert varied.value == FLOOR  # never below the floor, however alike nobody is
    alike = threshold_for([0.8 + 0.02 * (i % 10) for i in range(100)])
    assert alike.value == CAP  # a class of near-copies still gets its identical pairs flagged
    assert threshold_for([0.1, 0.2]).value == SMALL_CLASS_THRESHOLD
    assert "too few" in threshold_for([0.1, 0.2]).rule


def test_the_page_shows_flagged_pairs_side_by_side_escaped(tmp_path):
    hostile = (EXAMPLES / "alice" / "rnn.py").read_text() + '\n# </pre><script>alert("x")</script>\n'
    entries = {}
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "rnn.py").write_text(hostile)
        entries[name] = tmp_path / name
    report = class_similarity(entries, template=TEMPLATE)
    page = render_similarity_html(report)
    assert "<script" not in page and "&lt;script&gt;" in page
    assert page.count("<mark>") >= 2 and 'id="pair-1"' in page and 'href="#pair-1"' in page


def test_code_is_read_from_notebooks(tmp_path):
    import nbformat

    notebook = tmp_path / "nb"
    notebook.mkdir()
    cells = [nbformat.v4.new_code_cell("%matplotlib inline\ndef f(x):\n    return x\n"),
             nbformat.v4.new_markdown_cell("text")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook / "rnn.ipynb")
    code = read_code(notebook).text
    assert "def f(x):" in code and "%matplotlib" not in code and "text" not in code


def test_the_similarity_package_imports_on_its_own():
    # The benchmark and the renderers import it first; grader.batch must not import it back half-made.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import grader.similarity.collect, grader.render.similarity_page"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
