"""The pytest plugin, run as a user runs it: pytest in a subprocess, with --rnn-submission or without."""

import base64
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.assignment import load_assignment
from grader.checks.suite import suite_for
from grader.results import PUBLIC

pytestmark = pytest.mark.long  # class runs that wait on their processes: handed out first (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
SPEC = shipped().grading
ORDER = [c.name for c in suite_for(shipped())]  # the suite's order: contract order, then the module's
VISIBLE = [name for name in ORDER if SPEC.checks[name].visibility == PUBLIC]


def run_pytest(*args, cwd: Path) -> subprocess.CompletedProcess:
    """pytest with this checkout's plugin (and no other plugin installed here, so none interferes)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "grader.pytest_plugin", "-p", "no:cacheprovider",
                           *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True)


def junit_cases(path: Path) -> dict[str, dict]:
    """Each test case of a JUnit XML file: its properties, and whether it holds a <failure>."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        failure = case.find("failure")
        cases[case.get("name")] = {**properties, "failure": None if failure is None else failure.get("message")}
    return cases


def classroom_document(github_output: Path) -> dict:
    (line,) = github_output.read_text().splitlines()
    name, encoded = line.split("=", 1)
    assert name == "result"
    return json.loads(base64.b64decode(encoded))


@pytest.mark.slow
@pytest.mark.parametrize("name, spec", [("alice", "default"), ("mean_adam", "mean-adam")])
def test_a_correct_submission_passes_every_check_and_the_session_reports_100_points(tmp_path, name, spec):
    done = run_pytest(f"--rnn-submission={SUBMISSIONS / name}", "--rnn-spec", spec, "--rnn-instructor",
                      "--junitxml", "junit.xml", "--rnn-classroom", "github-output", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = load_assignment(spec).grading.checks
    assert f"{len(checks)} passed" in done.stdout
    assert "Total: 100 / 100" in done.stdout
    cases = junit_cases(tmp_path / "junit.xml")
    assert set(cases) == set(checks)
    assert all(case["failure"] is None for case in cases.values())
    assert sum(float(case["score"]) for case in cases.values()) == 100
    document = classroom_document(tmp_path / "github-output")
    assert document["status"] == "pass" and document["max_score"] == 100
    assert sum(test["score"] for test in document["tests"]) == 100


@pytest.mark.slow
def test_a_buggy_submission_fails_exactly_the_checks_the_cli_fails_with_the_same_points(tmp_path):
    name = "bug_no_bptt"  # fails whole checks and earns partial credit on another
    cli = subprocess.run([sys.executable, "-m", "grader", SUBMISSIONS / name, "--out", tmp_path / "cli"],
                         cwd=ROOT, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    expected = json.loads((tmp_path / "cli" / "results.json").read_text())
    done = run_pytest(f"--rnn-submission={SUBMISSIONS / name}", "--rnn-instructor", "--rnn-out", "plugin",
                      "--junitxml", "junit.xml", "-v", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr

    cases = junit_cases(tmp_path / "junit.xml")
    assert {name: float(case["score"]) for name, case in cases.items()} == {
        t["name"]: t["score"] for t in expected["tests"]}
    failed = {t["name"] for t in expected["tests"] if t["status"] == "failed"}
    assert failed and {name for name, case in cases.items() if case["failure"] is not None} == failed
    plugin = json.loads((tmp_path / "plugin" / "results.json").read_text())
    assert plugin["tests"] == expected["tests"] and plugin["score"] == expected["score"]
    assert f"Total: {expected['score']:g} / 100" in done.stdout

    partial = [t for t in expected["tests"] if 0 < t["score"] < t["max_score"]]
    assert partial, "the example should earn partial credit somewhere"
    for test in partial:
        assert f"{test['name']} PARTIAL" in done.stdout
        assert f"{test['name']}: {test['score']:g} / {test['max_score']:g} points (partial credit)" in done.stdout
    whole = [t for t in expected["tests"] if t["score"] == 0]
    counts = ((len(whole), "failed"), (len(expected["tests"]) - len(failed), "passed"), (len(partial), "partial"))
    assert ", ".join(f"{n} {word}" for n, word in counts if n) in done.stdout  # pytest's stats line
    for test in whole[:1]:
        assert f"{test['name']}: 0 / {test['max_score']:g} points (failed)" in done.stdout
    shown = (whole or partial)[0]
    assert shown["output"].splitlines()[1] in done.stdout  # the smallest failing case, as results.json gives it


def test_without_rnn_submission_the_plugin_adds_nothing_to_a_session(tmp_path):
    (tmp_path / "test_own.py").write_text("def test_own():\n    assert True\n")
    done = run_pytest("-v", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_own.py::test_own PASSED" in done.stdout and "1 passed" in done.stdout
    assert "rnn-grader" not in done.stdout


def test_collect_only_lists_one_item_per_visible_check_without_grading(tmp_path):
    (tmp_path / "test_own.py").write_text("def test_own():\n    assert True\n")

    def listed(*options):
        done = run_pytest(f"--rnn-submission={SUBMISSIONS / 'alice'}", "--collect-only", "-q", *options, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "in the sandbox" not in done.stdout
        return [line.split("::", 1)[1] for line in done.stdout.splitlines() if "::" in line]

    assert VISIBLE != ORDER
    assert listed() == VISIBLE  # the checks only: no test file is collected without paths
    assert listed("--rnn-instructor") == ORDER


@pytest.mark.slow
def test_by_default_a_session_names_no_hidden_check_and_shows_the_visible_points(tmp_path):
    done = run_pytest(f"--rnn-submission={SUBMISSIONS / 'bug_eps_outside'}", "--junitxml", "junit.xml", cwd=tmp_path)
    hidden = set(SPEC.checks) - set(VISIBLE)
    assert not [name for name in hidden if name in done.stdout + done.stderr]
    cases = junit_cases(tmp_path / "junit.xml")
    assert set(cases) == set(VISIBLE)
    earned = sum(float(case["score"]) for case in cases.values())
    assert f"Visible checks: {earned:g} / {sum(SPEC.checks[name].points for name in VISIBLE):g}" in done.stdout
    assert f"{len(hidden)} hidden checks were graded too" in done.stdout


def test_rnn_options_need_a_submission_and_a_bad_one_is_one_clear_usage_error(tmp_path):
    done = run_pytest("--rnn-out", "out", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--rnn-out needs --rnn-submission PATH" in done.stderr
    done = run_pytest("--rnn-submission", tmp_path / "nowhere", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert done.stderr.count("no such folder") == 1 and "Traceback" not in done.stderr


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"rnn_grader": "grader.pytest_plugin"}
    assert any(r.startswith("pytest") for r in project["dependencies"])


def test_a_classroom_run_without_a_strong_sandbox_reports_zero_points_with_the_reason(tmp_path):
    env_tier = {"RNN_GRADER_SANDBOX_TIER": "plain-process"}  # asked for a weak tier: the strict policy refuses it
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "grader.pytest_plugin", "-p", "no:cacheprovider",
                           f"--rnn-submission={SUBMISSIONS / 'alice'}", "--rnn-classroom", "github-output"],
                          cwd=tmp_path, capture_output=True, text=True, check=False,
                          env={**os.environ, **env_tier, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                               "PYTHONPATH": str(ROOT)})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    document = classroom_document(tmp_path / "github-output")
    (test,) = document["tests"]
    assert (document["status"], test["status"], test["score"]) == ("error", "error", 0)
    assert document["max_score"] == 100 and "not graded" in test["message"] and "weak" in test["message"]
