"""Under the unprivileged-user tier a submission runs as another user: a class run refuses while other users
can enter the class folder or the results, and closes the results folder it makes itself."""

import shutil
import tempfile
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.batch import run as batch_run
from grader.batch.errors import BatchError
from grader.batch.run import grade_class
from grader.sandbox.isolation import open_to_others

from .conftest import make_folder
from .fakes import tier_grade

ASSIGNMENT = shipped()


@pytest.fixture
def shared(monkeypatch):
    """A folder every user can reach (pytest's own tmp_path is private to its owner), under the uid tier."""
    base = Path(tempfile.mkdtemp(prefix="rnn-grader-uid-"))
    base.chmod(0o755)
    monkeypatch.setattr(batch_run, "choose", lambda *args, **kwargs: "unprivileged-user")
    yield base
    shutil.rmtree(base)


def _grade(class_dir, out):
    return grade_class(class_dir, out, ASSIGNMENT, jobs=1, grade=tier_grade, progress=False)


def test_a_class_folder_other_users_can_enter_is_refused_with_the_fix(shared):
    class_dir = shared / "class"
    make_folder(class_dir, "alice", "# score: 6\n")
    class_dir.chmod(0o755)
    with pytest.raises(BatchError) as raised:
        _grade(class_dir, shared / "out")
    assert f"chmod o-rwx {class_dir}" in str(raised.value)
    assert not (shared / "out" / "alice").exists()  # nothing was graded


def test_a_closed_class_folder_is_graded_and_the_results_folder_made_for_it_is_closed(shared):
    class_dir = shared / "class"
    make_folder(class_dir, "alice", "# score: 6\n")
    class_dir.chmod(0o750)
    result = _grade(class_dir, shared / "out")
    assert [s.name for s in result.submissions] == ["alice"]
    assert not open_to_others(shared / "out")


def test_an_existing_results_folder_open_to_others_is_refused(shared):
    class_dir, out = shared / "class", shared / "out"
    make_folder(class_dir, "alice", "# score: 6\n")
    class_dir.chmod(0o700)
    out.mkdir(mode=0o755)
    out.chmod(0o755)
    with pytest.raises(BatchError, match=f"chmod o-rwx {out}"):
        _grade(class_dir, out)


def test_a_folder_is_open_to_others_only_when_every_folder_above_it_lets_them_through(shared):
    for parent_mode, expected in ((0o755, True), (0o750, False)):
        inner = shared / f"parent-{parent_mode:o}" / "inner"
        inner.mkdir(parents=True)
        inner.chmod(0o755)
        inner.parent.chmod(parent_mode)
        assert open_to_others(inner) is expected
