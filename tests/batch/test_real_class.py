"""The real pipeline on a small class: correct, buggy, crashing, hanging and zipped submissions."""

import shutil
import zipfile
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.batch.run import grade_class
from grader.results import Problem
from grader.sandbox import Limits

ASSIGNMENT = shipped()

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
# The grader's default limits: the hanging submission costs one call limit (10 s), and alice's slowest call
# (the 800-update training run, about 1.5 s alone) keeps its headroom on a machine busy with two jobs.
LIMITS = Limits()


def _small_class(folder: Path) -> None:
    shutil.copytree(SUBMISSIONS / "alice", folder / "alice")
    shutil.copytree(SUBMISSIONS / "bug_loss_averaged", folder / "bug_loss_averaged")
    (folder / "syntax").mkdir()
    (folder / "syntax" / "rnn.py").write_text("def forward(params, X, Y, h0)\n    return 0\n")
    (folder / "hang").mkdir()
    (folder / "hang" / "rnn.py").write_text("while True:\n    pass\n")
    with zipfile.ZipFile(folder / "zipped.zip", "w") as zf:  # zipped as a folder, as students do
        zf.write(SUBMISSIONS / "alice" / "rnn.py", "alice/rnn.py")
        zf.writestr("__MACOSX/alice/._rnn.py", "junk")


@pytest.mark.slow
@pytest.mark.first  # a class graded
def test_a_mixed_class_is_graded_completely_with_a_correct_overview(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    _small_class(folder)
    result = grade_class(folder, out, ASSIGNMENT, jobs=2, limits=LIMITS, progress=False)
    rows = {s.name: s for s in result.submissions}
    assert sorted(rows) == ["alice", "bug_loss_averaged", "hang", "syntax", "zipped"]
    assert rows["alice"].score == rows["alice"].max_score == result.max_score
    assert rows["zipped"].score == rows["alice"].score
    assert 0 < rows["bug_loss_averaged"].score < result.max_score and not rows["bug_loss_averaged"].problem
    assert (rows["syntax"].problem, rows["syntax"].score) == (Problem.CRASHED, 0)
    assert "syntax error" in rows["syntax"].problem_detail
    assert (rows["hang"].problem, rows["hang"].score) == (Problem.TIMED_OUT, 0)
    assert set(result.troubled) == {"syntax", "hang"}
    for name in rows:
        assert (out / name / "results.json").is_file() and (out / name / "report.html").is_file()
    # Neither could be imported: they are listed apart and the pass rates count the other three.
    assert set(result.ungradable) == {"syntax", "hang"} and {c.total for c in result.checks} == {3}
    failing = {c.name for c in result.checks if c.passed < c.total}
    assert any(name.startswith("forward: loss") for name in failing)
    index = (out / "index.html").read_text()
    assert all(f'href="{name}/report-instructor.html"' in index for name in rows)

    again = grade_class(folder, out, ASSIGNMENT, jobs=2, limits=LIMITS, progress=False)
    assert (again.graded_now, again.reused) == (0, 5)
    assert [(s.name, s.score) for s in again.submissions] == [(s.name, s.score) for s in result.submissions]
