"""Files the grader writes are whole or absent: one writer (grader.atomic) for results, reports, class files,
caches and the course secret, and the temporary files a killed write leaves are what a rerun removes."""

import os

import pytest

from grader.atomic import remove_unfinished, write_whole


def test_a_write_replaces_the_file_at_once_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "grades.csv"
    write_whole(target, "old\r\n")
    write_whole(target, "name,score\r\n")  # newlines as given: CSV writes its own
    assert target.read_bytes() == b"name,score\r\n" and os.stat(target).st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_an_exclusive_write_never_replaces_a_file(tmp_path):
    secret = tmp_path / "course-secret"
    write_whole(secret, "first\n", mode=0o600, exclusive=True)
    with pytest.raises(FileExistsError):
        write_whole(secret, "second\n", mode=0o600, exclusive=True)
    assert secret.read_text() == "first\n" and os.stat(secret).st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["course-secret"]


def test_the_temporary_file_of_a_write_cut_short_is_all_remove_unfinished_takes(tmp_path):
    (tmp_path / "alice").mkdir()
    write_whole(tmp_path / "alice" / "results.json", "{}\n")
    cut_short = tmp_path / "alice" / ".results.json.k2j4_5m6.tmp"  # as a killed writer leaves it
    cut_short.write_text('{"hal')
    theirs = tmp_path / "alice" / "notes.tmp"
    theirs.write_text("")
    assert remove_unfinished(tmp_path) == [cut_short]
    assert theirs.exists() and (tmp_path / "alice" / "results.json").read_text() == "{}\n"
