"""canvas.csv imports into Canvas (its export's columns, matched students) and moodle.csv into Moodle."""

import csv
import dataclasses
import io

import pytest
from batch.lms_downloads import moodle_team_folder_name, moodle_worksheet

from grader.lms.canvas import CanvasError, assignment_column, read_canvas_gradebook, with_gradebook_names
from grader.lms.identity import MAPPING, parse_name
from grader.lms.moodle import read_moodle_worksheet
from grader.render.canvas_csv import render_canvas_csv
from grader.render.gradebook import render_grades_csv
from grader.render.moodle_csv import COLUMNS, render_moodle_csv
from grader.results import Adjustment, AdjustmentKind, ClassResult, ClassSubmission, Problem, StudentIdentity

# An export as Canvas writes it: a points-possible row, then the students; one assignment column exists.
EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Assignment 3 (4410),Assignment 4 (4411),Current Score\r\n"
    "    Points Possible,,,,,100.00,100.00,(read only)\r\n"
    '"Quist, Rita",1001,u1rita,rita@kth.se,DD2424 VT26,90,,90\r\n'
    '"Smith, Alice",1002,u1alice,alice@kth.se,DD2424 VT26,80,,80\r\n'
    '"=Evil, Eve",1003,,eve@kth.se,DD2424 VT26,,,\r\n'
)


def row(name, score, final, student, **extra):
    return ClassSubmission(name=name, source=name, score=score, max_score=100.0, check_scores={}, seconds=1.0,
                           student=student, final_score=final, **extra)


def result(*rows):
    return ClassResult(folder="class", submissions=rows, checks=(), histogram=(), max_score=100.0, mean_score=0.0,
                       median_score=0.0, troubled=(), slowest=(), graded_now=len(rows), reused=0)


