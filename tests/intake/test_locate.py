"""Which file is graded, and whether a folder is one submission or a class."""

import json
import os
import zipfile

import pytest
from nbformat.v4 import new_code_cell

from grader.intake import NotGradable, prepare
from grader.intake.locate import NotFound, Reading, locate, read_path
from grader.intake.notebook import MAX_NOTEBOOK_BYTES

from .conftest import ALICE, FUNCTIONS, REPO, alice_notebook_cells, write_notebook

TEMPLATE = (REPO / "specs" / "template" / "rnn.py").read_text()


def put(folder, relative, text=ALICE):
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["RNN.py", "rnn (1).py", "Rnn_final.py", "assignment4.py"])
def test_a_misnamed_file_is_graded_and_the_note_says_so(tmp_path, name):
    put(tmp_path, name)
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == name and found.root == tmp_path
    assert len(found.notes) == 1 and name in found.notes[0] and "rnn.py" in found.notes[0]


def test_of_two_copies_the_one_defining_more_functions_wins_then_the_better_name(tmp_path):
    put(tmp_path, "old/rnn.py", "import numpy as np\n\ndef forward(params, X, Y, h0):\n    pass\n")
    put(tmp_path, "final/RNN.py")
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "final/RNN.py" and found.root == tmp_path / "final"
    assert any("found 2 candidates, chose final/RNN.py (defines 7 of the 7 functions) over old/rnn.py" in n
               for n in found.notes)
    put(tmp_path, "old/rnn.py")
    assert locate(tmp_path, FUNCTIONS).relative == "old/rnn.py"  # same functions: rnn.py is the better name


def test_a_notebook_alone_is_the_submission_and_rnn_py_beats_a_notebook(tmp_path):
    write_notebook(tmp_path / "work.ipynb", alice_notebook_cells())
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "work.ipynb" and found.kind.value == "notebook" and found.notes == ()
    put(tmp_path, "rnn.py")
    assert locate(tmp_path, FUNCTIONS).relative == "rnn.py"


def test_the_untouched_template_rnn_py_beside_the_notebook_worked_in_grades_the_notebook_and_says_why(tmp_path):
    """Students upload their whole folder: the course's template rnn.py, never filled in, beside the notebook
    they worked in. Grading rnn.py would give 0 for work the student did."""
    put(tmp_path, "rnn.py", TEMPLATE)
    write_notebook(tmp_path / "Assignment4.ipynb", alice_notebook_cells())
    put(tmp_path, "utils.py", "def load_book(path):\n    return open(path).read()\n")
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "Assignment4.ipynb" and found.root == tmp_path
    assert found.notes == ("rnn.py only holds the template's unfilled functions (each only raises "
                           "NotImplementedError or passes), so Assignment4.ipynb was graded instead; upload only "
                           "the file you want graded",)


def test_a_template_in_a_sub_folder_loses_to_the_file_with_work_whatever_their_names(tmp_path):
    put(tmp_path, "src/rnn.py", TEMPLATE.replace("raise NotImplementedError", "pass"))
    put(tmp_path, "notebooks/a4_solution.py")
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "notebooks/a4_solution.py"
    assert any("src/rnn.py only holds the template's unfilled functions" in n for n in found.notes)


def test_rnn_py_edited_from_the_template_is_graded_and_the_note_names_the_notebook_beside_it(tmp_path):
    """One function filled in is the student's work: rnn.py is graded, as the contract says, and the student
    hears that the notebook was not."""
    init_params = ALICE[ALICE.index("def init_params"):].split("\n\n\n")[0]
    stub = TEMPLATE[TEMPLATE.index("def init_params"):].split("\n\n\n")[0]
    put(tmp_path, "rnn.py", TEMPLATE.replace(stub, init_params))
    write_notebook(tmp_path / "Assignment4.ipynb", alice_notebook_cells())
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "rnn.py"
    assert len(found.notes) == 1 and "Assignment4.ipynb" in found.notes[0]


def test_the_template_alone_is_graded_as_rnn_py(tmp_path):
    put(tmp_path, "rnn.py", TEMPLATE)
    put(tmp_path, "utils.py", "def load_book(path):\n    return open(path).read()\n")
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "rnn.py" and found.notes == ()


