"""Canvas and Moodle downloads as they really come: every student a row and an LMS cell, each student's files
put together under the names the student gave them, whatever the LMS did to those names."""

import csv
import dataclasses
import io
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.batch.run import grade_class
from grader.batch.workflow import ClassWorkflow
from grader.files.lms_names import read_upload_name
from grader.intake import Reading, prepare
from grader.intake.locate import read_path
from grader.lms.moodle import read_moodle_worksheet
from grader.results import CheckResult, SubmissionResult

from .fakes import CHECKS
from .lms_downloads import (
    CanvasStudent,
    canvas_download,
    canvas_file_name,
    moodle_folder_name,
    moodle_team_folder_name,
    moodle_worksheet,
    notebook,
    zip_of,
)

ASSIGNMENT = shipped()
FUNCTIONS = tuple(ASSIGNMENT.functions)


def listing_grade(path, assignment, **options) -> SubmissionResult:
    """Intake as the grader runs it (the submission prepared for the sandbox), the sandbox left out: the first
    check's feedback lists the prepared folder, the graded file and intake's notes."""
    with prepare(path, tuple(assignment.functions)) as prepared:
        listing = sorted(p.relative_to(prepared.folder).as_posix() for p in prepared.folder.rglob("*") if p.is_file())
        feedback = f"{prepared.graded_file} | {' '.join(listing)} | {' / '.join(prepared.notes)}"
    checks = (CheckResult(CHECKS[0][0], CHECKS[0][1], CHECKS[0][2], CHECKS[0][2], "visible", feedback=feedback),
              CheckResult(CHECKS[1][0], CHECKS[1][1], CHECKS[1][2], CHECKS[1][2], "visible"))
    return SubmissionResult(name=Path(path).name, checks=checks, score=10.0, max_score=10.0, isolation_tier="fake",
                            isolation_description="not run", execution_time=0.1, grader_version="test", spec_digest="test")


RNN = "def init_params(m, K, sigma, rng):\n    return {}\n"
STUDENTS = [
    CanvasStudent("Anderson, Alice", 1001, {"rnn.py": RNN}),
    # A multi-file upload: each file prefixed on its own, with its own attachment ID.
    CanvasStudent("Park, Peter", 1016, {"rnn.py": "import model\n" + RNN, "model.py": "X = 1\n", "report.pdf": b"%PDF"}),
    # Uploaded again under names Canvas had seen: rnn-1.py, model-1.py; and marked late.
    CanvasStudent("Quist, Rita", 1002, {"rnn-1.py": "from model import X\n" + RNN, "model-1.py": "X = 2\n"}, late=True),
    CanvasStudent("Öberg, Åsa", 1003, {"RNN assignment.ipynb": notebook(RNN)}),
    CanvasStudent("Smith, Bob", 1004, {"rnn.zip": zip_of({"bob/rnn.py": RNN, "bob/model.py": "X = 3\n"})}),
    CanvasStudent("Lind, Carl", 1005, {"rnn.py": "def init_params(m, K, sigma, rng)\n    return {}\n"}),
    CanvasStudent("", 0, {"rnn.py": RNN}, anonymous_id="Xy12z"),
]


def _feedback(out, name) -> tuple[str, str, str]:
    from grader.batch.store import previous_result

    return tuple(previous_result(out, name).checks[0].feedback.split(" | "))


@pytest.mark.parametrize("other", [
    "Rnn_1001_54321_x.py",  # Canvas lower-cases the name
    "my_rnn_1001_54321_x.py", "rnn (1)_1001_54321_x.py",  # the sortable name's word characters, "_" taken apart
    "quistrita_Late_1001_54321_x.py",  # "late" or "LATE"
    "quistrita_01001_54321_x.py", "quistrita_1001_054321_x.py",  # IDs as numbers print
])
def test_a_name_canvas_would_not_write_is_not_read_as_canvas(other):
    assert read_upload_name(other) is None


