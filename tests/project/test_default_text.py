"""The shipped training text is the generator's output and looks like the course's novel."""

import pytest

from grader.textgen import generate
from grader.texts import TextError, available_texts, load_text


def test_the_committed_text_is_exactly_what_the_generator_makes():
    name, text = load_text()
    assert name == "prose"
    assert text == generate()


def test_the_default_text_has_a_novel_like_size_and_vocabulary():
    _, text = load_text()
    assert 300_000 <= len(text) <= 600_000
    assert 60 <= len(set(text)) <= 80
    for ch in '.,;:!?"\'\n0123456789':
        assert ch in text


def test_load_text_reads_any_utf8_file_by_path(tmp_path):
    path = tmp_path / "goblet_book.txt"
    path.write_text("Harry looked at the owl.\n", encoding="utf-8")
    assert load_text(path) == ("goblet_book", "Harry looked at the owl.\n")


def test_load_text_names_the_shipped_texts_when_the_name_is_unknown():
    with pytest.raises(TextError, match="not a file, and not one of the shipped texts \\(prose\\)"):
        load_text("no-such-novel")
    assert available_texts() == ["prose"]


def test_load_text_refuses_binary_files(tmp_path):
    path = tmp_path / "novel.txt"
    path.write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(TextError, match="not UTF-8"):
        load_text(path)