def test_rnn_py_with_helper_modules_only_has_no_note(tmp_path):
    put(tmp_path, "rnn.py")
    put(tmp_path, "model.py", "class VanillaRNN:\n    pass\n")
    assert locate(tmp_path, FUNCTIONS).notes == ()


def test_a_notebook_too_large_to_read_is_named_with_the_limit_not_called_missing(tmp_path):
    """A notebook whose outputs (plots, printed losses) pass MAX_NOTEBOOK_BYTES is never read; the student must
    hear that, not that no notebook defining the functions was found."""
    notebook = json.loads(write_notebook(tmp_path / "Assignment4.ipynb", alice_notebook_cells()).read_text())
    notebook["cells"][-1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * MAX_NOTEBOOK_BYTES}]
    (tmp_path / "Assignment4.ipynb").write_text(json.dumps(notebook))
    with pytest.raises(NotFound, match=r"Assignment4\.ipynb is 50 MiB, more than the 50 MiB allowed; clear its outputs"):
        locate(tmp_path, FUNCTIONS)


def test_junk_and_helpers_are_never_the_submission(tmp_path):
    put(tmp_path, "__MACOSX/._rnn.py", "junk")
    put(tmp_path, ".ipynb_checkpoints/rnn-checkpoint.ipynb", "{}")
    put(tmp_path, "utils.py", "def load_book(path):\n    return open(path).read()\n")
    with pytest.raises(NotFound, match=r"no rnn\.py or notebook .* \(found: utils\.py\); upload rnn\.py"):
        locate(tmp_path, FUNCTIONS)


def test_an_empty_upload_says_it_is_empty(tmp_path):
    with pytest.raises(NotFound, match="the upload is empty"):
        locate(tmp_path, FUNCTIONS)


def test_two_or_more_submissions_make_a_class_and_a_stray_rnn_py_is_a_warning(tmp_path):
    put(tmp_path, "alice/rnn.py")
    with zipfile.ZipFile(tmp_path / "bob.zip", "w") as zf:
        zf.writestr("bob/rnn.py", ALICE)
    put(tmp_path, "rnn.py")
    reading = read_path(tmp_path, FUNCTIONS)
    assert reading.reading is Reading.CLASS and "2 sub-folders or zip files hold submissions" in reading.summary
    assert reading.notes == ("rnn.py at the top of the class folder is not graded: it is in no student's folder "
                             "(use --single to grade the folder as one submission)",)
    assert read_path(tmp_path, FUNCTIONS, Reading.SINGLE).reading is Reading.SINGLE


def test_one_nested_submission_is_one_submission_unless_class_is_forced(tmp_path):
    put(tmp_path, "download/alice-a4/rnn.py")
    put(tmp_path, "download/notes/readme.txt", "not code")
    reading = read_path(tmp_path / "download", FUNCTIONS)
    assert reading.reading is Reading.SINGLE and "the one in alice-a4" in reading.summary
    assert read_path(tmp_path / "download", FUNCTIONS, Reading.CLASS).reading is Reading.CLASS


def test_a_submission_with_helper_packages_and_data_is_not_a_class(tmp_path):
    put(tmp_path, "rnn.py")
    put(tmp_path, "helpers/__init__.py", "")
    put(tmp_path, "helpers/text.py", "def one_hot(i, K):\n    return [int(i == k) for k in range(K)]\n")
    put(tmp_path, "data/goblet_book.txt", "text")
    assert read_path(tmp_path, FUNCTIONS).reading is Reading.SINGLE


def test_files_and_missing_paths(tmp_path):
    path = put(tmp_path, "rnn.py")
    assert read_path(path, FUNCTIONS).reading is Reading.SINGLE
    with pytest.raises(NotFound, match="cannot be a class"):
        read_path(path, FUNCTIONS, Reading.CLASS)
    with pytest.raises(NotFound, match="no such file or folder"):
        read_path(tmp_path / "missing", FUNCTIONS)


