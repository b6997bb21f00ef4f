"""Moodle's grading worksheet: who each participant is, and who is in each team a team download names."""

import pytest
from batch.lms_downloads import moodle_folder_name, moodle_team_folder_name, moodle_worksheet

from grader.files.lms_names import DEFAULT_TEAM, read_upload_name
from grader.lms.moodle import MoodleError, read_moodle_worksheet

TEAM = [(1001, "Rita Quist", "rita@kth.se", "Team_7 R&D"), (1002, "Bo Ek", "bo@kth.se", "Team_7 R&D"),
        (4242, "Åsa Öberg", "asa@kth.se", "Lab 2"), (1003, "Carl Lind", "", DEFAULT_TEAM)]


def test_a_team_worksheet_lists_each_group_as_the_download_names_its_folder(tmp_path):
    path = tmp_path / "Grading worksheet-DD2424-RNN-77.csv"
    path.write_text(moodle_worksheet(TEAM), encoding="utf-8")
    worksheet = read_moodle_worksheet(path)
    assert worksheet.team and [p.number for p in worksheet.participants] == ["1001", "1002", "4242", "1003"]
    # "Team_7 R&D" is downloaded as "Team 7 Ramp;D_<group id>_assignsubmission_file": its two members.
    folder = moodle_team_folder_name("Team_7 R&D", 4242).split("_")[0]
    assert [p.name for p in worksheet.members(folder, "4242")] == ["Rita Quist", "Bo Ek"]
    assert [p.number for p in worksheet.members("Lab 2", "88")] == ["4242"]
    assert [p.number for p in worksheet.members(DEFAULT_TEAM, "")] == ["1003"]
    assert worksheet.members("Lab 3", "4242") == ()  # a group the worksheet does not know: nobody, whatever its ID
    # Moodle before the downloader class: each member's own folder, the group's name before the member's.
    assert [p.number for p in worksheet.members("Lab 2-Åsa Öberg", "4242")] == ["4242"]
    assert worksheet.members("Lab 2-Åsa Öberg", "1001") == ()


def test_an_individual_worksheet_has_no_teams(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(moodle_worksheet([(1001, "Rita Quist", "rita@kth.se", None)]))
    worksheet = read_moodle_worksheet(path)
    assert not worksheet.team and worksheet.participant("1001").email == "rita@kth.se"
    assert worksheet.participant("1002") is None


def test_the_default_teams_folder_and_files_are_read_as_moodles_without_a_number():
    def read(name, **kwargs):
        upload = read_upload_name(name, **kwargs)
        return upload and (upload.lms, upload.name, upload.student_id, upload.plugin, upload.original)

    assert read(moodle_team_folder_name(DEFAULT_TEAM, None), is_file=False) == ("moodle", DEFAULT_TEAM, "", "file", "")
    assert read(moodle_team_folder_name(DEFAULT_TEAM, None, "onlinetext", moodle4=False), is_file=False)[3] == "onlinetext"
    # Downloads in folders off: the default team's files, prefixed.
    assert read("Default group_assignsubmission_file_rnn.py") == ("moodle", DEFAULT_TEAM, "", "file", "rnn.py")
    assert read(moodle_folder_name("Default group", 1001), is_file=False)[2] == "1001"  # a student so named
    assert read(moodle_team_folder_name("Lab 2", 88), is_file=False)[1:3] == ("Lab 2", "88")


@pytest.mark.parametrize(("text", "message"), [
    ("name,grade\nx,1\n", "not Moodle's grading worksheet"),
    ("Identifier,Full name\nStudent 1,x\n", "line 2: 'Student 1' is not a participant's identifier"),
    ("Identifier,Full name\nParticipant 1,x\nParticipant 1,y\n", "line 3: Participant 1 is listed twice"),
])
def test_a_bad_worksheet_gets_one_clear_message(tmp_path, text, message):
    path = tmp_path / "w.csv"
    path.write_text(text)
    with pytest.raises(MoodleError, match=message):
        read_moodle_worksheet(path)
