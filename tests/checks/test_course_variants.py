"""The spec is the assignment: another year's conventions (mean loss, Adam) and a course's own spec folder
drive the reference, the checks, the hints and the report, without code changes."""

import functools
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from shipped_course import shipped

from grader.assignment import load_assignment, shipped_specs
from grader.checks.suite import suite_for
from grader.contract import Adam, LossReduction
from grader.grading import grade_submission
from grader.kit.record import write_reference_submission
from grader.specfile import SpecError, default_spec_dir

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
DEFAULT = shipped()
VARIANT = shipped("mean-adam")


@functools.cache
def graded(name: str, spec: str):
    assignment = DEFAULT if spec == "default" else VARIANT
    return grade_submission(SUBMISSIONS / name, assignment, diagnostics=False)


def losses(result) -> dict[str, float]:
    return {c.name: c.score for c in result.checks if c.score < c.max_score}


def test_the_variant_spec_is_shipped_and_named_by_its_folder():
    assert "mean-adam" in shipped_specs()
    assert VARIANT.spec_dir == default_spec_dir() / "variants" / "mean-adam"
    conventions = VARIANT.conventions
    assert conventions.loss is LossReduction.MEAN and isinstance(conventions.optimizer, Adam)
    assert "adam_step" in VARIANT.functions and "adagrad_step" not in VARIANT.functions
    names = {c.name for c in suite_for(VARIANT)}
    assert any(n.startswith("adam_step: ") for n in names) and not any(n.startswith("adagrad_step: ") for n in names)
    assert VARIANT.grading.total == 100


def test_an_unknown_spec_name_lists_the_shipped_ones():
    with pytest.raises(SpecError, match="mean-adam"):
        load_assignment("no-such-course")


@pytest.mark.slow
def test_the_variant_grades_its_own_reference_at_full_marks(tmp_path):
    write_reference_submission(tmp_path, VARIANT)
    result = grade_submission(tmp_path, VARIANT)
    assert losses(result) == {} and result.score == result.max_score == 100
    run = result.diagnostics.training
    assert run.failure == "" and run.eta == VARIANT.conventions.eta and run.optimizer == "Adam"


@pytest.mark.slow
def test_the_variant_grades_its_correct_example_at_full_marks():
    result = graded("mean_adam", "variant")
    assert losses(result) == {} and result.score == 100


@pytest.mark.slow
def test_a_submission_for_the_other_year_fails_with_hints_naming_the_mismatch():
    hints = {c.name: f"{c.reason} {c.hint}" for c in graded("alice", "variant").checks if c.score < c.max_score}
    assert "your loss is the sum over the sequence; this assignment takes the mean" in hints["forward: loss matches reference"]
    step = [h for n, h in hints.items() if n.startswith("adam_step: ")]
    banner = graded("alice", "variant").banner  # said once, at the top; the checks point there
    assert step and all(h.startswith("not run: adam_step") for h in step)
    assert "defines adagrad_step" in banner and "Adam" in banner
    # Which of the other year's differences the smallest case shows depends on the course's cases (a run of
    # one update has the same smooth loss under either optimizer); the hint names the other year either way.
    assert "as another year's version of the assignment did" in hints["train: smooth loss and params match the contract's loop"]

    hints = {c.name: f"{c.reason} {c.hint}" for c in graded("mean_adam", "default").checks if c.score < c.max_score}
    assert "your loss is the mean over the sequence" in hints["forward: loss matches reference"]
    assert all(h.startswith("not run: adagrad_step") for n, h in hints.items() if n.startswith("adagrad_step: "))
    assert "defines adam_step" in graded("mean_adam", "default").banner


@pytest.fixture
def course(tmp_path) -> Path:
    """A course's own spec folder: other conventions, other points, thresholds and visibility, a shorter report."""
    folder = tmp_path / "course"
    shutil.copytree(default_spec_dir(), folder, ignore=shutil.ignore_patterns("__pycache__", "variants", "*.py"))
    contract = yaml.safe_load((folder / "contract.yaml").read_text())
    contract["conventions"].update(clip_bound=3.0, smooth_decay=0.99, eta=0.05, seq_length=10, sigma=0.1,
                                   optimizer={"name": "adagrad", "eps": 1e-6})
    for fn, arg, value in (("clip_gradients", "bound", 3.0), ("adagrad_step", "eps", 1e-6), ("train", "eta", 0.05),
                           ("train", "seq_length", 10)):
        next(a for a in contract["functions"][fn]["args"] if a["name"] == arg)["default"] = value
    (folder / "contract.yaml").write_text(yaml.safe_dump(contract, sort_keys=False))
    grading = yaml.safe_load((folder / "grading.yaml").read_text())
    grading["checks"]["forward: H matches reference"].update(points=2, visibility="after_due_date")
    grading["checks"]["forward: loss matches reference"].update(points=6, threshold=1e-9)
    (folder / "grading.yaml").write_text(yaml.safe_dump(grading, sort_keys=False))
    report = yaml.safe_load((folder / "report.yaml").read_text())
    report["training"].update(text_chars=600, n_updates=60, chunks=3, passage_chars=50, m=8)
    (folder / "report.yaml").write_text(yaml.safe_dump(report, sort_keys=False))
    return folder


