"""Gradescope's image, built from the zip the README builds, and run_autograder grading in it (see image.py)."""

import json
import os
import re
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.autograder import NO_GRADE
from grader.errors import ExitCode
from grader.outputs import INSTRUCTOR_RESULTS, read_instructor_json
from grader.results import Visibility

from .image import AUTOGRADER, REPO, build_image, container, fail_to_grade, grade, image_from_record, image_record, why_not_here

pytestmark = [
    pytest.mark.skipif(why_not_here() is not None, reason=why_not_here() or ""),
    # One worker builds the image and runs its gradings in turn: spread over the workers, all but one of them
    # waited on the image's lock (a minute and a half of setup.sh) while two cores had one build to run.
    pytest.mark.xdist_group("gradescope-image"),
]
ALICE = REPO / "submissions" / "alice" / "rnn.py"


@pytest.fixture(scope="session")
def image(made_once):
    """One image per test session, built by whichever test (or xdist worker) asks first."""
    return image_from_record(made_once("gradescope-image", lambda folder: image_record(build_image(folder))))


def needs_tier(image, tier: str) -> None:
    """The unprivileged-user tier needs a Python other uids may run: the distribution's, as on Gradescope; a
    venv made from an interpreter in root's home (pyenv) has none."""
    if tier and f"'{tier}'" not in re.search(r"sandbox tiers here: (.*)", image.setup_log).group(1):
        pytest.skip(f"no {tier} tier in this image (its Python is not one other users may run)")


def kept_answers(image) -> dict[Path, int]:
    """The reference's answers setup.sh kept in the image (grader.answers), with their inodes."""
    return {path: path.stat().st_ino for path in (image.root / "grader-cache").rglob("*.npz")}


def zipped_folder(submission: Path, source: Path = ALICE) -> None:
    """What a student uploads most often after rnn.py: a zip of their folder."""
    with zipfile.ZipFile(submission / "my-rnn.zip", "w") as archive:
        archive.write(source, "my-rnn/rnn.py")


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_the_scripts_are_bash_and_run_autograder_executable(script):
    path = REPO / "gradescope" / script
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    assert os.access(path, os.X_OK), f"{script} must be executable: Gradescope runs run_autograder directly"


@pytest.mark.slow
@pytest.mark.first  # builds the image: the module's group starts first
def test_setup_builds_the_image_with_the_zipped_course_secret(image):
    assert "apt-get install" in image.apt_calls  # the shim stood in for apt, and only for apt
    secret = image.root / "grader-data" / "rnn-grader" / "default" / "course-secret"
    assert secret.read_text() == image.instructor_secret.read_text()  # one secret: the course's own
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert f"Made the course secret {AUTOGRADER}/grader-data/rnn-grader/default/course-secret (copied from " \
           f"{AUTOGRADER}/source/course-secret)" in " ".join(image.setup_log.split())
    tiers = re.search(r"sandbox tiers here: (.*)", image.setup_log)
    assert tiers and "'bubblewrap'" in tiers.group(1), image.setup_log
    site = next((image.root / "venv" / "lib").glob("python3*/site-packages"))
    for private in (image.root / "source", site / "grader", site / "reference", site / "specs", image.root / "grader-data"):
        assert stat.S_IMODE(private.stat().st_mode) & 0o007 == 0, private
    answers = kept_answers(image)
    assert len(answers) >= 5 and f"reference answers kept: {len(answers)}" in image.setup_log  # the report's curve
    assert stat.S_IMODE((image.root / "grader-cache" / "answers").stat().st_mode) == 0o700
    print(f"setup.sh took {image.setup_seconds:.0f} s")


@pytest.mark.slow
@pytest.mark.parametrize("hide_bwrap, tier", [(False, None), (True, None), (False, "unprivileged-user")],
                         ids=["system-bwrap", "no-bwrap-on-PATH", "unprivileged-user"])
def test_run_autograder_grades_an_upload_in_the_image(image, tmp_path, hide_bwrap, tier):
    needs_tier(image, tier)
    answers = kept_answers(image)
    graded = grade(image, tmp_path, zipped_folder, hide_bwrap=hide_bwrap, tier=tier)
    assert kept_answers(image).items() >= answers.items()  # setup.sh's answers read back, none computed again
    results = graded.results
    assert results["score"] == 100 and results["extra_data"]["submission"] == "my-rnn"
    assert results["extra_data"]["isolation_tier"] == (tier or "bubblewrap")
    assert results["output_format"] == "html" and "<h3>Gradient check</h3>" in results["output"]
    assert "<td><code>compute_gradients</code></td><td>27 / 27</td>" in results["output"]
    assert len(results["tests"]) == len(load_assignment().grading.checks)
    assert all(t["status"] == "passed" for t in results["tests"])
    assert "Checks not shown to students" in graded.log