def test_the_path_of_a_file_grades_that_file_alone_never_its_neighbours(tmp_path):
    put(tmp_path, "class/smith_1001_rnn.py")
    put(tmp_path, "class/jones_1002_rnn.py", ALICE + "\nSECRET = 'jones'\n")
    with prepare(tmp_path / "class" / "smith_1001_rnn.py", FUNCTIONS) as prepared:
        assert sorted(p.name for p in prepared.folder.iterdir()) == ["rnn.py"]
        assert "SECRET" not in (prepared.folder / "rnn.py").read_text()
        assert any("alone, without the files beside it" in note for note in prepared.notes)


def test_a_link_or_a_fifo_named_as_the_submission_is_refused(tmp_path):
    put(tmp_path, "elsewhere/secret.py", "KEY = 1\n")
    (tmp_path / "rnn.py").symlink_to(tmp_path / "elsewhere" / "secret.py")
    os.mkfifo(tmp_path / "pipe.py")
    for name in ("rnn.py", "pipe.py"):
        with pytest.raises(NotGradable):
            with prepare(tmp_path / name, FUNCTIONS):
                pass


BROKEN_ALICE = ALICE.replace("def forward(params, X, Y, h0):", "def forward(params, X, Y, h0)", 1)


@pytest.mark.parametrize("name", ["my_rnn.py", "parkpeter_1016_54336_rnn.py", "assignment4.py"])
def test_a_syntax_error_in_a_file_of_any_name_is_reported_as_its_syntax_error(tmp_path, name):
    """It used to be "no rnn.py or notebook defining the assignment's functions was found"."""
    from grader.grading import grade_submission

    from .conftest import ASSIGNMENT

    assert BROKEN_ALICE != ALICE
    put(tmp_path / "s", name, BROKEN_ALICE)
    put(tmp_path / "s", "helpers.py", "import numpy as np\n")
    result = grade_submission(tmp_path / "s", ASSIGNMENT, diagnostics=False, include_hidden=False)
    assert result.score == 0 and result.intake.file == name
    assert f"SyntaxError: expected ':' ({name}, line " in result.load_failure.message


def test_a_file_that_does_not_parse_is_graded_only_when_nothing_else_can_be(tmp_path):
    put(tmp_path, "scratch.py", "x = (\n")
    assert locate(tmp_path, FUNCTIONS).relative == "scratch.py"  # its SyntaxError is the only thing to say
    put(tmp_path, "my_rnn.py", BROKEN_ALICE)
    assert locate(tmp_path, FUNCTIONS).relative == "my_rnn.py"  # its `def` lines count when it does not parse
    put(tmp_path, "rnn_v2.py")
    assert locate(tmp_path, FUNCTIONS).relative == "rnn_v2.py"  # a copy that parses and defines as much wins


def test_a_class_member_whose_only_file_does_not_parse_is_a_submission_of_the_class(tmp_path):
    put(tmp_path / "alice", "rnn.py")
    put(tmp_path / "bob", "bob_rnn.py", "def forward(params, X, Y, h0)\n    pass\n")
    assert read_path(tmp_path, FUNCTIONS).reading is Reading.CLASS


@pytest.mark.parametrize("name", ["Assignment4.py", "A4.ipynb"])
def test_a_misnamed_file_defining_the_functions_as_methods_of_a_class_is_the_submission(tmp_path, name):
    """A misnamed file or notebook whose class holds the contract's functions was "no rnn.py ... found"."""
    source = "import numpy as np\n\n\nclass RNN:\n" + "".join(
        f"    @staticmethod\n    def {f}(*args):\n        return None\n\n" for f in FUNCTIONS)
    if name.endswith(".ipynb"):
        write_notebook(tmp_path / name, [new_code_cell(source)])
    else:
        put(tmp_path, name, source)
    put(tmp_path, "plots.py", "def show(losses):\n    pass\n")
    assert locate(tmp_path, FUNCTIONS).relative == name


NET = ("import numpy as np\n\n\nclass Net:\n    def __init__(self, params):\n        self.params = params\n\n"
       + "".join(f"    def {f}(self, *args):\n        return None\n\n" for f in ("forward", "train", "synthesize")))


