"""Student identity from the names LMS exports give, Gradescope's metadata, and a mapping file."""

import os

import pytest

from grader.lms.identity import (
    CANVAS,
    GRADESCOPE,
    MAPPING,
    MOODLE,
    IdentityError,
    identify,
    parse_name,
    read_gradescope_metadata,
    read_mapping,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Quist, Rita_1001_assignsubmission_file", ("Quist, Rita", "1001", MOODLE, False)),
        ("Rita Quist_1001_assignsubmission_file_", ("Rita Quist", "1001", MOODLE, False)),
        ("Åsa Öberg_77_assignsubmission_onlinetext_", ("Åsa Öberg", "77", MOODLE, False)),
        ("quistrita_1001_54321_rnn", ("quistrita", "1001", CANVAS, False)),
        ("quistrita_late_1001_54321_rnn-1", ("quistrita", "1001", CANVAS, True)),
        ("quistrita_LATE_1001_54321_assignment4", ("quistrita", "1001", CANVAS, True)),
        ("alice", ("alice", "", "", False)),
        ("team_2024", ("team_2024", "", "", False)),
    ],
)
def test_lms_export_names_give_the_student(name, expected):
    who = parse_name(name)
    assert (who.name, who.student_id, who.source, who.late_marked) == expected


def test_gradescope_metadata_names_the_submitters_and_the_time(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_123456:\n"
        "  :submitters:\n"
        "  - :name: Rita Quist\n"
        "    :sid: '1001'\n"
        "    :email: rita@example.org\n"
        "  :created_at: 2026-03-02 10:15:00.123456789 +0100\n"
        "  :score: 0.0\n"
    )
    found = read_gradescope_metadata(tmp_path)
    who = identify([("submission_123456", "submission_123456")], gradescope=found)["submission_123456"]
    assert (who.name, who.student_id, who.email, who.source) == ("Rita Quist", "1001", "rita@example.org", GRADESCOPE)
    assert who.submitted_at == "2026-03-02T10:15:00.123456+01:00"


def test_the_mapping_file_wins_and_fills_in_what_names_do_not_say(tmp_path):
    mapping = tmp_path / "students.csv"
    mapping.write_text("submission,student_id,name,email,submitted_at\n"
                       "alice,2002,\"Smith, Alice\",alice@example.org,2026-03-01T22:00:00+01:00\n"
                       "quistrita_1001_54321_rnn.zip,9999,Rita Q,,\n")
    found = identify([("alice", "alice"), ("quistrita_1001_54321_rnn", "quistrita_1001_54321_rnn.zip"), ("bob", "bob")],
                     mapping=read_mapping(mapping))
    assert (found["alice"].student_id, found["alice"].name, found["alice"].source) == ("2002", "Smith, Alice", MAPPING)
    assert found["alice"].submitted_at == "2026-03-01T22:00:00+01:00"
    assert found["quistrita_1001_54321_rnn"].student_id == "9999"
    assert (found["bob"].name, found["bob"].student_id) == ("bob", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,email\nx,y\n", "needs a 'submission' column"),
        ("submission,student_id\n,1\n", "line 2: the 'submission' cell is empty"),
        ("submission,student_id\na,1\na,2\n", "line 3: 'a' is mapped twice"),
        ("submission,submitted_at\na,2026-03-01 12:00\n", "has no UTC offset"),
    ],
)
def test_a_bad_mapping_file_gets_one_clear_message(tmp_path, text, message):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(IdentityError, match=message):
        read_mapping(path)


def test_a_folder_name_not_utf8_or_with_escapes_names_the_student_printably():
    # The student's name comes from the folder's: a name not valid UTF-8 (lone surrogates in Python) made
    # grades.csv unwritable and stopped the whole class run with no class file written.
    raw_moodle = os.fsdecode(b"\xc5sa \xd6berg_77_assignsubmission_file")  # Latin-1 bytes, as an old unzip leaves
    found = identify([("a", raw_moodle), ("b", "evil\x1b]0;owned\x07\u202e")])
    assert (found["a"].name, found["a"].student_id) == ("\\xc5sa \\xd6berg", "77")
    assert found["b"].name == "evil\\x1b]0;owned\\x07\\u202e"
