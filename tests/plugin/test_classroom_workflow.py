"""The GitHub Classroom template: its workflow's commands, run here on a copy of a student's repository.

GitHub's own steps (checkout, setup-python, upload-artifact, the reporter) cannot run here; the `run:`
steps run as GitHub runs them (bash -e, with GITHUB_WORKSPACE, GITHUB_OUTPUT and RUNNER_TEMP set), and
the reporter's part is done as it does it: decode the runner's `result` and add up the tests' scores.
Only pip's build backend comes from the package index, as for the kit's own tests.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from grader.assignment import load_assignment
from grader.classroom.integrity import INTEGRITY_TEST
from grader.grading import grade_submission
from grader.kit.classroom import MANIFEST, SUBMISSION, WORKFLOW, build_classroom_template

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("classroom-template")  # one worker builds the module's fixtures
BUGGY = ROOT / "submissions" / "bug_no_bptt"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"

# What a student could add at the top of their repository to pass without computing: a conftest.py that
# reports full points, a pytest.ini that loads it as a plugin, a grader/ package that would shadow the
# installed one. The workflow must grade as if none of them were there.
HOSTILE = {
    "conftest.py": "import grader.render.classroom as classroom\n"
                   "real = classroom.runner_result\n"
                   "def full_points(result):\n"
                   "    document = real(result)\n"
                   "    for test in document['tests']:\n"
                   "        test['score'] = document['max_score'] / len(document['tests'])\n"
                   "    return document\n"
                   "classroom.runner_result = full_points\n",
    "pytest.ini": "[pytest]\naddopts = -p conftest\n",
    "grader/__init__.py": "raise SystemExit('the repository shadowed the grader')\n",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_classroom_template(tmp_path_factory.mktemp("classroom") / "template", load_assignment())


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory) -> Path:
    """The runner's Python after setup-python: an environment where the kit is not installed yet."""
    venv = tmp_path_factory.mktemp("runner") / "python"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    return venv / "bin"


def student_repository(template, tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    shutil.copytree(template.path, repo)
    shutil.copyfile(BUGGY / "rnn.py", repo / SUBMISSION / "rnn.py")
    return repo


def run_steps(repo: Path, bin_dir: Path, tmp_path: Path) -> tuple[int, dict]:
    """Every `run:` step of the workflow in order, as a GitHub runner would; the runner's outputs."""
    workflow = yaml.safe_load((repo / WORKFLOW).read_text())
    (job,) = workflow["jobs"].values()
    output = tmp_path / f"github-output-{repo.name}"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GITHUB_WORKSPACE": str(repo),
           "GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    returncode = 0
    for step in job["steps"]:
        if "run" in step and returncode == 0:
            returncode = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-c", step["run"]], cwd=repo,
                                        env=env, capture_output=True, text=True).returncode
    lines = output.read_text().splitlines() if output.exists() else []
    return returncode, dict(line.split("=", 1) for line in lines)


def reporter_points(workflow: dict, outputs: dict) -> tuple[dict, float, float]:
    """What the autograding reporter reads for each runner (<ID>_RESULTS, base64 JSON) and sends Classroom."""
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("uses") == REPORTER]
    assert step["if"] == "always()"  # it reports when the checks step fails too
    (runner,) = step["with"]["runners"].split(",")
    reference = step["env"][f"{runner.upper()}_RESULTS"]
    assert reference == f"${{{{ steps.{runner}.outputs.result }}}}"
    document = json.loads(base64.b64decode(outputs["result"]))
    return document, sum(t["score"] for t in document["tests"]), document["max_score"]


@pytest.mark.slow
def test_the_workflow_grades_a_student_repository_with_the_kits_public_points(template, runner_python, tmp_path):
    repo = student_repository(template, tmp_path, "student")
    for name, text in HOSTILE.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    returncode, outputs = run_steps(repo, runner_python, tmp_path)
    assert returncode == 1  # checks failed: GitHub marks the step red, and the reporter still runs

    workflow = yaml.safe_load((repo / WORKFLOW).read_text())
    document, score, max_score = reporter_points(workflow, outputs)
    expected = grade_submission(BUGGY, load_assignment(), include_hidden=False, diagnostics=False)
    assert max_score == expected.max_score == template.kit.public_points
    assert score == pytest.approx(expected.score) and expected.score < max_score  # the reporter sums floats
    assert {t["name"]: t["score"] for t in document["tests"]} == {c.name: c.score for c in expected.checks}
    results = json.loads((repo / "grading-output" / "results.json").read_text())
    assert results["score"] == pytest.approx(score) and results["extra_data"]["self_check"] is True


@pytest.mark.slow
def test_a_changed_workflow_is_graded_zero_and_nothing_of_the_repository_runs(template, runner_python, tmp_path):
    repo = student_repository(template, tmp_path, "tampered")
    workflow = repo / WORKFLOW
    workflow.write_text(workflow.read_text().replace("--noconftest ", ""))
    returncode, outputs = run_steps(repo, runner_python, tmp_path)
    assert returncode == 1
    document, score, max_score = reporter_points(yaml.safe_load(workflow.read_text()), outputs)
    assert (score, max_score) == (0, template.kit.public_points)
    (test,) = document["tests"]
    assert test["name"] == INTEGRITY_TEST and f"changed: {WORKFLOW}" in test["message"]
    assert not (repo / "grading-output").exists()  # the checks did not run
    assert not list((repo / "rnn-kit").glob("*.egg-info"))  # nor was the kit installed