def test_methods_that_take_self_do_not_make_a_file_the_submission(tmp_path):
    """Locating counted every method of every top-level class, though prepare binds none that take self: a
    helper holding class Net (forward(self), train(self), synthesize(self)) was graded instead of the file
    defining the functions, and a folder holding only such a class was not refused."""
    put(tmp_path / "a", "a4.py", "import numpy as np\n\ndef init_params(K, m, sigma, rng):\n    pass\n\n"
                                 "def softmax(x):\n    pass\n")
    put(tmp_path / "a", "net.py", NET)
    assert locate(tmp_path / "a", FUNCTIONS).relative == "a4.py"
    put(tmp_path / "b", "model.py", "class Net:\n    def forward(self, x):\n        return x\n")
    with pytest.raises(NotFound, match="no rnn.py or notebook defining the assignment's functions was found"):
        locate(tmp_path / "b", FUNCTIONS)


def test_a_misnamed_class_based_submission_is_not_told_its_helper_module_is_a_second_candidate(tmp_path):
    """submissions/class_based with rnn.py named a4.py: its model.py, whose class's methods take self, was
    "found 2 candidates, chose a4.py over model.py; upload only one", though a4.py imports it."""
    for path in (REPO / "submissions" / "class_based").glob("*.py"):
        put(tmp_path, "a4.py" if path.name == "rnn.py" else path.name, path.read_text())
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "a4.py" and not any("candidates" in note for note in found.notes)


def test_names_quoted_when_nothing_is_found_are_spelled_out(tmp_path):
    # A name not UTF-8 made the message unwritable: Gradescope's results.json failed as "the autograder itself
    # failed", and a class run wrote no results for that student; escapes reached the terminal raw.
    put(tmp_path, os.fsdecode(b"\xffbad\x1b]0;x\x07.ipynb"), "{")
    put(tmp_path, "\u202eyp.py", "x = 1\n")
    with pytest.raises(NotFound) as found:
        locate(tmp_path, FUNCTIONS)
    assert "(found: \\u202eyp.py, \\xffbad\\x1b]0;x\\x07.ipynb); upload rnn.py" in str(found.value)


def test_a_graded_file_named_with_bytes_not_utf8_or_escapes_is_named_printably(tmp_path):
    # Its name is put in every message the sandbox sends back (relabel), and in the banner: a lone surrogate
    # there made all of that student's results unwritable.
    put(tmp_path, os.fsdecode(b"A4\xff\x1b[2J.py"))
    with prepare(tmp_path, FUNCTIONS) as prepared:
        assert prepared.graded_file == "A4\\xff\\x1b[2J.py"
        assert prepared.relabel('File "rnn.py", line 3') == 'File "A4\\xff\\x1b[2J.py", line 3'


def test_names_the_reading_of_a_folder_quotes_are_spelled_out(tmp_path):
    # Printed before anything is graded: escapes in a file's name reached the terminal raw (ESC ]0; sets its title).
    put(tmp_path, "class/alice/rnn.py")
    put(tmp_path, "class/bob/rnn.py")
    put(tmp_path, "class/A4\x1b]0;owned\x07.py")
    reading = read_path(tmp_path / "class", FUNCTIONS)
    assert reading.notes[0].startswith("A4\\x1b]0;owned\\x07.py at the top of the class folder is not graded")
    put(tmp_path, "one/\u202ealice/rnn.py")
    assert "the one in \\u202ealice (--class" in read_path(tmp_path / "one", FUNCTIONS).summary
    put(tmp_path, "two/\u202ea4.py")
    put(tmp_path, "two/rnn_\x1b[2J.py")
    notes = " ".join(locate(tmp_path / "two", FUNCTIONS).notes)
    assert "\x1b" not in notes and "\u202e" not in notes
    assert "found 2 candidates" in notes and "rnn_\\x1b[2J.py" in notes and "\\u202ea4.py" in notes


def test_a_file_given_alone_is_named_printably(tmp_path):
    path = put(tmp_path, os.fsdecode(b"smith_1001_54321_A4\xff.py"))
    with prepare(path, FUNCTIONS) as prepared:
        assert prepared.graded_file == "smith_1001_54321_A4\\xff.py"
        assert prepared.notes == ("graded smith_1001_54321_A4\\xff.py as the submission's rnn.py",)


