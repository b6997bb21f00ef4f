"""The tamper check: the manifest of the grading files, and what the workflow's first command says."""

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.classroom import integrity

SCRIPT = Path(integrity.__file__)
MANIFEST = ".github/classroom/manifest.json"


@pytest.fixture
def repo(tmp_path):
    """A student's repository as the instructor ships it."""
    root = tmp_path / "repo"
    for name, text in {".github/workflows/classroom.yml": "name: Autograding\n", "kit/grader/checks.py": "X = 1\n",
                       "kit/specs/grading.yaml": "total: 90\n", "submission/rnn.py": "# yours\n"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    manifest = integrity.make_manifest(root, [".github", "kit"], 90.0, exclude=MANIFEST)
    (root / MANIFEST).parent.mkdir()
    (root / MANIFEST).write_text(json.dumps(manifest))
    return root


def check(repo: Path, output: Path | None = None) -> subprocess.CompletedProcess:
    """The workflow's command: the script alone, in isolated mode, before anything is installed."""
    extra = ["--github-output", str(output)] if output else []
    return subprocess.run([sys.executable, "-I", str(SCRIPT), "--root", ".", "--manifest", MANIFEST, *extra],
                          cwd=repo, capture_output=True, text=True)


def test_the_manifest_pins_every_shipped_file_but_itself_and_not_the_students_code(repo):
    manifest = json.loads((repo / MANIFEST).read_text())
    assert sorted(manifest["files"]) == [".github/workflows/classroom.yml", "kit/grader/checks.py",
                                         "kit/specs/grading.yaml"]
    assert manifest["files"]["kit/grader/checks.py"] == hashlib.sha256(b"X = 1\n").hexdigest()


def test_an_untouched_repository_passes_and_writes_no_result(repo, tmp_path):
    (repo / "submission" / "rnn.py").write_text("def forward(): ...\n")  # the student's own file may change
    done = check(repo, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "grading files are as shipped" in done.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("tamper, problem", [
    (lambda r: (r / "kit/grader/checks.py").write_text("X = 2\n"), "changed: kit/grader/checks.py"),
    (lambda r: (r / ".github/workflows/classroom.yml").unlink(), "missing: .github/workflows/classroom.yml"),
    (lambda r: (r / "kit/grader/sitecustomize.py").write_text(""), "added: kit/grader/sitecustomize.py"),
    (lambda r: (r / ".github/workflows/mine.yml").write_text(""), "added: .github/workflows/mine.yml"),
])
def test_a_changed_removed_or_added_grading_file_gives_zero_points_naming_it(repo, tmp_path, tamper, problem):
    tamper(repo)
    done = check(repo, tmp_path / "out")
    assert done.returncode == 1
    assert problem in done.stderr
    name, encoded = (tmp_path / "out").read_text().strip().split("=", 1)
    document = json.loads(base64.b64decode(encoded))
    assert name == "result" and document["status"] == "error" and document["max_score"] == 90
    (test,) = document["tests"]
    assert test["name"] == integrity.INTEGRITY_TEST and test["score"] == 0 and test["status"] == "error"
    assert problem in test["message"] and "was not graded" in test["message"]


def test_the_instructor_verifies_with_their_own_copy_of_the_manifest(repo, tmp_path):
    own = tmp_path / "instructor-manifest.json"
    own.write_bytes((repo / MANIFEST).read_bytes())
    (repo / "kit/grader/checks.py").write_text("X = 2\n")
    manifest = json.loads((repo / MANIFEST).read_text())
    manifest["files"]["kit/grader/checks.py"] = hashlib.sha256(b"X = 2\n").hexdigest()
    (repo / MANIFEST).write_text(json.dumps(manifest))  # the student covers their tracks in the repository's copy
    assert check(repo).returncode == 0
    done = subprocess.run([sys.executable, "-I", str(SCRIPT), "--root", str(repo), "--manifest", str(own)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "changed: kit/grader/checks.py" in done.stderr
    assert "changed: .github/classroom/manifest.json" not in done.stderr  # a manifest from outside is not pinned


def test_a_missing_manifest_is_a_problem_not_a_pass(repo):
    (repo / MANIFEST).unlink()
    done = check(repo)
    assert done.returncode == 1 and "unreadable manifest" in done.stderr
