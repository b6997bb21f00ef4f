import json
import os

import pytest

from grader.outputs import (
    OutputError,
    default_out_dir,
    read_instructor_json,
    write_atomically,
    write_outputs,
)
from grader.results import SubmissionResult, student_copy


def test_writes_the_results_and_both_copies_of_the_report_and_says_where(tmp_path, result):
    paths = write_outputs(result, tmp_path / "out" / "alice")
    assert paths == {"results": tmp_path / "out/alice/results.json", "report": tmp_path / "out/alice/report.html",
                     "instructor": tmp_path / "out/alice/report-instructor.html",
                     "instructor_results": tmp_path / "out/alice/results-instructor.json"}
    assert read_instructor_json(paths["instructor_results"]) == result  # the whole result, hidden checks too
    assert SubmissionResult.from_dict(json.loads(paths["results"].read_text())["extra_data"]["result"]) == student_copy(result)
    assert paths["report"].read_text().startswith("<!DOCTYPE html>")
    assert paths["instructor"].read_text().startswith("<!DOCTYPE html>")
    # no temp files left
    assert sorted(os.listdir(tmp_path / "out/alice")) == ["report-instructor.html", "report.html", "results-instructor.json",
                                                          "results.json"]
    assert oct(paths["report"].stat().st_mode & 0o777) == "0o644"


def test_a_self_check_writes_no_instructors_copy(tmp_path, make_result):
    paths = write_outputs(make_result(self_check=True), tmp_path)
    assert set(paths) == {"results", "report"} and not (tmp_path / "report-instructor.html").exists()
    assert not (tmp_path / "results-instructor.json").exists()


def test_regrading_the_same_submission_replaces_its_files(tmp_path, make_result):
    write_outputs(make_result(score=1.0), tmp_path)
    paths = write_outputs(make_result(score=2.0), tmp_path)
    assert json.loads(paths["results"].read_text())["score"] == 2.0


def _refused(result, out_dir, *fragments):
    with pytest.raises(OutputError) as caught:
        write_outputs(result, out_dir)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_a_foreign_results_json_is_left_alone(tmp_path, result):
    (tmp_path / "results.json").write_text('{"score": 3}')
    _refused(result, tmp_path, "results.json already exists and was not written by the grader")
    assert (tmp_path / "results.json").read_text() == '{"score": 3}'
    assert not (tmp_path / "report.html").exists()  # nothing is written when anything is in the way


def test_a_foreign_report_stops_both_files(tmp_path, result):
    (tmp_path / "report.html").write_text("<html><body>my notes</body></html>")
    _refused(result, tmp_path, "report.html already exists and was not written by the grader")
    assert not (tmp_path / "results.json").exists()


def test_unparsable_results_json_is_foreign(tmp_path, result):
    (tmp_path / "results.json").write_text("not json {")
    _refused(result, tmp_path, "not written by the grader")


def test_a_directory_named_report_html(tmp_path, result):
    (tmp_path / "report.html").mkdir()
    _refused(result, tmp_path, "report.html is a directory")


def test_a_symlink_in_the_way(tmp_path, result):
    target = tmp_path / "elsewhere.json"
    write_outputs(result, tmp_path / "first")
    target.write_text((tmp_path / "first/results.json").read_text())
    (tmp_path / "second").mkdir()
    (tmp_path / "second/results.json").symlink_to(target)
    _refused(result, tmp_path / "second", "is a symbolic link")


def test_another_submissions_output_is_not_overwritten(tmp_path, make_result):
    write_outputs(make_result(name="bob"), tmp_path)
    _refused(make_result(name="alice"), tmp_path, "grader's output for submission 'bob', not 'alice'")
    assert json.loads((tmp_path / "results.json").read_text())["extra_data"]["submission"] == "bob"


def test_out_dir_that_is_a_file(tmp_path, result):
    (tmp_path / "out").write_text("")
    _refused(result, tmp_path / "out", "is not a directory")


def test_uncreatable_directory_is_an_output_error(tmp_path, result):
    (tmp_path / "file").write_text("")
    _refused(result, tmp_path / "file" / "alice", "cannot create the output directory")


def test_default_out_dir_is_per_submission(tmp_path):
    assert default_out_dir(tmp_path / "submissions" / "alice") == default_out_dir(tmp_path / "x" / "alice")
    assert str(default_out_dir(tmp_path / "submissions" / "alice")) == os.path.join("grading-output", "alice")



QUOTED = "\x1b]0;owned\x07 \r \u202e \udcff"


def test_every_written_file_spells_out_what_a_student_could_steer_a_terminal_with_whatever_renderer_missed(tmp_path):
    """similarity.html showed the students' code with its escape characters raw; a lone surrogate stopped a file
    being written at all. JSON keeps its value (a JSON escape), other files get printable's spelling, and a
    CSV keeps its CR LF line ends."""
    write_atomically(tmp_path / "a.json", json.dumps({"name": QUOTED}, ensure_ascii=False))
    write_atomically(tmp_path / "a.html", f"<pre>{QUOTED}</pre>\n")
    write_atomically(tmp_path / "a.csv", f'"name"\r\n"{QUOTED}"\r\n')
    assert json.loads((tmp_path / "a.json").read_bytes()) == {"name": QUOTED}
    assert (tmp_path / "a.html").read_bytes() == rb"<pre>\x1b]0;owned\x07 \x0d \u202e \udcff</pre>" + b"\n"
    assert (tmp_path / "a.csv").read_bytes() == b'"name"\r\n"' + rb"\x1b]0;owned\x07 \x0d \u202e \udcff" + b'"\r\n'
    for path in tmp_path.iterdir():
        assert not any(0x7f <= b or b < 0x20 and b not in b"\r\n" for b in path.read_bytes())
