"""Plain folders (not zips) that are thousands deep, hold thousands of folders, paths longer than the system
takes, or names that are not UTF-8 or hold control characters: each is that submission's own clear result,
and the class run goes on and writes every output."""

import json

import pytest
from shipped_course import shipped

from grader.batch.run import grade_class
from grader.batch.task import pack_folder
from grader.files.archive import BrokenSubmission
from grader.grading import grade_submission
from grader.sandbox.scratch import MAX_FILES, MAX_FOLDERS, MAX_PATH_BYTES, MAX_PATH_DEPTH, Refused

from .conftest import make_folder
from .fakes import fake_grade

ASSIGNMENT = shipped()
HOSTILE_NAMES = [b"\xff\xfe latin-1.py", b"\x1b[2J\x1b]0;owned\x07.txt", "\u202eyp.rnn".encode()]


def _hostile_class(class_dir, nested):
    make_folder(class_dir, "plain")
    nested(make_folder(class_dir, "deep"), ["a"] * 3000)
    many = make_folder(class_dir, "many")
    for i in range(MAX_FOLDERS + 50):
        (many / f"f{i}").mkdir()
    nested(make_folder(class_dir, "long"), ["n" * 250] * 17)  # 4267 bytes below the submission
    names = make_folder(class_dir, "names")
    for name in HOSTILE_NAMES:
        (names / name.decode("utf-8", "surrogateescape")).write_bytes(b"data")


def _harmless(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text
    text.encode("utf-8")  # no lone surrogate


@pytest.mark.long
def test_deep_huge_and_oddly_named_folders_are_each_their_own_result_and_the_class_goes_on(class_dir, tmp_path, nested):
    _hostile_class(class_dir, nested)
    out = tmp_path / "out"
    result = grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=fake_grade, progress=False)
    rows = {s.name: s for s in result.submissions}
    assert {n: (s.score, s.problem) for n, s in rows.items()} == {
        "deep": (0.0, "could not be graded"), "long": (0.0, "could not be graded"),
        "many": (0.0, "could not be graded"), "names": (10.0, ""), "plain": (10.0, "")}
    assert f"a path more than {MAX_PATH_DEPTH} folders deep (a/a/a" in rows["deep"].problem_detail
    assert f"more than {MAX_FOLDERS} folders" in rows["many"].problem_detail
    assert f"a path longer than {MAX_PATH_BYTES} bytes" in rows["long"].problem_detail
    for name in ("grades.csv", "summary.json", "index.html", "deep/results.json"):
        _harmless((out / name).read_text(encoding="utf-8"))
    assert len(json.loads((out / "summary.json").read_text())["submissions"]) == 5


@pytest.mark.long
def test_the_real_grader_refuses_a_deep_folder_and_a_hostile_link_name_in_words(class_dir, tmp_path, nested):
    nested(make_folder(class_dir, "deep"), ["a"] * 3000)
    mallory = make_folder(class_dir, "mallory")
    (mallory / "\x1b]0;owned\x07\udcff").symlink_to("/etc/passwd")
    out = tmp_path / "out"
    result = grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=grade_submission, progress=False)
    rows = {s.name: s for s in result.submissions}
    assert "folders deep" in rows["deep"].problem_detail
    assert "is a symbolic link" in rows["mallory"].problem_detail
    assert "the grader itself failed" not in rows["mallory"].problem_detail + rows["deep"].problem_detail
    for name in ("grades.csv", "summary.json", "index.html", "mallory/results.json"):
        _harmless((out / name).read_text(encoding="utf-8"))


def test_a_folder_packed_for_a_cluster_is_held_to_the_same_bounds_and_quoted_printably(class_dir, nested):
    nested(make_folder(class_dir, "deep"), ["a"] * 3000)
    with pytest.raises(Refused, match="folders deep"):
        pack_folder(class_dir / "deep")
    many = make_folder(class_dir, "many")
    for i in range(MAX_FILES + 1):
        (many / f"{i}.txt").touch()
    with pytest.raises(Refused, match=f"more than {MAX_FILES} files"):
        pack_folder(many)
    mallory = make_folder(class_dir, "mallory")
    (mallory / "\x1b]0;owned\x07\udcff").symlink_to("/etc/passwd")
    with pytest.raises(BrokenSubmission, match="is a symbolic link") as caught:
        pack_folder(mallory)
    _harmless(str(caught.value))
