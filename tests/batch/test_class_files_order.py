"""The class files are written from the graded results before the optional similarity report, and again
after it: whatever the report meets, the grades are out."""

import json

from shipped_course import shipped

from grader.batch.run import SIMILARITY_PENDING, grade_class
from grader.similarity import collect

from .conftest import make_folder
from .fakes import fake_grade

ASSIGNMENT = shipped()
CLASS_FILES = ("grades.csv", "canvas.csv", "moodle.csv", "summary.json", "index.html")


def _class(class_dir):
    make_folder(class_dir, "alice", "# score: 6\ndef forward(x):\n    return x\n")
    make_folder(class_dir, "bob", "# score: 3\ndef forward(x):\n    return x + 1\n")


def test_the_class_files_are_out_before_the_similarity_report_and_written_again_after_it(class_dir, tmp_path, monkeypatch):
    _class(class_dir)
    out = tmp_path / "out"
    seen = {}
    real = collect.class_similarity

    def watched(*args, **kwargs):
        seen.update({name: (out / name).is_file() for name in CLASS_FILES})
        seen["note"] = json.loads((out / "summary.json").read_text())["similarity_note"]
        return real(*args, **kwargs)

    monkeypatch.setattr(collect, "class_similarity", watched)
    result = grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=fake_grade, progress=False)
    assert all(seen[name] for name in CLASS_FILES) and seen["note"] == SIMILARITY_PENDING
    written = json.loads((out / "summary.json").read_text())
    assert written["similarity"]["page"] == "similarity.html" and written["similarity_note"] != SIMILARITY_PENDING
    assert result.similarity is not None and (out / "similarity.html").is_file()


def test_a_similarity_report_that_fails_leaves_the_grades_and_says_why(class_dir, tmp_path, monkeypatch):
    _class(class_dir)
    out = tmp_path / "out"

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded while parsing")

    monkeypatch.setattr(collect, "class_similarity", broken)
    result = grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=fake_grade, progress=False)
    assert all((out / name).is_file() for name in CLASS_FILES)
    assert [s.score for s in result.submissions] == [10, 7]
    assert result.similarity is None and "the similarity report failed (RecursionError" in result.similarity_note
    assert json.loads((out / "summary.json").read_text())["similarity_note"] == result.similarity_note
