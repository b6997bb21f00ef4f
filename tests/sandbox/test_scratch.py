"""The scratch copy of a submission folder holds it to a zip's bounds, and refuses in words, never by crashing."""

import os
from pathlib import Path

import pytest

from grader.sandbox.scratch import (
    MAX_FILES,
    MAX_FOLDERS,
    MAX_PATH_BYTES,
    MAX_PATH_DEPTH,
    Refused,
    copy_submission,
    walk,
)

LONG = 250  # bytes in one name: under the 255 every file system takes


def submission(tmp_path: Path) -> Path:
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "rnn.py").write_text("def init_params(): pass\n")
    return folder


def copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "scratch"
    target.mkdir(parents=True)
    copy_submission(source, target)
    return target


def _printable(text: str) -> None:
    assert text.isprintable(), repr(text)
    text.encode("utf-8")  # no lone surrogate


def test_a_folder_thousands_deep_is_refused_in_words_without_going_down_it(tmp_path, nested):
    source = submission(tmp_path)
    nested(source, ["a"] * 3000)
    with pytest.raises(Refused, match=f"a path more than {MAX_PATH_DEPTH} folders deep"):
        copy(source, tmp_path)
    copied = [p for p in (tmp_path / "scratch").rglob("*") if p.is_dir()]
    assert max(len(p.relative_to(tmp_path / "scratch").parts) for p in copied) <= MAX_PATH_DEPTH


def test_a_folder_as_deep_as_a_zip_may_be_is_copied(tmp_path, nested):
    source = submission(tmp_path)
    nested(source, ["a"] * (MAX_PATH_DEPTH - 1))
    (source.joinpath(*["a"] * (MAX_PATH_DEPTH - 1)) / "data.txt").write_text("x")
    target = copy(source, tmp_path)
    assert (target.joinpath(*["a"] * (MAX_PATH_DEPTH - 1)) / "data.txt").read_text() == "x"


def test_more_folders_than_a_zip_may_hold_are_refused(tmp_path):
    source = submission(tmp_path)
    for i in range(MAX_FOLDERS + 1):
        (source / f"f{i}").mkdir()
    with pytest.raises(Refused, match=f"more than {MAX_FOLDERS} folders"):
        copy(source, tmp_path)


def test_a_flood_of_files_is_refused_once_the_bound_is_read_past(tmp_path):
    source = submission(tmp_path)
    for i in range(5 * MAX_FILES):
        (source / f"{i}.txt").touch()
    with pytest.raises(Refused, match=f"more than {MAX_FILES} files"):
        copy(source, tmp_path)
    assert list((tmp_path / "scratch").iterdir()) == []  # refused while listing, before any copying


def test_a_path_longer_than_a_zip_may_hold_is_refused(tmp_path, nested):
    source = submission(tmp_path)
    nested(source, ["n" * LONG] * 17)  # 4267 bytes: more than the system takes in one path
    with pytest.raises(Refused, match=f"a path longer than {MAX_PATH_BYTES} bytes") as caught:
        copy(source, tmp_path)
    assert len(str(caught.value)) < 400  # the path is quoted short


def test_a_name_the_scratch_folders_file_system_cannot_take_is_a_refusal_not_a_crash(tmp_path, nested):
    source = submission(tmp_path)
    (source / ("x" * LONG)).write_text("data")
    # The scratch folder sits so deep that the copy's full path is longer than the system takes.
    nested(tmp_path, ["s" * LONG] * 16)
    target = tmp_path.joinpath(*["s" * LONG] * 16)
    with pytest.raises(Refused, match=r"could not be copied \(File name too long\)"):
        copy_submission(source, target)


def test_names_that_are_not_utf8_or_hold_control_characters_are_copied_and_quoted_printably(tmp_path):
    source = submission(tmp_path)
    odd = [b"\xff\xfe latin-1.txt", b"\x1b[31mred\x07.py", "\u202egnp.py".encode()]
    for name in odd:
        with open(os.path.join(os.fsencode(source), name), "wb") as f:
            f.write(b"data")
    target = copy(source, tmp_path)
    assert sorted(os.listdir(os.fsencode(target))) == sorted([b"rnn.py", *odd])
    os.symlink("/etc/passwd", os.path.join(os.fsencode(source), b"\x1b]0;owned\x07\xff"))
    with pytest.raises(Refused, match="is a symbolic link") as caught:
        copy(source, tmp_path / "again")
    _printable(str(caught.value))


def test_a_refusal_quoting_a_deep_path_of_hostile_names_is_printable(tmp_path, nested):
    source = submission(tmp_path)
    nested(source, [b"\x1b[2J\xff"] * (MAX_PATH_DEPTH + 1))
    with pytest.raises(Refused, match="folders deep") as caught:
        list(walk(source))
    _printable(str(caught.value))