@pytest.mark.slow
def test_an_empty_upload_is_one_message(image, tmp_path):
    results = grade(image, tmp_path, lambda submission: None).results
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].count("the upload is empty") == 1


@pytest.mark.slow
def test_earlier_results_handed_back_by_gradescope_carry_nothing_hidden_and_are_out_of_reach(image, tmp_path):
    """Gradescope passes earlier results.json to later uploads (submission_metadata.json): the hidden
    checks' feedback is not in them, and a submission's code cannot read the file anyway."""
    needs_tier(image, "unprivileged-user")
    first = grade(image, tmp_path / "first", lambda s: zipped_folder(s, REPO / "submissions/bug_clip_in_gradients/rnn.py"),
                  tier="unprivileged-user")
    whole = read_instructor_json(first.folder / INSTRUCTOR_RESULTS)
    hidden = [c for c in whole.checks if c.visibility is not Visibility.VISIBLE and c.feedback]
    assert hidden, "the buggy submission fails a hidden check with feedback"
    shown = json.dumps(first.results)
    for check in hidden:
        assert check.feedback not in shown and check.name in graded_names(first.results)
        assert check.feedback.splitlines()[0] in first.log  # the instructor's log has it
    canary = "CANARY hidden output of an earlier grader"
    earlier = {**first.results, "output": canary}
    metadata = {"users": [{"id": 7, "name": "S", "email": "s@example.com"}],
                "previous_submissions": [{"submission_time": "2026-12-07T10:00:00+00:00", "score": first.results["score"],
                                          "results": earlier}]}
    thief = tmp_path / "thief.py"
    thief.write_text(ALICE.read_text() + THIEF)
    second = grade(image, tmp_path / "second", lambda s: zipped_folder(s, thief), metadata=metadata,
                   tier="unprivileged-user")
    stolen = [t["output"] for t in second.results["tests"] if "STOLEN:" in t["output"]]
    assert stolen and all("PermissionError" in text for text in stolen)  # the code ran, and read nothing
    assert canary not in json.dumps(second.results)


THIEF = '''

_init_params = init_params


def init_params(K, m, sigma, rng):
    try:
        with open("/autograder/submission_metadata.json") as f:
            found = f.read()
    except OSError as exc:
        found = repr(exc)
    raise RuntimeError("STOLEN: " + found[:2000])
'''


def graded_names(results: dict) -> set[str]:
    return {t["name"] for t in results["tests"]}


def test_without_python_run_autograder_gives_no_grade_and_says_so(tmp_path):
    root = tmp_path / "autograder"
    root.mkdir()
    shutil.copy(REPO / "gradescope" / "run_autograder", root / "run_autograder")
    done = container(root, [f"{AUTOGRADER}/run_autograder"], timeout=60)  # no venv: Python cannot start
    assert done.returncode == 127, done.stderr  # bash's: the venv's python is not there
    assert not (root / "results" / "results.json").exists()  # Gradescope: failed to execute, no score (not 0)
    assert re.search(r"exited with status 127 without writing results.json: this submission has no grade", done.stderr)
    assert "Regrade" in done.stderr


@pytest.mark.slow
def test_a_sandbox_that_cannot_start_in_the_image_gives_no_grade_and_the_log_says_why(image, tmp_path):
    """The sandbox's worker broken in the image (no code of the submission's can run): the grader's own failure,
    so no results.json and a non-zero exit, never a 0 in the gradebook; the log has the traceback and the Regrade."""
    site = next((image.root / "venv" / "lib").glob("python3*/site-packages"))
    broken = tmp_path / "worker.py"
    broken.write_text("raise SystemExit('a broken sandbox worker')\n")
    inside = f"{AUTOGRADER}/{(site / 'grader' / 'sandbox' / 'worker.py').relative_to(image.root)}"
    failed = fail_to_grade(image, tmp_path, zipped_folder, binds=((broken, inside),))
    assert failed.returncode == ExitCode.GRADER_FAILED, failed.log
    assert "Traceback" in failed.log and re.search(r"grader\.sandbox\.\w+\.Sandbox(Error|Unavailable): ", failed.log)
    assert NO_GRADE in failed.log and "without writing results.json: this submission has no grade" in failed.log
    assert not list(failed.folder.iterdir())  # nor any report a student could be shown
