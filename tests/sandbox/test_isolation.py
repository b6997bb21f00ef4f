"""Which tier runs, what it hides, what a submission may import, and the refusal when nothing strong works."""

import importlib.util
import os
import stat
from pathlib import Path

import pytest

from grader.sandbox import CallFailed, FailureKind, Policy, Sandbox, SandboxUnavailable
from grader.sandbox import isolation
from grader.sandbox.tiers import bubblewrap, unprivileged

from .conftest import FAST, GOOD, HOSTILE

REPO = HOSTILE.parents[2]
STRONG = ("bubblewrap", "unprivileged-user")


def installed_file(name: str) -> str:
    return os.path.realpath(importlib.util.find_spec(name).origin)


def test_every_allowed_package_imports_and_plt_show_is_harmless(open_box):
    box = open_box("common_imports", FAST)
    assert box.load_failure is None, box.load_failure
    total, frame_sum, numpy_sum, backend = box.call("forward", [0.0, 1.0]).value
    assert (frame_sum, numpy_sum, backend.lower()) == (1.0, 1.0, "agg") and 1.2 < total < 1.3


def test_an_import_outside_the_set_names_the_module_the_line_and_the_set(open_box):
    failure = open_box("import_not_allowed").load_failure
    assert failure.kind is FailureKind.import_error
    assert failure.message == (
        "Importing rnn.py failed with ModuleNotFoundError: rnn.py, line 4 imports yaml, which the grader does "
        "not offer; a submission may import numpy, scipy, matplotlib, pandas, tqdm and Python's standard library.")


def test_the_grader_and_other_installed_packages_cannot_be_imported(open_box):
    imported = open_box("read_installed").call("import_names", ["grader", "reference", "yaml", "hypothesis"]).value
    assert imported == []


def test_strong_tiers_hide_installed_files_the_grader_and_the_reference(open_box, tier):
    targets = [installed_file("yaml"), installed_file("hypothesis"), installed_file("grader"),
               str(REPO / "reference" / "rnn.py"), str(REPO / "specs" / "grading.yaml")]
    readable = open_box("read_installed").call("forward", targets).value
    if tier in STRONG:
        assert readable == []
    else:
        assert readable == targets  # recorded: what the weak tier (and the kit's) can read


def test_a_classmates_scratch_copy_is_out_of_reach(open_box, tier):
    classmate = open_box(GOOD)
    target = str(classmate.scratch_dir / "rnn.py")
    readable = open_box("read_installed").call("forward", [target]).value
    if tier in STRONG:
        assert readable == []
    else:
        assert readable == [target]


def test_sandbox_folders_are_private(open_box, tier):
    box = open_box(GOOD)
    root = box.scratch_dir.parent
    assert stat.S_IMODE(root.stat().st_mode) in (0o700, 0o711)  # 0711: a worker uid may pass, never list
    for path in [box.scratch_dir, *box.scratch_dir.rglob("*")]:
        assert stat.S_IMODE(path.lstat().st_mode) & 0o077 == 0, path
    if tier in ("unprivileged-user", "plain-process"):
        assert not str(root).startswith("/tmp/"), "tiers sharing the host's /tmp keep their folders out of it"


@pytest.fixture
def no_bwrap(monkeypatch):
    """This machine as a container without bubblewrap: the probes forget what they found."""
    monkeypatch.setattr(bubblewrap.shutil, "which", lambda name: None)
    for probe in (bubblewrap._working_mode, unprivileged._reason):
        probe.cache_clear()
    yield
    for probe in (bubblewrap._working_mode, unprivileged._reason):
        probe.cache_clear()


def test_without_a_strong_tier_the_grader_refuses_and_says_how_to_fix_it(no_bwrap):
    reasons = isolation.reasons()
    if reasons["unprivileged-user"] is None:
        pytest.skip("this machine has a working unprivileged-user tier")
    with pytest.raises(SandboxUnavailable) as raised:
        Sandbox(GOOD, FAST)
    message = str(raised.value)
    assert "bwrap is not installed" in message and reasons["unprivileged-user"] in message
    assert "apt-get install bubblewrap" in message and "--allow-weak-sandbox" in message


def test_a_weak_tier_runs_only_when_accepted_and_says_so(no_bwrap):
    if isolation.reasons()["unprivileged-user"] is None:
        pytest.skip("this machine has a working unprivileged-user tier")
    with Sandbox(GOOD, FAST, policy=Policy.allow_weak) as box:
        assert box.tier == "plain-process" and box.weak
        assert box.tier_description.startswith("WEAK ISOLATION")
    with pytest.raises(SandboxUnavailable, match="weak"):
        Sandbox(GOOD, FAST, tier="plain-process")


def test_the_kit_never_refuses(no_bwrap):
    with Sandbox(GOOD, FAST, policy=Policy.portable) as box:
        assert box.tier == "portable" and not box.weak
        with pytest.raises(CallFailed):
            box.call("forward")  # a wrong call fails like any other; the sandbox itself runs
