"""The sandbox against a correct submission, and its refusals, in every available tier."""

import contextlib
import os

import numpy as np
import pytest

from grader.sandbox import TIERS, CallFailed, Defined, FailureKind, Limits, Policy, RngSeed, Sandbox, available_tiers

from .conftest import CPU_ONLY, FAST, FUNCTIONS, GOOD, HOSTILE, IN_ONE_TIER, PACKAGES, policy_for


def test_root_with_bwrap_gets_bubblewrap():
    if os.geteuid() != 0 or "bubblewrap" not in available_tiers():
        pytest.skip("needs root and a working bwrap")
    with Sandbox(GOOD, FAST, functions=FUNCTIONS) as box:
        assert box.tier == "bubblewrap"


def test_happy_path_in_the_tier_recorded_and_described(open_box, tier, rnn_args):
    box = open_box(GOOD)
    assert box.tier == tier and box.tier in (*TIERS, "portable")
    assert box.tier_description.endswith(".") and "limits:" in box.tier_description
    assert box.load_failure is None
    assert box.functions["forward"] == Defined(True, ("params", "X", "Y", "h0"))
    assert set(box.functions) == {"init_params", "forward", "compute_gradients", "clip_gradients",
                                  "adagrad_step", "synthesize", "train"}
    params = box.call("init_params", 4, 3, 0.01, RngSeed(1)).value
    rng = np.random.default_rng(1)
    assert np.array_equal(params["U"], 0.01 * rng.standard_normal((3, 4)))
    _, X, Y, h0 = rnn_args
    reply = box.call("forward", params, X, Y, h0, describe="K=4, m=3, tau=5")
    loss, P, H = reply.value
    assert type(P) is np.ndarray and P.shape == (4, 5) and np.allclose(P.sum(axis=0), 1)
    assert reply.seconds > 0 and box.timings["forward"] == [reply.seconds]


@IN_ONE_TIER
def test_in_place_updates_come_back_as_args_after(open_box, rnn_args):
    box = open_box(GOOD)
    params, X, Y, h0 = rnn_args
    grads = box.call("compute_gradients", params, X, Y, h0).value[0]
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    reply = box.call("adagrad_step", params, grads, memory, 0.1, return_args=(0, 2))
    assert reply.value is None and set(reply.args_after) == {0, 2}
    assert np.allclose(reply.args_after[2]["U"], grads["U"] ** 2)
    assert not np.array_equal(reply.args_after[0]["U"], params["U"])


@IN_ONE_TIER
def test_rng_is_deterministic_across_sandboxes(open_box):
    first = open_box("global_rng").call("forward", 0, 0, 0, 0).value
    second = open_box("global_rng").call("forward", 0, 0, 0, 0).value
    assert first == second


@IN_ONE_TIER
def test_unknown_tier_and_bad_return_args(open_box):
    with pytest.raises(ValueError, match="unknown sandbox tier"):
        Sandbox(GOOD, FAST, functions=FUNCTIONS, tier="chroot")
    with pytest.raises(ValueError, match="return_args"):
        open_box(GOOD).call("forward", 1, return_args=(3,))


@IN_ONE_TIER
@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "nothing-here", "is not a folder"),
    (lambda tmp: tmp, "no file named rnn.py"),
])
def test_refusals(open_box, tmp_path, make, message):
    box = open_box(make(tmp_path))
    assert box.load_failure.kind is FailureKind.refused and message in box.load_failure.message
    with pytest.raises(CallFailed) as raised:
        box.call("forward")
    assert raised.value.failure.kind is FailureKind.refused


def test_budget_makes_later_calls_fail_fast(open_box):
    box = open_box("loop_in_call", Limits(call_seconds=5.0, total_seconds=0.2, wall_factor=CPU_ONLY))
    with pytest.raises(CallFailed) as raised:
        box.call("forward", 0, 0, 0, 0, describe="K=4")
    assert raised.value.failure.kind is FailureKind.budget
    assert "ran out during forward (K=4)" in raised.value.failure.message
    with pytest.raises(CallFailed) as raised:
        box.call("init_params", 1, 1, 0.1, RngSeed(0))
    assert raised.value.failure.kind is FailureKind.budget  # refused before running: not a timeout


def test_concurrent_sandboxes_get_distinct_uids(tier):
    if tier in ("plain-process", "portable"):
        pytest.skip("no uid of its own in this tier")
    with Sandbox(GOOD, FAST, functions=FUNCTIONS, tier=tier, policy=Policy.allow_weak) as a, \
            Sandbox(GOOD, FAST, functions=FUNCTIONS, tier=tier, policy=Policy.allow_weak) as b:
        assert a._isolation.uid != b._isolation.uid
        assert a.call("clip_gradients", {"b": np.ones(2)}, 0.5).value["b"].tolist() == [0.5, 0.5]
        assert b.call("clip_gradients", {"b": np.ones(2)}, 0.5).value["b"].tolist() == [0.5, 0.5]


def test_a_worker_started_ahead_runs_no_code_of_the_submission_until_its_first_use(tier, tmp_path):
    (tmp_path / "rnn.py").write_text("open('imported', 'w').close()\n" + (GOOD / "rnn.py").read_text())

    def started() -> Sandbox:
        box = Sandbox(tmp_path, FAST, functions=FUNCTIONS, packages=PACKAGES, policy=policy_for(tier),
                      tier=None if tier == "portable" else tier)
        box.start()
        return box

    with contextlib.closing(started()) as idle:
        # The grader hangs up without the go-ahead: the worker, waiting for it, ends without importing rnn.py.
        channel, idle._channel = idle._channel, None
        channel.close()
        idle._process.wait()
        assert not (idle.scratch_dir / "imported").exists()
    with started() as used:
        assert used.load_failure is None and (used.scratch_dir / "imported").exists()
        assert used.call("clip_gradients", {"b": np.ones(2)}, 0.5).value["b"].tolist() == [0.5, 0.5]


def test_hostile_folder_has_enough_cases():
    assert len([p for p in HOSTILE.iterdir() if (p / "rnn.py").is_file()]) >= 25


def test_bubblewrap_hides_site_packages_under_usr_and_binds_back_the_allowed_ones(monkeypatch):
    """Debian's and Docker's Pythons install into /usr, which bubblewrap binds whole: mask it anyway."""
    from grader.sandbox.packages import Exposed
    from grader.sandbox.tiers import bubblewrap

    site, numpy_dir = "/usr/local/lib/python3.11/site-packages", "/usr/local/lib/python3.11/site-packages/numpy"
    monkeypatch.setattr(bubblewrap, "package_folders", lambda protected: [site])
    exposed = Exposed(("numpy",), (), (numpy_dir,), ("numpy",))
    args = bubblewrap.bwrap_arguments(root_mode=True, user_namespace=False, tmp_bytes=1024, exposed=exposed,
                                      protected=())
    masked = args.index(site)
    assert args[masked - 1] == "--tmpfs"
    bound = args.index(numpy_dir)
    assert args[bound - 1] == "--ro-bind" and args[bound + 1] == "/sandbox/site/numpy"