@pytest.mark.slow
def test_the_template_pins_the_workflow_the_test_configuration_and_the_kit(template):
    manifest = json.loads((template.path / MANIFEST).read_text())
    assert manifest["max_score"] == template.kit.public_points
    assert {WORKFLOW, ".github/classroom/pytest.ini", "rnn-kit/pyproject.toml",
            "rnn-kit/grader/pytest_plugin.py", "rnn-kit/specs/grading.yaml"} <= set(manifest["files"])
    assert not [name for name in manifest["files"] if name.startswith(SUBMISSION)]
    assert 'rnn_grader = "grader.pytest_plugin"' in (template.path / "rnn-kit" / "pyproject.toml").read_text()


def test_the_command_refuses_a_folder_that_is_not_empty_and_writes_nothing(tmp_path, capsys):
    from grader.cli import main
    from grader.errors import ExitCode

    (tmp_path / "template").mkdir()
    (tmp_path / "template" / "notes.txt").write_text("mine")
    assert main(["classroom", "--out", str(tmp_path / "template")]) == ExitCode.USAGE
    assert "not an empty folder; nothing was written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["notes.txt", "template"]


# The red team's Classroom stub: at import it tries to write a full-points result into the runner's output
# file (by $GITHUB_OUTPUT, by every process's environment in /proc, by the path itself, which an attacker
# can learn), and leaves a daemon (a session of its own, its environment cleared, so no marker names it)
# that does the same once the test says go: after the grade was written, as the real attack waited.
DAEMON = """
import os, sys, time
tag, go, output, forged = sys.argv[1:5]
deadline = time.monotonic() + 120
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
targets = {output}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
    except OSError:
        continue
    targets.update(e[len(b"GITHUB_OUTPUT="):].decode() for e in environ if e.startswith(b"GITHUB_OUTPUT="))
for target in targets:
    try:
        with open(target, "w") as f:
            f.write(forged)
    except OSError:
        pass
"""
ATTACK = """
import os as _os, sys as _sys

def _forge_now():
    targets = {_os.environ.get("GITHUB_OUTPUT") or OUTPUT}
    for pid in filter(str.isdigit, _os.listdir("/proc")):
        try:
            environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
        except OSError:
            continue
        targets.update(e[len(b"GITHUB_OUTPUT="):].decode() for e in environ if e.startswith(b"GITHUB_OUTPUT="))
    for target in targets:
        try:
            with open(target, "a") as f:
                f.write(FORGED)
        except OSError:
            pass

def _daemonise():
    try:
        if _os.fork() == 0:
            _os.setsid()
            if _os.fork() == 0:
                _os.execve(_sys.executable, [_sys.executable, "-c", DAEMON, TAG, GO, OUTPUT, FORGED], {})
            _os._exit(0)
        _os.wait()
    except OSError:
        pass

_forge_now()
_daemonise()
"""


def tagged_processes(tag: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if tag.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_a_daemon_left_by_the_student_code_cannot_rewrite_the_grade_after_it_is_written(template, runner_python,
                                                                                         tmp_path):
    repo = student_repository(template, tmp_path, "daemon")
    output, go, tag = tmp_path / f"github-output-{repo.name}", tmp_path / "go", f"rnn-daemon-{os.getpid()}"
    full = {"version": 1, "status": "pass", "max_score": template.kit.public_points,
            "tests": [{"name": "forged", "status": "pass", "score": template.kit.public_points}]}
    forged = "result=" + base64.b64encode(json.dumps(full).encode()).decode() + "\n"
    stub = (ROOT / "submissions" / "template" / "rnn.py").read_text()
    names = {"DAEMON": DAEMON, "TAG": tag, "GO": str(go), "OUTPUT": str(output), "FORGED": forged}
    (repo / SUBMISSION / "rnn.py").write_text(
        stub + "".join(f"\n{name} = {value!r}" for name, value in names.items()) + "\n" + ATTACK)

    returncode, _ = run_steps(repo, runner_python, tmp_path)
    survivors = tagged_processes(tag)
    go.write_text("go")  # the delay ends: anything of the submission's still running writes now
    for pid in survivors:
        deadline = time.monotonic() + 120
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)

    assert returncode == 1  # the stub fails its checks
    (line,) = output.read_text().splitlines()  # one result: the grader's, written once
    name, encoded = line.split("=", 1)
    assert name == "result"
    document = json.loads(base64.b64decode(encoded))
    expected = grade_submission(repo / SUBMISSION, load_assignment(), include_hidden=False, diagnostics=False)
    assert {t["name"]: t["score"] for t in document["tests"]} == {c.name: c.score for c in expected.checks}
    assert sum(t["score"] for t in document["tests"]) < template.kit.public_points
    assert survivors == []  # nothing of the submission's outlived the grading
    results = json.loads((repo / "grading-output" / "results.json").read_text())
    assert results["extra_data"]["isolation_tier"] == "bubblewrap"  # the strongest tier here, not the kit's own
