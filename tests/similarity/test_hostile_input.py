"""One submission's bad bytes never stop the similarity report: each parse is bounded, and a file or a
submission that cannot be read is left out of the comparison with a note saying which and why."""

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.render.similarity_page import render_similarity_html
from grader.similarity import detect
from grader.similarity.collect import class_similarity
from grader.similarity.sources import MAX_CODE_BYTES, read_code

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "submissions"
NESTED = "[" * 200_000  # 200 KB of nested brackets: deeper than any recursive parser goes


@pytest.fixture
def classroom(tmp_path) -> dict[str, Path]:
    """Three independent submissions and a copy of one of them, as folders."""
    entries = {}
    for name in ("alice", "vectorised", "class_based"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)
        entries[name] = tmp_path / name
    (tmp_path / "copycat").mkdir()
    shutil.copyfile(EXAMPLES / "alice" / "rnn.py", tmp_path / "copycat" / "rnn.py")
    entries["copycat"] = tmp_path / "copycat"
    return entries


def corrupt_deflate_zip(path: Path, member: str, code: str) -> Path:
    """A zip whose central directory is sound but whose member's deflate stream is not."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, code)
    data = bytearray(path.read_bytes())
    start = data.index(member.encode()) + len(member)  # the local header's name; the data follows it
    for i in range(start + 4, start + 44):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf, pytest.raises(Exception) as raised, zf.open(member) as f:
        f.read()
    assert "decompressing" in str(raised.value) or "CRC" in str(raised.value)
    return path


def flagged(report) -> set[frozenset[str]]:
    return {frozenset((p.first, p.second)) for p in report.flagged}


def test_a_stray_notebook_that_is_not_one_is_left_out_and_the_rest_of_its_submission_compared(classroom):
    (classroom["copycat"] / "stray.ipynb").write_text('{"cells": 5}')  # a TypeError for a naive reader
    report = class_similarity(classroom)
    assert frozenset(("alice", "copycat")) in flagged(report)  # a broken file is no way out of the comparison
    (note,) = report.skipped_files
    assert note.startswith("copycat: stray.ipynb: could not be read as a Jupyter notebook")
    assert not report.unreadable
    assert "stray.ipynb" in render_similarity_html(report)


def test_a_notebook_of_nested_brackets_leaves_its_submission_out_with_a_note(classroom):
    shutil.rmtree(classroom["class_based"])
    classroom["class_based"].mkdir()
    (classroom["class_based"] / "rnn.ipynb").write_text(NESTED)
    report = class_similarity(classroom)
    (note,) = report.unreadable
    assert note == "class_based: rnn.ipynb: nests its JSON deeper than a notebook does, so it is not one"
    assert report.submissions == 3 and frozenset(("alice", "copycat")) in flagged(report)


def test_a_large_file_of_nested_brackets_beside_the_code_is_left_out_and_named(classroom):
    (classroom["copycat"] / "aaa_padding.py").write_text(NESTED)  # sorted before rnn.py
    code = read_code(classroom["copycat"])
    assert "def " in code.text and "[[[[" not in code.text
    assert code.skipped == (f"aaa_padding.py: larger than the {MAX_CODE_BYTES // 1024} KiB of code compared",)
    assert frozenset(("alice", "copycat")) in flagged(class_similarity(classroom))


def test_a_zip_member_with_a_corrupt_deflate_stream_leaves_that_submission_out_with_a_note(classroom, tmp_path):
    classroom["zipped"] = corrupt_deflate_zip(tmp_path / "zipped.zip", "zipped/rnn.py",
                                              (EXAMPLES / "vectorised" / "rnn.py").read_text())
    report = class_similarity(classroom)
    (note,) = report.unreadable
    assert note.startswith("zipped: zipped/rnn.py: its data in the zip file is corrupt")
    assert report.submissions == 4 and frozenset(("alice", "copycat")) in flagged(report)


def test_a_submission_the_fingerprinting_fails_on_is_left_out_and_the_others_compared(classroom, monkeypatch):
    real = detect._Document.__init__

    def failing(self, name, code, boilerplate):
        if name == "vectorised":
            raise RecursionError("maximum recursion depth exceeded")
        real(self, name, code, boilerplate)

    monkeypatch.setattr(detect._Document, "__init__", failing)
    report = class_similarity(classroom)
    why = "could not be fingerprinted (RecursionError: maximum recursion depth exceeded)"
    assert report.unreadable == (f"vectorised: {why}",)
    assert frozenset(("alice", "copycat")) in flagged(report)


def test_a_zip_declaring_an_oversized_central_directory_is_left_out_unopened(classroom, tmp_path):
    path = tmp_path / "huge.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("huge/rnn.py", (EXAMPLES / "alice" / "rnn.py").read_text())
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    data[end + 12:end + 16] = (9 * 1024**2).to_bytes(4, "little")  # the directory's declared size: 9 MiB
    path.write_bytes(bytes(data))
    classroom["huge"] = path
    report = class_similarity(classroom)
    (note,) = report.unreadable
    assert note.startswith("huge: could not be read (BadZipFile: no end record, or a central directory over 8 MiB")


def test_code_file_names_not_utf8_or_with_escapes_are_spelled_out_and_the_report_still_written(classroom, tmp_path):
    # A name that is not UTF-8 reaches Python as lone surrogates, which no UTF-8 file can hold: the whole
    # class's similarity.html was not written ("surrogates not allowed").
    (classroom["copycat"] / os.fsdecode(b"helper\xff.py")).write_text("x = 1\n")
    (classroom["copycat"] / "title\x1b]0;owned\x07.py").write_text("y = 2\n")
    zipped = tmp_path / "zipped.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("rnn.py", (EXAMPLES / "vectorised" / "rnn.py").read_text())
        zf.writestr("big\x1b[2J\u202e.py", "z = 3\n" * MAX_CODE_BYTES)  # too large: named in the skipped notes
    classroom["zipped"] = zipped
    report = class_similarity(classroom)
    page = render_similarity_html(report)
    page.encode("utf-8")
    assert "\x1b" not in page and "\u202e" not in page
    assert "helper\\xff.py" in page and "title\\x1b]0;owned\\x07.py" in page
    assert report.skipped_files == (f"zipped: big\\x1b[2J\\u202e.py: larger than the {MAX_CODE_BYTES // 1024} KiB "
                                    "of code compared",)
    assert frozenset(("alice", "copycat")) in flagged(report)