def test_canvas_names_are_read_as_canvas_writes_them():
    name = canvas_file_name("Quist, Rita", 1002, 54400, "rnn-1.py", late=True)
    assert name == "quistrita_LATE_1002_54400_rnn-1.py"
    upload = read_upload_name(name)
    assert (upload.name, upload.student_id, upload.late, upload.original) == ("quistrita", "1002", True, "rnn-1.py")
    assert read_upload_name(canvas_file_name("Öberg, Åsa", 7, 8, "a: b?.py")).original == "a_ b_.py"
    assert read_upload_name(canvas_file_name("Öberg, Åsa", 7, 8, "x.py")).name == "öbergåsa"
    anonymous = read_upload_name(canvas_file_name("", 0, 9, "rnn.py", anonymous_id="Xy12z", late=True))
    assert (anonymous.name, anonymous.student_id, anonymous.late) == ("", "anon_Xy12z", True)
    old_style = read_upload_name("quistrita_late_1002_54400_rnn.py")  # Canvas before 2019 lower-cased "late" too
    assert (old_style.student_id, old_style.late) == ("1002", True)
    assert read_upload_name("lindcarl_1005_text.html").original == "text.html"  # a text entry
    for other in ("rnn.py", "notes_2024.txt", "hw_3.py", "Rita Quist_77_assignsubmission_file_"):
        assert read_upload_name(other) is None


def test_a_canvas_group_or_a_name_with_digits_or_combining_marks_is_read_as_canvas_writes_it(tmp_path):
    """Canvas names a group submission's files after the group ("Group 3": group3_USERID_...), and keeps a
    name's digits and combining marks (Ruby's [[:word:]]): such a student's files are theirs, not stray files."""
    from grader.batch.discover import FILES, discover

    students = [CanvasStudent("Group 3", 1001, {"rnn.py": RNN, "model.py": "X = 1\n"}),
                CanvasStudent("ศรีสุข, สมชาย", 1002, {"rnn.py": RNN}, late=True),
                CanvasStudent("Lind 2, Carl", 1003, {"rnn.py": RNN})]
    canvas_download(tmp_path / "download", students)
    assert read_upload_name(canvas_file_name("Group 3", 1001, 7, "rnn.py")).student == "group3_1001"
    for group in ("123", "2023"):  # digits alone read as the name, on time or late, as Canvas writes them
        on_time, late = (read_upload_name(canvas_file_name(group, 1001, 54321, "rnn.py", late=is_late))
                         for is_late in (False, True))
        assert (on_time.student, on_time.original, on_time.attachment) == (f"{group}_1001", "rnn.py", "54321")
        assert (late.student, late.late) == (f"{group}_1001", True)
    found = discover(tmp_path / "download")
    assert found.ignored == ()
    assert sorted((e.name, e.kind, len(e.files)) for e in found.entries) == [
        ("group3_1001", FILES, 2), ("lind2carl_1003", FILES, 1), ("ศรีสุขสมชาย_1002", FILES, 1)]


def test_a_download_unzipped_over_an_earlier_one_grades_each_students_latest_upload_under_its_name(tmp_path):
    """A download holds a student's latest submission only, and Canvas names a file uploaded again rnn-1.py;
    unzipped over an earlier download, the folder holds both rnn.py and rnn-1.py. Canvas numbers attachments
    as they are made, so the higher attachment ID is the later upload: it is the rnn.py graded."""
    from grader.batch.discover import discover

    folder = tmp_path / "download"
    canvas_download(folder, [CanvasStudent("Quist, Rita", 1002, {"rnn.py": "# first\n", "model.py": "X = 1\n"})])
    late = [CanvasStudent("Quist, Rita", 1002, {"rnn-1.py": "# again\n", "model-1.py": "X = 2\n"}, late=True)]
    for path in folder.iterdir():  # the later download's attachment IDs are higher
        path.rename(folder / path.name.replace("_5432", "_1432"))
    canvas_download(folder, late)
    (rita,) = discover(folder).entries
    staged = {name: path.read_text() for name, path in rita.files}
    assert staged["rnn.py"] == "# again\n" and staged["model.py"] == "X = 2\n"
    assert sorted(staged) == ["model (2).py", "model.py", "rnn (2).py", "rnn.py"]


