"""Fixtures for the sandbox tests: every test runs once per isolation tier available here."""

from pathlib import Path

import numpy as np
import pytest
from shipped_course import shipped

from grader.sandbox import Limits, Policy, Sandbox, available_tiers
from grader.settings import CACHE_ENV

HERE = Path(__file__).parent
HOSTILE = HERE / "hostile"
GOOD = HERE.parents[1] / "submissions" / "alice"  # a correct submission
SECRET_NAME = "RNN_GRADER_TEST_SECRET"
SECRET_VALUE = "canary-8d1f-hunter2"
# Limits no correct call comes near even on a loaded machine (a test that wants a timeout sets its own, far
# below what its hostile code takes), so no result depends on how busy the machine is.
FAST = Limits(call_seconds=30.0, total_seconds=120.0, cpu_seconds=60)
# A wall-clock cap (Limits.wall_factor) no test reaches, for calls that compute: a busy loop is then stopped
# by the CPU time it used alone (a timeout or the budget's, never 'stalled'), and a crash or a memory error
# comes whatever share of a CPU the call gets. Only a call that waits (sleep, a pipe) needs the cap.
CPU_ONLY = 1000.0
ASSIGNMENT = shipped()
FUNCTIONS = ASSIGNMENT.functions  # what the worker looks up in rnn.py
PACKAGES = ASSIGNMENT.allowed_imports  # what rnn.py may import


# Every tier the grader may use here (the weak one only with --allow-weak-sandbox) and the kit's.
TIERS_HERE = [*available_tiers(), "portable"]
# For a test of what the worker checks itself (what a reply may hold, how a failed import reads, which
# functions it found, what a traced call records) or of what the grader refuses before a worker starts:
# that code is the same whatever isolates the worker and whichever channel carries the frames, so the test
# runs in one tier, the grader's choice here, instead of proving the same thing again in each (about 0.15 s
# of CPU a sandbox start). Whatever depends on the tier (limits, kills, signals, exits, output, the
# channel's frames, files, network) stays in every tier.
IN_ONE_TIER = pytest.mark.parametrize("tier", TIERS_HERE[:1])


def policy_for(tier: str) -> Policy:
    return Policy.portable if tier == "portable" else Policy.allow_weak


@pytest.fixture(params=TIERS_HERE)
def tier(request):
    return request.param


@pytest.fixture(autouse=True)
def grader_secret(monkeypatch):
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)


@pytest.fixture
def open_box(tier):
    """open_box(case or path, limits=FAST) -> an entered Sandbox, closed and checked after."""
    boxes = []

    def open_(case, limits=FAST, **kwargs):
        path = case if isinstance(case, Path) else HOSTILE / case
        box = Sandbox(path, limits, tier=None if tier == "portable" else tier, policy=policy_for(tier),
                      **{"functions": FUNCTIONS, "packages": PACKAGES, **kwargs})
        boxes.append(box)
        return box.__enter__()

    yield open_
    for box in boxes:
        box.close()
    for box in boxes:
        assert box.leftover_processes() == [], f"processes left behind in tier {box.tier}"


@pytest.fixture
def rnn_args():
    """(params, X, Y, h0) for K=4, m=3, tau=5."""
    rng = np.random.default_rng(0)
    params = {"b": np.zeros((3, 1)), "c": np.zeros((4, 1)),
              "U": 0.01 * rng.standard_normal((3, 4)), "W": 0.01 * rng.standard_normal((3, 3)),
              "V": 0.01 * rng.standard_normal((4, 3))}
    X = np.eye(4)[:, [0, 1, 2, 3, 0]]
    Y = np.eye(4)[:, [1, 2, 3, 0, 1]]
    return params, X, Y, np.zeros((3, 1))


@pytest.fixture
def no_kept_passes(monkeypatch, tmp_path):
    """The machine as if no grading had run here before: no probe's pass kept (grader.sandbox.passes), so a test
    that stages a probe's outcome gets that outcome, not a pass an earlier grading kept."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