def parsed(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def test_canvas_csv_fills_the_exported_gradebooks_assignment_column(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8-sig")  # Canvas writes a byte-order mark
    graded = result(
        row("quistrita_late_1001_54321_rnn", 95.0, 85.5, parse_name("quistrita_late_1001_54321_rnn"),
            adjustments=(Adjustment(AdjustmentKind.LATE, -9.5, "1 day late"),)),
        row("smithalice_1002_55555_rnn", 70.0, 70.0, parse_name("smithalice_1002_55555_rnn")),
        row("stranger_4242_1_rnn", 10.0, 10.0, parse_name("stranger_4242_1_rnn")),
    )
    out = render_canvas_csv(graded, assignment="Assignment 4", gradebook=read_canvas_gradebook(export))
    rows = parsed(out.text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 4 (4411)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "100"
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["1001"][-1] == "85.5" and by_id["1002"][-1] == "70"
    assert by_id["1003"][-1] == "" and by_id["1003"][0] == "'=Evil, Eve"  # no submission: unchanged on import
    assert [r[1] for r in rows[2:]] == ["1001", "1002", "1003"]  # the export's students, in its order
    assert out.left_out == ("stranger_4242_1_rnn: no student of the Canvas gradebook matches; not in canvas.csv",)


def test_a_gradebook_student_with_no_submission_keeps_the_score_canvas_has(tmp_path):
    """Eve handed in by e-mail and was graded by hand (77): the class folder has no submission of hers, and
    canvas.csv must not clear her score with a blank cell."""
    export = tmp_path / "export.csv"
    export.write_text(EXPORT.replace('"=Evil, Eve",1003,,eve@kth.se,DD2424 VT26,,,', '"=Evil, Eve",1003,,eve@kth.se,DD2424 VT26,,77,77'),
                      encoding="utf-8-sig")
    graded = result(row("quistrita_1001_54321_rnn", 95.0, 95.0, parse_name("quistrita_1001_54321_rnn")))
    rows = parsed(render_canvas_csv(graded, assignment="Assignment 4", gradebook=read_canvas_gradebook(export)).text)
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["1001"][-1] == "95" and by_id["1003"][-1] == "77" and by_id["1002"][-1] == ""


def test_canvas_csv_matches_by_sis_id_or_canvas_name_and_can_add_a_new_assignment(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    graded = result(
        row("a", 50.0, 50.0, StudentIdentity(name="x", sis_id="u1rita")),
        row("smithalice", 60.0, 60.0, StudentIdentity(name="smithalice")),
    )
    out = render_canvas_csv(graded, assignment="RNN (new)", gradebook=read_canvas_gradebook(export))
    rows = parsed(out.text)
    assert rows[0][-1] == "RNN (new)"
    assert {r[1]: r[-1] for r in rows[2:]} == {"1001": "50", "1002": "60", "1003": ""}


def test_canvas_csv_without_an_export_uses_the_ids_the_file_names_carry():
    graded = result(row("quistrita_1001_54321_rnn", 95.0, 95.0, parse_name("quistrita_1001_54321_rnn")),
                    row("alice", 70.0, 70.0, StudentIdentity(name="alice")))
    out = render_canvas_csv(graded)
    rows = parsed(out.text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "RNN assignment"]
    assert rows[2][:2] == ["quistrita", "1001"] and rows[2][-1] == "95" and len(rows) == 3
    assert "alice: no Canvas ID or SIS ID" in out.left_out[0]


def test_a_file_that_is_no_canvas_export_is_refused(tmp_path):
    other = tmp_path / "grades.csv"
    other.write_text("name,score\nalice,3\n")
    with pytest.raises(CanvasError, match="not a Canvas gradebook export"):
        read_canvas_gradebook(other)


def test_moodle_csv_is_a_grading_worksheet_keyed_by_participant():
    graded = result(row("Rita Quist_1001_assignsubmission_file_", 95.0, 85.5,
                        parse_name("Rita Quist_1001_assignsubmission_file_"),
                        adjustments=(Adjustment(AdjustmentKind.LATE, -9.5, "1 day late"),)),
                    row("alice", 70.0, 70.0, StudentIdentity(name="alice")))
    out = render_moodle_csv(graded)
    rows = parsed(out.text)
    header = rows[0]
    assert header[:5] == ["Identifier", "Full name", "Email address", "Grade", "Maximum Grade"]
    assert rows[1][:5] == ["Participant 1001", "Rita Quist", "", "85.5", "100"]
    feedback = rows[1][header.index("Feedback comments")]
    assert "95 / 100" in feedback and "late: -9.5 (1 day late)" in feedback
    assert len(rows) == 2 and out.left_out[0].startswith("alice:")


ONE_ASSIGNMENT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,RNN (4411),Current Score,Final Score\r\n"
    "    Points Possible,,,,,100.00,(read only),(read only)\r\n"
    '"Anderson, Alice",1001,u1alice,alice@kth.se,DD2424 VT26,,,\r\n'
    '"Quist, Rita",1002,u1rita,rita@kth.se,DD2424 VT26,,,\r\n'
)


def test_a_gradebook_with_one_assignment_is_filled_without_naming_it(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(ONE_ASSIGNMENT)
    gradebook = read_canvas_gradebook(export)
    graded = result(row("andersonalice_1001", 90.0, 90.0, parse_name("andersonalice_1001_54321_rnn.py")))
    out = render_canvas_csv(graded, gradebook=gradebook)
    rows = parsed(out.text)
    assert rows[0][-1] == "RNN (4411)" and {r[1]: r[-1] for r in rows[2:]} == {"1001": "90", "1002": ""}
    assert out.left_out == ()


def test_a_gradebook_with_several_assignments_stops_the_run_and_lists_them(tmp_path, capsys):
    from grader import cli

    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    with pytest.raises(CanvasError, match=r"2 assignment columns \('Assignment 3 \(4410\)'; 'Assignment 4 \(4411\)'\)"):
        assignment_column(read_canvas_gradebook(export), None)
    class_dir, out = tmp_path / "class", tmp_path / "out"
    for name in ("alice", "bob"):
        (class_dir / name).mkdir(parents=True)
        (class_dir / name / "rnn.py").write_text("x = 1\n")
    assert cli.main([str(class_dir), "--out", str(out), "--canvas-gradebook", str(export), "--no-similarity"]) == 2
    printed = " ".join("".join(capsys.readouterr()).split())
    assert "'Assignment 3 (4410)'; 'Assignment 4 (4411)'" in printed and "--canvas-assignment" in printed
    assert not (out / "alice").exists()  # stopped before grading anyone
    # Named, it is used; a name the export lacks is a new Canvas assignment, and the warning says so.
    assert assignment_column(read_canvas_gradebook(export), "Assignment 3") == "Assignment 3 (4410)"
    new = render_canvas_csv(result(), assignment="RNN", gradebook=read_canvas_gradebook(export))
    assert "Canvas creates a new assignment" in new.left_out[0]


def test_the_gradebooks_names_replace_the_download_names(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(ONE_ASSIGNMENT)
    students = {"andersonalice_1001": parse_name("andersonalice_1001_54321_rnn.py"),
                "quistrita": StudentIdentity(name="quistrita"), "stranger": StudentIdentity(name="stranger")}
    named = with_gradebook_names(students, read_canvas_gradebook(export))
    assert {k: v.name for k, v in named.items()} == {"andersonalice_1001": "Anderson, Alice", "quistrita": "Quist, Rita",
                                                     "stranger": "stranger"}
    assert named["andersonalice_1001"].student_id == "1001"


def test_moodle_csv_has_the_three_columns_moodles_worksheet_upload_requires_and_a_time_it_reads(tmp_path):
    """Moodle's importer (mod/assign/feedback/offline/importgradeslib.php, init) refuses a worksheet without
    an "Identifier", a "Grade" and a "Last modified (grade)" column; the last is read with PHP's strtotime and a
    grade changed in Moodle after it is kept unless the teacher ticks "Allow updating records that have been
    modified more recently in Moodle than in the spreadsheet"."""
    import datetime as dt

    written = dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.UTC)
    graded = result(row("Rita Quist_1001_assignsubmission_file", 95.0, 95.0,
                        parse_name("Rita Quist_1001_assignsubmission_file")))
    rows = parsed(render_moodle_csv(graded, written=written).text)
    assert {"Identifier", "Grade", "Last modified (grade)"} <= set(rows[0])
    cell = rows[1][rows[0].index("Last modified (grade)")]
    assert dt.datetime.fromisoformat(cell) == written  # ISO 8601 with its offset: strtotime reads it whatever the server's zone


def test_a_canvas_export_separated_by_semicolons_is_read_as_canvas_reads_it(tmp_path):
    """Canvas writes its gradebook export with ";" when the teacher's "Use semicolons to separate fields in
    Gradebook Exports" is on (or autodetected for a decimal-comma language), and its importer detects it
    (GradebookImporter#identify_delimiter): such an export is as good as a comma-separated one."""
    export = tmp_path / "export.csv"
    export.write_text(ONE_ASSIGNMENT.replace(",", ";").replace("100.00", "100,00")
                      .replace('"Anderson; Alice"', '"Anderson, Alice"').replace('"Quist; Rita"', '"Quist, Rita"'),
                      encoding="utf-8-sig")
    gradebook = read_canvas_gradebook(export)
    assert gradebook.header[:2] == ("Student", "ID") and [s["ID"] for s in gradebook.students] == ["1001", "1002"]
    assert gradebook.students[0]["Student"] == "Anderson, Alice"
    graded = result(row("quistrita_1002", 90.0, 90.0, parse_name("quistrita_1002_54321_rnn.py")))
    rows = parsed(render_canvas_csv(graded, gradebook=gradebook).text)
    assert rows[0][-1] == "RNN (4411)" and {r[1]: r[-1] for r in rows[2:]} == {"1001": "", "1002": "90"}


def test_a_submission_the_grader_failed_on_has_no_line_in_canvas_csv_nor_in_moodle_csv(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    failed = dict(problem=Problem.GRADER_FAILED, problem_detail="The grader itself failed on this submission (...)")
    graded = result(
        row("quistrita_1001_54321_rnn", 0.0, 0.0, parse_name("quistrita_1001_54321_rnn"), **failed),
        row("smithalice_1002_55555_rnn", 70.0, 70.0, parse_name("smithalice_1002_55555_rnn")),
        row("Bo Ek_77_assignsubmission_file_", 0.0, 0.0, parse_name("Bo Ek_77_assignsubmission_file_"), **failed),
    )
    # Rita's 90 in Assignment 3 stays as Canvas has it: no line, not a blank (a blank against a score is a change).
    with_export = parsed(render_canvas_csv(graded, assignment="Assignment 3", gradebook=read_canvas_gradebook(export)).text)
    assert [r[1] for r in with_export[2:]] == ["1002", "1003"]
    assert [r[1] for r in parsed(render_canvas_csv(graded).text)[2:]] == ["1002"]
    moodle = render_moodle_csv(graded)
    assert parsed(moodle.text)[1:] == [] and moodle.left_out == ("smithalice_1002_55555_rnn: no Moodle participant "
                                                                 "number is known (from the folder name or the mapping file)",)


def test_two_submissions_of_one_canvas_student_leave_both_out_of_canvas_csv_instead_of_two_rows():
    # A Canvas download where the teacher also unpacked the student's zip beside it: the flat files and the
    # folder are two entries of user 1001. Two rows of one ID with different grades were written, and
    # which one Canvas's import keeps is not the grader's to guess.
    graded = result(row("quistrita_1001", 100.0, 100.0, parse_name("quistrita_1001_54320_rnn.py")),
                    row("quistrita_1001_54321_submission", 86.8, 86.8, parse_name("quistrita_1001_54321_submission")),
                    row("smithjohn_1002", 70.0, 70.0, parse_name("smithjohn_1002_54322_rnn.py")),
                    row("sis_twin", 50.0, 50.0, StudentIdentity(name="Twin", sis_id="u1john", source="mapping file")),
                    row("sis_first", 60.0, 60.0, StudentIdentity(name="Twin", sis_id="u1john", source="mapping file")))
    out = render_canvas_csv(graded)
    rows = parsed(out.text)
    assert [r[1] for r in rows[2:]] == ["1002"]
    assert out.left_out == (
        "quistrita_1001: the same Canvas student as quistrita_1001_54321_submission; neither is in the file",
        "quistrita_1001_54321_submission: the same Canvas student as quistrita_1001; neither is in the file",
        "sis_twin: the same Canvas student as sis_first; neither is in the file",
        "sis_first: the same Canvas student as sis_twin; neither is in the file",
    )


def test_two_submissions_of_one_moodle_participant_leave_both_out_of_moodle_csv():
    graded = result(row("Rita Quist_77", 100.0, 100.0, parse_name("Rita Quist_77_assignsubmission_file_rnn.py")),
                    row("Rita Quist_77_assignsubmission_file", 86.8, 86.8,
                        parse_name("Rita Quist_77_assignsubmission_file")),
                    row("Bo Ek_78_assignsubmission_file", 90.0, 90.0, parse_name("Bo Ek_78_assignsubmission_file")))
    out = render_moodle_csv(graded)
    assert [r[0] for r in parsed(out.text)[1:]] == ["Participant 78"]
    assert out.left_out == (
        "Rita Quist_77: the same Moodle participant as Rita Quist_77_assignsubmission_file; neither is in the file",
        "Rita Quist_77_assignsubmission_file: the same Moodle participant as Rita Quist_77; neither is in the file",
    )


def test_a_canvas_export_with_separate_last_and_first_name_columns_is_read_and_kept(tmp_path):
    """Canvas exports "LastName", "FirstName" instead of "Student" when the teacher asks for split names
    (lib/gradebook_exporter.rb, show_student_first_last_name); its points-possible row starts in LastName."""
    export = tmp_path / "export.csv"
    export.write_text(
        "LastName,FirstName,ID,SIS User ID,SIS Login ID,Section,Assignment 4 (4411),Current Score\r\n"
        "    Points Possible,,,,,,100.00,(read only)\r\n"
        "Quist,Rita,1001,u1rita,rita@kth.se,DD2424 VT26,,90\r\n"
        ",Mononym,1002,u1mono,mono@kth.se,DD2424 VT26,,80\r\n", encoding="utf-8-sig")
    gradebook = read_canvas_gradebook(export)
    assert [s["ID"] for s in gradebook.students] == ["1001", "1002"]  # an empty last name is still a student
    graded = result(row("quistrita_1001_54321_rnn", 95.0, 95.0, parse_name("quistrita_1001_54321_rnn")),
                    row("x", 60.0, 60.0, StudentIdentity(name="mononym")))
    assert with_gradebook_names({"q": parse_name("quistrita_1001_54321_rnn")}, gradebook)["q"].name == "Quist, Rita"
    rows = parsed(render_canvas_csv(graded, gradebook=gradebook).text)
    assert rows[0] == ["LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 4 (4411)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "100"
    assert [r[:3] + r[-1:] for r in rows[2:]] == [["Quist", "Rita", "1001", "95"], ["", "Mononym", "1002", "60"]]


def _worksheet(tmp_path, participants):
    path = tmp_path / "worksheet.csv"
    path.write_text(moodle_worksheet(participants), encoding="utf-8")
    return read_moodle_worksheet(path)


def moodle_row(folder, final):
    return dataclasses.replace(row(folder, final, final, parse_name(folder)), source=folder)


def test_a_moodle_team_folders_grade_goes_to_each_member_the_worksheet_lists(tmp_path):
    """downloader.php names a team's folder after the group and its group ID: 4242 is Åsa's participant
    number here, and must not get Team 7's grade."""
    worksheet = _worksheet(tmp_path, [(1001, "Rita Quist", "rita@kth.se", "Team 7"), (1002, "Bo Ek", "bo@kth.se", "Team 7"),
                                 (4242, "Åsa Öberg", "asa@kth.se", "Lab 2"), (1003, "Carl Lind", "", "Default group")])
    graded = result(moodle_row(moodle_team_folder_name("Team 7", 4242), 80.0),
                    moodle_row(moodle_team_folder_name("Default group", None), 50.0),
                    moodle_row(moodle_team_folder_name("Team 9", 17), 99.0))
    out = render_moodle_csv(graded, worksheet=worksheet)
    rows = parsed(out.text)[1:]
    assert [r[:4] for r in rows] == [["Participant 1001", "Rita Quist", "rita@kth.se", "80"],
                                     ["Participant 1002", "Bo Ek", "bo@kth.se", "80"],
                                     ["Participant 1003", "Carl Lind", "", "50"]]
    assert out.left_out == ("Team 9_17_assignsubmission_file: no group of the grading worksheet is named 'Team 9'",)
    assert out.notes == ()


def test_grades_csv_gives_a_moodle_team_a_row_for_each_member_with_its_group_as_moodles_worksheet_does(tmp_path):
    """Moodle's worksheet has a row per participant and, in a team assignment, a Group column: grades.csv too,
    never the group's ID (here Åsa's participant number) as a student's."""
    worksheet = _worksheet(tmp_path, [(1001, "Rita Quist", "rita@kth.se", "Team 7"), (1002, "Bo Ek", "bo@kth.se", "Team 7"),
                                 (4242, "Åsa Öberg", "asa@kth.se", "Lab 2")])
    graded = result(moodle_row(moodle_team_folder_name("Team 7", 4242), 80.0),
                    moodle_row(moodle_team_folder_name("Team 9", 17), 99.0),
                    row("pair", 60.0, 60.0, StudentIdentity(name="pair", student_id="1001 & 1002", source=MAPPING)))
    rows = [r[:5] for r in parsed(render_grades_csv(graded, worksheet=worksheet))]
    assert rows == [["name", "student", "student_id", "group", "raw_score"],
                    ["Team 7_4242_assignsubmission_file", "Rita Quist", "1001", "Team 7", "80"],
                    ["Team 7_4242_assignsubmission_file", "Bo Ek", "1002", "Team 7", "80"],
                    ["Team 9_17_assignsubmission_file", "Team 9", "", "Team 9", "99"],
                    ["pair", "pair", "1001 & 1002", "", "60"]]
    # Without a team worksheet a row is a submission, as named.
    for given in (None, _worksheet(tmp_path, [(4242, "Åsa Öberg", "asa@kth.se", None)])):
        assert [r[:4] for r in parsed(render_grades_csv(graded, worksheet=given))][:2] == [
            ["name", "student", "student_id", "raw_score"], ["Team 7_4242_assignsubmission_file", "Team 7", "4242", "80"]]


def test_without_the_worksheet_a_team_download_gets_no_moodle_grades_and_says_what_to_pass(tmp_path):
    graded = result(moodle_row(moodle_team_folder_name("Team 7", 4242), 80.0),
                    moodle_row(moodle_team_folder_name("Default group", None), 50.0))
    out = render_moodle_csv(graded)
    assert parsed(out.text) == [list(COLUMNS)]  # no "Participant 4242": a group ID is no participant's number
    assert len(out.notes) == 1 and "--moodle-worksheet" in out.notes[0] and "Default group_assignsubmission_file" in out.notes[0]
    # A download the names cannot tell from a team's: written, with one note saying what a team assignment needs.
    out = render_moodle_csv(result(moodle_row(moodle_team_folder_name("Team 7", 4242), 80.0)))
    assert parsed(out.text)[1][:2] == ["Participant 4242", "Team 7"]
    assert len(out.notes) == 1 and "team assignment" in out.notes[0] and "--moodle-worksheet" in out.notes[0]


def test_an_individual_worksheet_names_the_participants_and_keeps_out_numbers_it_lacks(tmp_path):
    worksheet = _worksheet(tmp_path, [(1001, "Rita Quist", "rita@kth.se", None)])
    graded = result(moodle_row("R Q_1001_assignsubmission_file", 80.0), moodle_row("X Y_1009_assignsubmission_file", 70.0),
                    row("pair", 60.0, 60.0, StudentIdentity(name="pair", student_id="1001 & 1002", source=MAPPING)))
    out = render_moodle_csv(graded, worksheet=worksheet)
    assert [r[:4] for r in parsed(out.text)[1:]] == [["Participant 1001", "Rita Quist", "rita@kth.se", "80"]]
    assert out.left_out == ("X Y_1009_assignsubmission_file: Participant 1009 is not in the grading worksheet",
                            "pair: Participant 1002 is not in the grading worksheet")


def test_a_team_sharing_a_participant_with_another_submission_is_left_out_whole():
    graded = result(row("a", 60.0, 60.0, StudentIdentity(name="a", student_id="1001 & 1002", source=MAPPING)),
                    moodle_row("Bo Ek_1002_assignsubmission_file", 70.0),
                    moodle_row("Carl Lind_1003_assignsubmission_file", 80.0))
    out = render_moodle_csv(graded)
    assert [r[0] for r in parsed(out.text)[1:]] == ["Participant 1003"]
    assert out.left_out == (
        "a: the same Moodle participant as Bo Ek_1002_assignsubmission_file; neither is in the file",
        "Bo Ek_1002_assignsubmission_file: the same Moodle participant as a; neither is in the file")