def test_a_flat_canvas_download_is_a_class_of_one_row_per_student(tmp_path):
    folder, out = tmp_path / "download", tmp_path / "out"
    written = canvas_download(folder, STUDENTS)
    (folder / "grading notes.txt").write_text("the TA's own file")
    # What macOS's unzip and Finder leave beside the download: never a student, never a stray file to list.
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / f"._{written['1001'][0]}").write_bytes(b"\0\5\26\7")
    reading = read_path(folder, FUNCTIONS)
    assert reading.reading is Reading.CLASS and "7 students' files named by Canvas" in reading.summary
    assert reading.notes == ()  # no advice to grade it as one submission
    result = grade_class(folder, out, ASSIGNMENT, jobs=1, grade=listing_grade, progress=False,
                         workflow=ClassWorkflow(similarity=False))
    rows = {s.name: s for s in result.submissions}
    assert sorted(rows) == ["andersonalice_1001", "anon_Xy12z", "lindcarl_1005", "parkpeter_1016", "quistrita_1002",
                            "smithbob_1004", "öbergåsa_1003"]
    assert result.ignored == ("grading notes.txt",)
    assert _feedback(out, "parkpeter_1016")[:2] == ("rnn.py", "model.py report.pdf rnn.py")
    graded, listing, notes = _feedback(out, "quistrita_1002")
    assert (graded, listing) == ("rnn.py", "model.py rnn.py") and "name your file" not in notes
    assert rows["quistrita_1002"].note == "graded rnn-1.py as rnn.py, model-1.py as model.py"
    assert _feedback(out, "öbergåsa_1003")[0] == "RNN assignment.ipynb"
    assert _feedback(out, "smithbob_1004")[:2] == ("bob/rnn.py", "model.py rnn.py")  # bob/ holds it
    assert rows["quistrita_1002"].student.late_marked and not rows["andersonalice_1001"].student.late_marked
    canvas = list(csv.DictReader(io.StringIO((out / "canvas.csv").read_text(), newline="")))
    cells = {r["ID"]: r["RNN assignment"] for r in canvas[1:]}
    assert cells == {"1001": "10", "1016": "10", "1002": "10", "1003": "10", "1004": "10", "1005": "10"}
    assert any("anon_Xy12z: no Canvas ID" in w for w in result.warnings)  # anonymous: Canvas matches no one


@pytest.mark.long
def test_a_rerun_after_a_resubmission_regrades_only_that_student_in_the_same_folder(tmp_path):
    folder, out = tmp_path / "download", tmp_path / "out"
    canvas_download(folder, STUDENTS[:2])
    options = {"jobs": 2, "grade": listing_grade, "progress": False, "workflow": ClassWorkflow(similarity=False)}
    grade_class(folder, out, ASSIGNMENT, **options)
    for path in folder.glob("andersonalice_*"):
        path.unlink()
    canvas_download(folder, [CanvasStudent("Anderson, Alice", 1001, {"rnn-1.py": RNN + "# again\n"}, late=True)])
    again = grade_class(folder, out, ASSIGNMENT, **options)
    assert [(s.name, s.reused) for s in again.submissions] == [("andersonalice_1001", False), ("parkpeter_1016", True)]


def test_a_students_flat_files_travel_to_a_cluster_worker_as_the_folder_they_make(tmp_path):
    from grader.batch.discover import FILES, discover
    from grader.batch.task import Task, _materialize, pack_files

    canvas_download(tmp_path / "download", [STUDENTS[1], STUDENTS[4]])
    peter, bob = discover(tmp_path / "download").entries
    for entry, expected in ((peter, ["model.py", "report.pdf", "rnn.py"]), (bob, ["bob"])):
        assert entry.kind == FILES
        scratch = tmp_path / entry.name
        scratch.mkdir()
        folder = _materialize(Task(entry.name, FILES, str(entry.path), payload=pack_files(entry.files)), scratch)
        assert sorted(p.name for p in folder.iterdir()) == expected


