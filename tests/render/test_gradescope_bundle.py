"""gradescope/: the scripts Gradescope runs, checked for syntax and for the paths its specification fixes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from grader.outputs import RESULTS

BUNDLE = Path(__file__).resolve().parents[2] / "gradescope"
SCRIPTS = ["setup.sh", "run_autograder"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_is_executable_bash_without_syntax_errors(name):
    script = BUNDLE / name
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert os.access(script, os.X_OK), f"{name} must be executable: Gradescope runs it directly"
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_run_autograder_uses_gradescopes_paths():
    text = (BUNDLE / "run_autograder").read_text()
    assert 'ROOT="${AUTOGRADER_ROOT:-/autograder}"' in text
    assert 'SUBMISSION="$ROOT/submission"' in text
    assert 'RESULTS="$ROOT/results"' in text
    # the grader writes results.json into its second argument, which must be /autograder/results
    assert '-m grader.autograder "$SUBMISSION" "$RESULTS"' in text and RESULTS == "results.json"


def test_setup_installs_the_source_gradescope_unpacked():
    text = (BUNDLE / "setup.sh").read_text()
    assert "SOURCE=/autograder/source" in text and '"$VENV/bin/pip" install --quiet "$SOURCE"' in text
    assert "VENV=/autograder/venv" in text and "bubblewrap" in text
    assert 'PYTHON="$ROOT/venv/bin/python"' in (BUNDLE / "run_autograder").read_text()


@pytest.mark.slow
def test_run_autograder_grades_a_zipped_folder_into_results(tmp_path):
    """As on Gradescope, with /autograder moved to tmp: the student uploaded a zip with one folder."""
    root = tmp_path / "autograder"
    (root / "submission" / "my-rnn").mkdir(parents=True)
    shutil.copy(BUNDLE.parent / "submissions/alice/rnn.py", root / "submission/my-rnn/rnn.py")
    (root / "venv/bin").mkdir(parents=True)
    (root / "venv/bin/python").symlink_to(sys.executable)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHONPATH": str(BUNDLE.parent)}  # this checkout's grader
    subprocess.run(["bash", str(BUNDLE / "run_autograder")], cwd=root, env=env, check=True, timeout=300)
    document = json.loads((root / "results" / RESULTS).read_text())
    schema = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["score"] == document["extra_data"]["max_score"] > 0
    assert document["extra_data"]["submission"] == "my-rnn"
