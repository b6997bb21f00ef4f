"""The report's diagnostics with the real sandbox: on alice (correct) and on broken submissions."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from grader.assignment import load_assignment
from grader.contract import SpecError
from grader.diagnostics import run_diagnostics
from grader.diagnostics.gradients import gradient_table
from grader.diagnostics.relerr import max_relative_error
from grader.diagnostics.spec import load_report_spec
from grader.diagnostics.training import carry_smoothing, chunk_sizes, wrap_updates
from grader.oracle import LiveOracle
from grader.sandbox import Limits, Sandbox

ROOT = Path(__file__).resolve().parents[2]
ALICE = ROOT / "submissions" / "alice"
SPECS = ROOT / "specs"


def _alice_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    source = (ALICE / "rnn.py").read_text()
    assert old in source, f"alice's rnn.py changed: {old!r} not found"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "rnn.py").write_text(source.replace(old, new))
    return folder


@pytest.fixture(scope="module")
def assignment():
    return load_assignment()


@pytest.fixture
def small_specs(tmp_path) -> Path:
    """The shipped specs with a short training run, so tests of broken submissions stay fast."""
    folder = tmp_path / "specs"
    shutil.copytree(SPECS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    report = yaml.safe_load((SPECS / "report.yaml").read_text())
    report["training"].update(
        text=str(SPECS / "texts" / "prose.txt"), text_chars=600, n_updates=60, chunks=3, passage_chars=100
    )
    (folder / "report.yaml").write_text(yaml.safe_dump(report))
    return folder


def _diagnose(folder: Path, assignment, limits=None):
    with Sandbox(folder, limits=limits or Limits(), functions=assignment.functions) as box:
        return run_diagnostics(box, assignment, LiveOracle(assignment))


@pytest.mark.slow
def test_alice_gets_a_clean_table_and_a_full_run(assignment):
    diagnostics = _diagnose(ALICE, assignment)
    spec = assignment.report.training
    assert [r.param for r in diagnostics.gradients.rows] == ["b", "c", "U", "W", "V"]
    for row in diagnostics.gradients.rows:
        assert row.vs_reference < 1e-10 and row.vs_numerical < 1e-6, row
    assert diagnostics.gradients.failure == "" and "K=5, m=6, tau=4" in diagnostics.gradients.case
    run = diagnostics.training
    assert run.failure == ""
    assert len(run.submission_smooth_loss) == len(run.reference_smooth_loss) == spec.n_updates
    # Same start, same chunks: the curves agree to rounding at first; AdaGrad's early steps then amplify
    # rounding differences (about tenfold per update), so later they agree only in shape.
    np.testing.assert_allclose(run.submission_smooth_loss[:5], run.reference_smooth_loss[:5], rtol=1e-12)
    np.testing.assert_allclose(run.submission_smooth_loss[-1], run.reference_smooth_loss[-1], rtol=0.1)
    assert run.reference_smooth_loss[-1] < 0.6 * run.reference_smooth_loss[0]
    assert [s.update for s in run.samples] == [300, 600, 900, 1200, 1500]
    assert all(len(s.text) == spec.sample_chars for s in run.samples)
    assert len(run.passage) == spec.passage_chars
    assert run.restart_updates == (300, 600, 900, 1200)
    assert run.wrap_updates == wrap_updates(spec.text_chars, spec.seq_length, chunk_sizes(spec.n_updates, spec.chunks))
    assert run.text_name == "prose" and run.text_chars == spec.text_chars


def test_a_wrong_dW_shows_in_both_columns(tmp_path, small_specs):
    folder = _alice_with(tmp_path, "wrong_dW", 'grads["W"] += da @ h_prev.T', 'grads["W"] += da @ h.T')
    rows = {r.param: r for r in _diagnose(folder, load_assignment(small_specs)).gradients.rows}
    assert rows["W"].vs_reference > 1e-2 and rows["W"].vs_numerical > 1e-2
    for k in "bcUV":
        assert rows[k].vs_reference < 1e-10 and rows[k].vs_numerical < 1e-6


def test_a_crashing_compute_gradients_leaves_no_table_but_a_run(tmp_path, small_specs):
    folder = _alice_with(
        tmp_path,
        "crash",
        "def compute_gradients(params, X, Y, h0):\n",
        "def compute_gradients(params, X, Y, h0):\n    raise RuntimeError('<b>not yet</b>')\n",
    )
    diagnostics = _diagnose(folder, load_assignment(small_specs))
    assert diagnostics.gradients.rows == ()
    assert "compute_gradients failed" in diagnostics.gradients.failure and "not yet" in diagnostics.gradients.failure
    assert "train failed on updates 1-20" in diagnostics.training.failure  # its train calls compute_gradients
    assert len(diagnostics.training.reference_smooth_loss) == 60


def test_a_crashing_forward_leaves_the_numerical_column_empty(tmp_path, small_specs):
    folder = _alice_with(
        tmp_path,
        "forward",
        "def forward(params, X, Y, h0):\n",
        "def forward(params, X, Y, h0, _calls=[]):\n"
        "    _calls.append(1)\n"
        "    if len(_calls) > 1: raise ValueError('second call')\n",
    )
    diagnostics = _diagnose(folder, load_assignment(small_specs))
    assert all(r.vs_numerical is None and r.vs_reference < 1e-10 for r in diagnostics.gradients.rows)
    assert "forward failed" in diagnostics.gradients.failure


@pytest.mark.parametrize("wrong, ends", [("1 / 0", True), ("loss, P[:, 1:] * np.nan, H", True),
                                         ("float(loss), P, H", False)],
                         ids=["raises", "wrong-shape-nan", "another-type-accepted"])
def test_the_gradient_table_makes_the_forward_calls_a_loop_of_calls_makes(tmp_path, assignment, wrong, ends):
    # forward says each time it runs; its sixth run (compute_gradients' own is the first, so the table's fifth
    # perturbed call, inside a batch) answers `wrong`. A loop stops at a refused answer: no forward runs after it.
    at = 6
    folder = _alice_with(tmp_path, "forward_at", "def forward(params, X, Y, h0):\n",
                         "def forward(params, X, Y, h0, _runs=[]):\n"
                         "    _runs.append(1)\n"
                         "    print('forward', len(_runs))\n"
                         "    loss, P, H = _forward(params, X, Y, h0)\n"
                         f"    return ({wrong}) if len(_runs) == {at} else (loss, P, H)\n\n\n"
                         "def _forward(params, X, Y, h0):\n")
    spec = assignment.report.gradients
    shapes = assignment.contract.param_shapes({"K": spec.K, "m": spec.m, "tau": spec.tau})
    perturbed = 2 * sum(min(spec.entries_per_param, int(np.prod(shape))) for shape in shapes.values())
    with Sandbox(folder, functions=assignment.functions) as box:
        table = gradient_table(box, assignment.contract, LiveOracle(assignment), spec)
        runs = box.output().stdout.split()[1::2]
    assert runs == [str(n) for n in range(1, (at if ends else 1 + perturbed) + 1)]
    if ends:
        assert table.failure.startswith("forward failed") and all(r.vs_numerical is None for r in table.rows)
    else:  # a value of another shape stops the batch; conform takes it, and the calls after it are sent again
        assert table.failure == "" and all(r.vs_numerical < 1e-6 for r in table.rows)


def test_a_broken_synthesize_keeps_the_curve(tmp_path, small_specs):
    folder = _alice_with(tmp_path, "synth", "    return out\n", "    return out[:-1]\n")
    run = _diagnose(folder, load_assignment(small_specs)).training
    assert len(run.submission_smooth_loss) == 60 and run.samples == () and run.passage == ""
    assert "synthesize failed after update 20" in run.failure


def test_a_sample_that_ends_the_worker_ends_the_samples_and_the_run_goes_on_in_a_fresh_one(tmp_path, small_specs):
    # Each sample goes to the worker with the next train call; the second sample's exit must not take that call.
    folder = _alice_with(tmp_path, "exits", "def synthesize(params, h0, x0, n, rng):\n",
                         "def synthesize(params, h0, x0, n, rng, _runs=[]):\n"
                         "    _runs.append(1)\n"
                         "    if len(_runs) == 2:\n"
                         "        import os\n"
                         "        os._exit(3)\n")
    run = _diagnose(folder, load_assignment(small_specs)).training
    assert len(run.submission_smooth_loss) == 60 and [s.update for s in run.samples] == [20]
    assert run.failure.startswith("synthesize failed after update 40, so there are no further samples")
    assert run.passage == ""


def test_a_hanging_train_is_cut_off_and_recorded(tmp_path, small_specs):
    folder = _alice_with(
        tmp_path,
        "hang",
        "    chars = sorted(set(text))\n",
        "    import time\n    time.sleep(60)\n    chars = sorted(set(text))\n",
    )
    # Stopped by the wall-clock cap after 2 s (call_seconds * wall_factor); every other call takes milliseconds.
    run = _diagnose(folder, load_assignment(small_specs), Limits(call_seconds=1.0, wall_factor=2.0)).training
    assert run.submission_smooth_loss == () and "train failed on updates 1-20" in run.failure


def test_wrap_updates_follow_the_contract_loop():
    # text of 100 chars, seq_length 25: e runs 25, 50, 75 > 74 -> reset after every 3rd update
    assert wrap_updates(100, 25, [7]) == (3, 6)
    # a reset on a chunk's last update is the next call's restart, not a wrap
    assert wrap_updates(100, 25, [3, 4]) == (6,)
    assert chunk_sizes(1500, 5) == [300] * 5 and chunk_sizes(7, 3) == [3, 2, 2]


def test_carried_smoothing_equals_one_smoothing_over_the_whole_run():
    losses = np.random.default_rng(0).uniform(20, 110, size=50)

    def smooth(values):  # the contract's: starts at the first loss
        out = [values[0]]
        for v in values[1:]:
            out.append(0.999 * out[-1] + 0.001 * v)
        return out

    whole = smooth(losses)
    carried = carry_smoothing(None, smooth(losses[:20]), 0.999)
    carried += carry_smoothing(carried[-1], smooth(losses[20:]), 0.999)
    np.testing.assert_allclose(carried, whole, rtol=1e-12)


def test_relative_error_uses_the_floor():
    assert max_relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-9]), 1e-6) == pytest.approx(1e-3)
    assert max_relative_error(np.zeros(3), np.zeros(3), 1e-6) == 0.0


def test_a_text_too_short_to_train_on_is_a_spec_error(tmp_path, small_specs):
    (tmp_path / "tiny.txt").write_text("abcabc")
    report = yaml.safe_load((small_specs / "report.yaml").read_text())
    report["training"]["text"] = str(tmp_path / "tiny.txt")
    (small_specs / "report.yaml").write_text(yaml.safe_dump(report))
    with pytest.raises(SpecError, match="fewer than seq_length"):
        load_assignment(small_specs)


def test_a_malformed_report_spec_is_a_spec_error(tmp_path, assignment):
    (tmp_path / "report.yaml").write_text("gradients: {seed: 1}\ntraining: {}\n")
    with pytest.raises(SpecError, match="report.yaml: gradients, field 'K': missing"):
        load_report_spec(tmp_path / "report.yaml", assignment.conventions)
    with pytest.raises(SpecError, match="no report spec"):
        load_report_spec(tmp_path / "missing.yaml", assignment.conventions)