def test_one_students_flat_files_are_one_submission_with_canvas_names_taken_off(tmp_path):
    folder = tmp_path / "peter"
    canvas_download(folder, [STUDENTS[1]])
    reading = read_path(folder, FUNCTIONS)
    assert reading.reading is Reading.SINGLE and "named for parkpeter" in reading.summary
    with prepare(folder, FUNCTIONS) as prepared:
        assert prepared.graded_file == "rnn.py" and prepared.name == "peter"
        assert sorted(p.name for p in prepared.folder.iterdir()) == ["model.py", "report.pdf", "rnn.py"]
        assert not prepared.notes


def test_two_students_flat_files_are_never_one_submission(tmp_path):
    folder = tmp_path / "two"
    canvas_download(folder, [STUDENTS[0], dataclasses.replace(STUDENTS[0], sortable_name="Berg, Bo", user_id=1009)])
    assert read_path(folder, FUNCTIONS).reading is Reading.CLASS


@pytest.mark.long
@pytest.mark.parametrize("moodle4", [False, True])
def test_a_moodle_download_gives_each_participant_one_row_and_a_worksheet_line(tmp_path, moodle4):
    folder, out = tmp_path / "download", tmp_path / "out"
    for full_name, participant in (("Rita Quist", 1001), ("Group A-Bo Ek", 1002), ("Participant", 1003)):
        files = folder / moodle_folder_name(full_name, participant, moodle4=moodle4)
        files.mkdir(parents=True)
        (files / "rnn.py").write_text(RNN)
    text = folder / moodle_folder_name("Rita Quist", 1001, "onlinetext", moodle4=moodle4)
    text.mkdir()
    (text / "onlinetext.html").write_text("<p>see my files</p>")
    # With "download submissions in folders" off: flat files, prefixed.
    (folder / "Åsa Öberg_1004_assignsubmission_file_rnn.py").write_text("import helpers\n" + RNN)
    (folder / "Åsa Öberg_1004_assignsubmission_file_helpers.py").write_text("X = 1\n")
    (folder / "Åsa Öberg_1004_assignsubmission_onlinetext_onlinetext.html").write_text("<p>hi</p>")
    result = grade_class(folder, out, ASSIGNMENT, jobs=1, grade=listing_grade, progress=False,
                         workflow=ClassWorkflow(similarity=False))
    rows = {s.name: s for s in result.submissions}
    assert len(rows) == 4
    rita = rows[moodle_folder_name("Rita Quist", 1001, moodle4=moodle4)]
    assert "not graded: " + text.name in rita.note
    assert _feedback(out, "Åsa Öberg_1004")[:2] == ("rnn.py", "helpers.py onlinetext.html rnn.py")
    worksheet = list(csv.DictReader(io.StringIO((out / "moodle.csv").read_text(), newline="")))
    assert {r["Identifier"]: r["Full name"] for r in worksheet} == {
        "Participant 1001": "Rita Quist", "Participant 1002": "Group A-Bo Ek", "Participant 1003": "Participant",
        "Participant 1004": "Åsa Öberg"}


SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
SOFTMAX = "def softmax(o):\n    e = np.exp(o - np.max(o))\n    return e / np.sum(e)\n"