def test_a_file_declaring_latin_1_is_read_as_python_reads_it(tmp_path):
    """Locating read every .py file as UTF-8 with replacement: a latin-1 file with a non-ASCII name (class
    Modèle) did not parse, its indented methods were not counted, and a draft notebook beside it was graded."""
    from .test_extract import alice_as_a_class

    source = "# -*- coding: latin-1 -*-\n# Författare: Åsa\n" + alice_as_a_class().replace("RNN", "Modèle")
    (tmp_path / "a4.py").write_bytes(source.encode("latin-1"))
    write_notebook(tmp_path / "draft.ipynb", [new_code_cell(ALICE[ALICE.index("def init_params"):].split("\n\n\n")[0])])
    assert locate(tmp_path, FUNCTIONS).relative == "a4.py"


def test_a_file_with_a_byte_order_mark_parses_and_is_not_taken_for_a_broken_one(tmp_path):
    from .test_extract import alice_as_a_class

    (tmp_path / "a4.py").write_bytes(b"\xef\xbb\xbf" + alice_as_a_class().encode())
    write_notebook(tmp_path / "draft.ipynb", [new_code_cell(ALICE[ALICE.index("def init_params"):].split("\n\n\n")[0])])
    assert locate(tmp_path, FUNCTIONS).relative == "a4.py"


def test_a_module_rnn_py_imports_is_graded_with_it_and_not_named_as_passed_over(tmp_path):
    """rnn.py as the driver (`from model import *`, then the training) with the functions in model.py was told
    model.py 'also defines some of the assignment's functions but only rnn.py was graded': it was graded."""
    put(tmp_path, "rnn.py", "from model import *\n\nparams, losses = train(open('book.txt').read(), None, 10)\n")
    put(tmp_path, "model.py")
    put(tmp_path, "old/model.py")
    found = locate(tmp_path, FUNCTIONS)
    assert found.relative == "rnn.py" and len(found.notes) == 1
    assert found.notes[0].startswith("graded rnn.py; old/model.py also defines")


@pytest.mark.parametrize("link", ["rnn.py", "rnn.ipynb", "upload.zip"])
def test_a_link_in_a_students_upload_is_never_followed_and_is_named_in_the_one_refusal(tmp_path, link):
    """A student's rnn.py that was a link was refused as "no rnn.py ... was found (found: rnn.py)", and a
    folder holding only a link to a zip was unpacked through it."""
    outside = put(tmp_path / "elsewhere", "target", ALICE)
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / link).symlink_to(outside)
    with pytest.raises(NotGradable) as refused, prepare(tmp_path / "student", FUNCTIONS):
        pass
    assert str(refused.value).startswith(f"{link} is a symbolic link (to {str(outside)[:40]}")
    assert str(refused.value).endswith("); the grader follows no link in a submission: submit regular files only")


def test_links_do_not_make_a_students_folder_a_class_unless_class_is_asked(tmp_path):
    """A student's repository with rnn.py and two committed links to folders elsewhere was read as a class of
    what the links point to, and rnn.py went ungraded."""
    put(tmp_path / "repo", "rnn.py")
    for name in ("x", "y"):
        put(tmp_path / "others", f"{name}/rnn.py")
        (tmp_path / "repo" / name).symlink_to(tmp_path / "others" / name)
    assert read_path(tmp_path / "repo", FUNCTIONS).reading is Reading.SINGLE
    assert read_path(tmp_path / "repo", FUNCTIONS, Reading.CLASS).reading is Reading.CLASS


def test_a_file_given_as_a_link_is_refused_in_the_same_words_and_a_folder_given_as_one_is_read(tmp_path):
    """A file may be the student's (a Classroom repository's rnn.py); a folder given as the path is the course
    staff's choice (the repository's submissions/template is one), and nothing inside it is followed."""
    put(tmp_path, "elsewhere/rnn.py", ALICE)
    (tmp_path / "linked.py").symlink_to(tmp_path / "elsewhere" / "rnn.py")
    with pytest.raises(NotGradable, match="^linked.py is a symbolic link .*: submit regular files only$"), \
            prepare(tmp_path / "linked.py", FUNCTIONS):
        pass
    (tmp_path / "student").symlink_to(tmp_path / "elsewhere")
    with prepare(tmp_path / "student", FUNCTIONS) as prepared:
        assert (prepared.folder / "rnn.py").read_text() == ALICE
