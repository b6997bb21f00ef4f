"""One error family: whatever a user can get wrong (spec, paths, options, environment settings, the machine's
sandbox) is a GraderError, which the command line prints as one line on stderr with its exit code; nothing
is graded or written after it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.batch.errors import BatchError, ClassInterrupted
from grader.errors import ExitCode, GraderError, SettingError, UsageError
from grader.intake import NotFound, NotGradable
from grader.kit.build import KitError
from grader.oracle import FixtureError
from grader.outputs import OutputError
from grader.sandbox import SandboxUnavailable
from grader.specfile import SpecError
from grader.texts import TextError

ROOT = Path(__file__).resolve().parents[2]
ALICE = ROOT / "submissions" / "alice"


@pytest.mark.parametrize("error", [SpecError, TextError, FixtureError, OutputError, BatchError, SandboxUnavailable,
                                   KitError, NotFound, NotGradable, UsageError, SettingError])
def test_what_a_user_can_cause_is_a_grader_error_with_the_usage_exit_code(error):
    assert issubclass(error, GraderError) and error.exit_code is ExitCode.USAGE


def test_ctrl_c_in_a_class_run_is_a_grader_error_that_exits_130():
    assert issubclass(ClassInterrupted, GraderError) and ClassInterrupted.exit_code == 130


def test_an_unknown_sandbox_tier_in_the_environment_is_one_line_on_stderr_and_exit_2(tmp_path):
    """The issue's own command, as a user runs it."""
    env = {**os.environ, "RNN_GRADER_SANDBOX_TIER": "foo"}
    done = subprocess.run([sys.executable, "-m", "grader", str(ALICE), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == ExitCode.USAGE
    assert done.stderr.splitlines() == [
        "error: RNN_GRADER_SANDBOX_TIER='foo' names no sandbox tier; set it to one of bubblewrap, "
        "unprivileged-user, plain-process, or unset it to use the strongest that works"]
    assert done.stdout == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("RNN_GRADER_SANDBOX_UIDS", "lots", "RNN_GRADER_SANDBOX_UIDS='lots' is not a range START-END"),
    ("RNN_GRADER_SANDBOX_UIDS", "0-100", "RNN_GRADER_SANDBOX_UIDS='0-100' is not a range START-END"),
    ("RNN_GRADER_SANDBOX_UIDS", "300000-200000", "RNN_GRADER_SANDBOX_UIDS='300000-200000' is not a range"),
    ("RNN_GRADER_CACHE", "{file}", "RNN_GRADER_CACHE='{file}' is not a folder"),
    ("RNN_GRADER_SANDBOX_DIR", "{file}", "RNN_GRADER_SANDBOX_DIR='{file}' is not a folder"),
])
def test_an_environment_setting_the_grader_cannot_use_stops_it_before_anything_runs(
        tmp_path, monkeypatch, capsys, variable, value, message):
    file = tmp_path / "a-file"
    file.write_text("")
    monkeypatch.setenv(variable, value.format(file=file))
    monkeypatch.setattr("grader.grading.grade_submission", lambda *a, **k: pytest.fail("graded despite a bad setting"))
    assert cli.main([str(ALICE), "--out", str(tmp_path / "out")]) == ExitCode.USAGE
    printed = capsys.readouterr()
    assert printed.err.startswith("error: " + message.format(file=file)) and len(printed.err.splitlines()) == 1
    assert printed.out == "" and not (tmp_path / "out").exists()


def test_a_path_that_is_not_there_is_one_line_on_stderr(tmp_path, capsys):
    assert cli.main([str(tmp_path / "nobody")]) == ExitCode.USAGE
    printed = capsys.readouterr()
    assert printed.err.startswith("error: ") and len(printed.err.splitlines()) == 1 and printed.out == ""


def test_a_bug_of_the_grader_is_not_caught_as_a_users_error(monkeypatch):
    """Only GraderError is the user's: anything else keeps its traceback, to be reported."""
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("grader.grading.grade_submission", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main([str(ALICE), "--out", "unused"])