@pytest.mark.slow
def test_a_canvas_download_is_graded_for_real_as_the_readme_says(tmp_path, capsys):
    """`python -m grader download/ --out out` on Canvas's own names: a helper module imported by its own name
    (also after a resubmission renamed it), a notebook, a zip, a syntax error, a late mark."""
    from grader import cli

    alice = (SUBMISSIONS / "alice" / "rnn.py").read_text()
    assert SOFTMAX in alice
    split = alice.replace(SOFTMAX, "")
    folder, out = tmp_path / "download", tmp_path / "out"
    canvas_download(folder, [
        CanvasStudent("Park, Peter", 1016, {"rnn.py": "from model import softmax\n" + split,
                                            "model.py": "import numpy as np\n\n\n" + SOFTMAX}),
        CanvasStudent("Quist, Rita", 1002, {"rnn-1.py": "from helpers import softmax\n" + split,
                                            "helpers-1.py": "import numpy as np\n\n\n" + SOFTMAX}, late=True),
        CanvasStudent("Öberg, Åsa", 1003, {"RNN assignment.ipynb": notebook(alice, "print(train)")}),
        CanvasStudent("Smith, Bob", 1004, {"rnn.zip": zip_of({"bob/rnn.py": alice})}),
        CanvasStudent("Lind, Carl", 1005, {"rnn.py": alice.replace("def forward(params, X, Y, h0):",
                                                                     "def forward(params, X, Y, h0)")}),
    ])
    out.mkdir()
    (out / "late-policy.yaml").write_text("deadline: 2026-03-01T23:59:00+01:00\npercent_per_day: 10\n")
    assert cli.main([str(folder), "--out", str(out), "--jobs", "2", "--no-similarity"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "as a class (5 students' files named by Canvas" in printed
    grades = {r["name"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text(), newline=""))}
    full = grades["parkpeter_1016"]["max_score"]
    for name in ("parkpeter_1016", "quistrita_1002", "öbergåsa_1003", "smithbob_1004"):
        assert grades[name]["raw_score"] == full, (name, grades[name]["problem"])
    assert grades["quistrita_1002"]["late_days"] == "1" and float(grades["quistrita_1002"]["final_score"]) == 0.9 * float(full)
    carl = grades["lindcarl_1005"]
    assert carl["raw_score"] == "0" and "syntax error" in carl["problem"].lower()
    canvas = {r["ID"]: r["RNN assignment"] for r in csv.DictReader(io.StringIO((out / "canvas.csv").read_text(), newline=""))}
    assert canvas["1005"] == "0" and canvas["1016"] == full and set(canvas) >= {"1002", "1003", "1004", "1005", "1016"}
    report = (out / "quistrita_1002" / "report.html").read_text()
    assert "name your file" not in report and "quistrita_LATE" not in report


def test_the_similarity_report_reads_a_students_flat_files_and_zips(tmp_path):
    from grader.batch.discover import discover
    from grader.similarity.sources import read_code

    canvas_download(tmp_path / "download", [STUDENTS[1], STUDENTS[4]])
    peter, bob = discover(tmp_path / "download").entries
    peters = read_code(peter.sources).text
    assert "import model" in peters and "X = 1" in peters and "%PDF" not in peters
    assert "# file: bob/model.py" in read_code(bob.sources).text


def test_canvas_download_zip_or_its_folder_one_level_down_is_never_graded_as_one_submission(tmp_path):
    from grader.intake import NotFound

    canvas_download(tmp_path / "class" / "submissions", STUDENTS[:3])
    with pytest.raises(NotFound, match=r"holds only submissions/, Canvas's download of 3 students' submissions"):
        read_path(tmp_path / "class", FUNCTIONS)
    archive = tmp_path / "dd2424-a4 submissions.zip"
    archive.write_bytes(zip_of({p.name: p.read_text() for p in (tmp_path / "class" / "submissions").iterdir()}))
    with pytest.raises(NotFound, match=r"is Canvas's download of 3 students' submissions: unzip it"):
        read_path(archive, FUNCTIONS)
    one = tmp_path / "one.zip"
    one.write_bytes(zip_of({"rnn.py": RNN}))
    assert read_path(one, FUNCTIONS).reading is Reading.SINGLE


@pytest.mark.parametrize("files", [
    {"rnn": "notes\n", "rnn.zip": zip_of({"rnn.py": RNN})},  # the file staged first, then the zip
    {"rnn.zip": zip_of({"rnn.py": RNN}), "rnn": "notes\n"},  # the zip first, then the file
    {"..zip": zip_of({"rnn.py": RNN}), "model.py": "X = 1\n"},
])
def test_a_zip_beside_a_file_of_its_stem_or_named_dot_zip_is_unpacked_into_a_folder_of_its_own(tmp_path, files):
    from grader.files.flat import stage
    from grader.intake.locate import lms_students

    canvas_download(tmp_path / "download", [CanvasStudent("Smith, John", 1234, files)])
    (student,) = lms_students(tmp_path / "download")
    (tmp_path / "staged").mkdir()
    stage(student.files, tmp_path / "staged")
    zipped = next(name for name in files if name.endswith(".zip"))
    folder = tmp_path / "staged" / (zipped if zipped == "..zip" else "rnn.zip")
    assert (folder / "rnn.py").read_text() == RNN
    assert sorted(p.name for p in (tmp_path / "staged").iterdir()) == sorted(files)


def test_a_students_files_that_cannot_be_packed_for_a_cluster_are_that_submissions_result(tmp_path, monkeypatch):
    from grader.batch import run
    from grader.batch.discover import discover
    from grader.sandbox import Policy

    canvas_download(tmp_path / "download", [STUDENTS[1], CanvasStudent("Smith, John", 1234, {
        "rnn": "notes\n", "rnn.zip": zip_of({"rnn.py": RNN})})])
    peter, john = discover(tmp_path / "download").entries
    task, _ = run._task(john, ASSIGNMENT, None, True, Policy.strict)
    assert not task.refused and task.payload
    monkeypatch.setattr(run, "pack_files", lambda files: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    task, _ = run._task(peter, ASSIGNMENT, None, True, Policy.strict)
    assert task.refused == "it could not be read (Permission denied)"


@pytest.mark.long
@pytest.mark.parametrize("given", [True, False])
def test_a_moodle_team_download_grades_every_member_from_the_worksheet_or_writes_no_grades(tmp_path, given):
    """Moodle 4.x's team download: one folder per team, named after the group and its group ID (4242, here also
    Åsa's participant number: the bug gave her Team 7's grade). With the worksheet each member of a team gets
    its grade; without it moodle.csv holds no grades and the warning says what to pass."""
    folder, out = tmp_path / "download", tmp_path / "out"
    for group, group_id in (("Team_7", 4242), ("Lab 2", 88), ("Default group", None)):
        files = folder / moodle_team_folder_name(group, group_id)
        files.mkdir(parents=True)
        (files / "rnn.py").write_text(RNN)
        text = folder / moodle_team_folder_name(group, group_id, "onlinetext")  # a team's online text: no submission
        text.mkdir()
        (text / "onlinetext.html").write_text("<p>our files</p>")
    path = tmp_path / "Grading worksheet-DD2424-RNN-77.csv"
    path.write_text(moodle_worksheet([(1001, "Rita Quist", "rita@kth.se", "Team_7"), (1002, "Bo Ek", "bo@kth.se", "Team_7"),
                                      (4242, "Åsa Öberg", "asa@kth.se", "Lab 2"), (1003, "Carl Lind", "", "Default group")]))
    workflow = ClassWorkflow(similarity=False, moodle_worksheet=read_moodle_worksheet(path) if given else None)
    result = grade_class(folder, out, ASSIGNMENT, jobs=1, grade=listing_grade, progress=False, workflow=workflow)
    assert sorted(s.name for s in result.submissions) == [moodle_team_folder_name(*team) for team in (
        ("Default group", None), ("Lab 2", 88), ("Team_7", 4242))]
    assert all("not graded: " in s.note for s in result.submissions)
    worksheet = list(csv.DictReader(io.StringIO((out / "moodle.csv").read_text(), newline="")))
    moodle_warnings = [w for w in result.warnings if w.startswith("moodle.csv: ")]
    if given:
        assert {r["Identifier"]: (r["Full name"], r["Grade"]) for r in worksheet} == {
            "Participant 1001": ("Rita Quist", "10"), "Participant 1002": ("Bo Ek", "10"),
            "Participant 4242": ("Åsa Öberg", "10"), "Participant 1003": ("Carl Lind", "10")}
        assert moodle_warnings == []
        grades = csv.DictReader(io.StringIO((out / "grades.csv").read_text(), newline=""))
        assert sorted((r["student_id"], r["student"], r["group"]) for r in grades) == [
            ("1001", "Rita Quist", "Team_7"), ("1002", "Bo Ek", "Team_7"), ("1003", "Carl Lind", "Default group"),
            ("4242", "Åsa Öberg", "Lab 2")]
    else:
        assert worksheet == []
        assert len(moodle_warnings) == 1 and "--moodle-worksheet" in moodle_warnings[0]