@pytest.mark.slow
def test_a_course_spec_folder_is_honoured_by_every_part(course, tmp_path):
    assignment = load_assignment(course)
    reference = tmp_path / "reference"
    write_reference_submission(reference, assignment)
    result = grade_submission(reference, assignment)
    assert losses(result) == {} and result.score == 100
    by_name = {c.name: c for c in result.checks}
    assert by_name["forward: H matches reference"].max_score == 2
    assert by_name["forward: H matches reference"].visibility == "after_due_date"
    assert by_name["forward: loss matches reference"].max_score == 6
    run = result.diagnostics.training
    assert (run.eta, run.seq_length, run.m, run.n_updates) == (0.05, 10, 8, 60)
    assert result.spec_digest == assignment.digest != DEFAULT.digest

    # alice follows the shipped conventions: her clip bound, eps, smoothing and defaults are now wrong.
    lost = losses(grade_submission(SUBMISSIONS / "alice", assignment, diagnostics=False))
    assert "clip_gradients: bound respected on both sides" in lost
    assert "train: smooth loss and params match the contract's loop" in lost
    assert not any(name.startswith(("forward: ", "compute_gradients: ", "synthesize: ")) for name in lost)


def test_the_reference_follows_the_conventions_it_is_given():
    from reference.rnn import RNN

    model = RNN(**VARIANT.conventions.reference_options())
    assert (model.loss, model.optimizer, model.eta) == ("mean", "adam", VARIANT.conventions.eta)
    grads = {"b": np.array([[9.0], [-9.0]])}
    assert model.clip_gradients(grads)["b"].tolist() == [[5.0], [-5.0]]


@pytest.mark.slow
def test_the_variant_sees_clipping_in_the_wrong_place_and_none_in_train(tmp_path):
    """The mean loss keeps dc and dV within [-1, 1]; the clipping checks scale V up so that db, dU and dW pass
    the bound, and both years charge the same mistakes."""
    source = (SUBMISSIONS / "mean_adam" / "rnn.py").read_text()
    inside, unclipped = tmp_path / "inside", tmp_path / "unclipped"
    inside.mkdir()
    unclipped.mkdir()
    assert source.count("        adam_step(params, clip_gradients(grads), first, second, t, eta)") == 1
    (unclipped / "rnn.py").write_text(source.replace("adam_step(params, clip_gradients(grads), first, second, t, eta)",
                                                     "adam_step(params, grads, first, second, t, eta)"))
    (inside / "rnn.py").write_text(source.replace("def compute_gradients(params, X, Y, h0):",
                                                  "def compute_gradients(params, X, Y, h0):\n"
                                                  "    grads, loss, h = _compute_gradients(params, X, Y, h0)\n"
                                                  "    return clip_gradients(grads), loss, h\n\n\n"
                                                  "def _compute_gradients(params, X, Y, h0):"))
    lost = losses(grade_submission(inside, VARIANT, diagnostics=False))
    assert "compute_gradients: gradients are not clipped" in lost
    assert all(name.startswith("compute_gradients: ") for name in lost)
    lost = losses(grade_submission(unclipped, VARIANT, diagnostics=False))
    assert "train: clipping applied" in lost and all(name.startswith("train: ") for name in lost)


@pytest.mark.slow
def test_a_smooth_loss_started_at_zero_costs_the_smooth_loss_part_only_in_both_years(tmp_path):
    """Its curve rises from 0, but the losses train's compute_gradients returned (watched while it ran) drop as
    the reference's do: 'smooth loss decreases' judges those, and the start is counted once, where it is."""
    source = (SUBMISSIONS / "mean_adam" / "rnn.py").read_text()
    old = "        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss"
    assert source.count(old) == 1
    (tmp_path / "rnn.py").write_text(source.replace(old, "        smooth = 0.999 * (smooth or 0.0) + 0.001 * loss"))
    result = grade_submission(tmp_path, VARIANT, diagnostics=False)
    assert losses(result) == {"train: smooth loss and params match the contract's loop": 1.5}
    (hint,) = [c.hint for c in result.checks if c.score < c.max_score]
    assert "the smooth loss starts at 0" in hint
