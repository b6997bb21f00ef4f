"""End-to-end grading in the real sandbox: example submissions lose points on exactly their bug's checks."""

import dataclasses
import functools
import shutil
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.checks.core import Ctx, run_check
from grader.checks.suite import suite_for
from grader.grading import grade_submission
from grader.oracle import LiveOracle
from grader.sandbox import Limits, Sandbox

ASSIGNMENT = load_assignment()
CHECKS = suite_for(ASSIGNMENT)

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
TRAIN = ("train: smooth loss matches reference", "train: clipping applied",
         "train: hprev carried between updates and reset at the wrap")

# Each bug's expected scores on the checks it fails; every other check must get full marks.
# train runs the submission's own compute_gradients and adagrad_step, so their bugs show there too.
EXPECTED_LOSSES = {
    "bug_no_bptt": {
        "compute_gradients: db matches reference": 0, "compute_gradients: dU matches reference": 0,
        "compute_gradients: dW matches reference": 0, "compute_gradients: consistent with own forward": 1.6,
        **dict.fromkeys(TRAIN, 0),
    },
    "bug_eps_outside": {"adagrad_step: eps inside the square root": 0, **dict.fromkeys(TRAIN, 0)},
    "bug_argmax_sampling": {"synthesize: uses the given rng": 0, "synthesize: samples follow the model's distribution": 0},
    "bug_global_rng": {"synthesize: same seed, same output": 0},
    "bug_hprev_not_carried": {
        "train: smooth loss matches reference": 0, "train: clipping applied": 0,
        "train: hprev carried between updates and reset at the wrap": 1.5,
    },
    "bug_loss_averaged": {
        "forward: loss matches reference": 0, "compute_gradients: consistent with own forward": 0,
        "compute_gradients: returned loss and h_last": 1, "train: smooth loss matches reference": 2,
    },
    "bug_clip_in_place": {"clip_gradients: input not modified": 0},
    "bug_softmax_wrong_axis": {
        "forward: loss matches reference": 0, "forward: P matches reference": 0, "forward: P columns are distributions": 0,
        **{f"compute_gradients: d{k} matches reference": 0 for k in "bcUWV"},
        "compute_gradients: consistent with own forward": 0, "compute_gradients: returned loss and h_last": 1,
        "compute_gradients: gradients are not clipped": 0, **dict.fromkeys(TRAIN, 0),
        "train: smooth loss decreases over a longer run": 0,
    },
}
CORRECT = ["alice", "vectorised", "class_based", "chatty"]


@functools.cache
def graded(name: str):
    """One grading per example submission (scores only), shared by the tests that read it."""
    return grade_submission(SUBMISSIONS / name, ASSIGNMENT, diagnostics=False)


def losses(result) -> dict[str, float]:
    return {c.name: c.score for c in result.checks if c.score < c.max_score}


@pytest.fixture(scope="module")
def reference_submission(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    shutil.copy(ROOT / "reference" / "rnn.py", folder / "rnn.py")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_LOSSES))
def test_each_bug_loses_exactly_its_checks(name):
    result = graded(name)
    assert losses(result) == pytest.approx(EXPECTED_LOSSES[name])
    for check in result.checks:
        if check.score < check.max_score:
            assert check.reason and "Smallest failing case:" in check.feedback


@pytest.mark.slow
@pytest.mark.parametrize("name", CORRECT)
def test_correct_submissions_get_full_marks(name):
    result = graded(name)
    assert losses(result) == {}
    assert result.score == result.max_score == 100


@pytest.mark.slow
def test_the_reference_gets_full_marks(reference_submission):
    assert losses(grade_submission(reference_submission, ASSIGNMENT)) == {}


@pytest.mark.slow
def test_grading_is_deterministic():
    def stable(result):
        checks = [(c.name, c.score, c.reason, c.feedback, c.hint) for c in result.checks]
        return checks, result.diagnostics

    first, second = (grade_submission(SUBMISSIONS / "bug_no_bptt", ASSIGNMENT) for _ in range(2))
    assert first.diagnostics is not None and first.diagnostics.gradients.rows
    assert stable(first) == stable(second)


@pytest.mark.slow
def test_hints_name_the_bug():
    hints = {c.name: c.hint for c in graded("bug_no_bptt").checks}
    assert "W^T dL/da_{t+1}" in hints["compute_gradients: dW matches reference"]
    hints = {c.name: c.hint for c in graded("bug_eps_outside").checks}
    assert "outside the square root" in hints["adagrad_step: eps inside the square root"]


@pytest.mark.slow
def test_the_student_kit_runs_only_visible_checks():
    spec = ASSIGNMENT.grading
    result = grade_submission(SUBMISSIONS / "alice", ASSIGNMENT, include_hidden=False, diagnostics=False)
    visible = [c.name for c in CHECKS if spec.checks[c.name].visibility == "visible"]
    assert [c.name for c in result.checks] == visible
    assert result.self_check and result.hidden_checks_not_run == len(CHECKS) - len(visible) > 0
    assert result.max_score == sum(spec.checks[n].points for n in visible)


@pytest.mark.slow
def test_missing_function_and_short_signature_fail_only_their_checks(tmp_path):
    source = (SUBMISSIONS / "vectorised" / "rnn.py").read_text()
    source = source.replace("def clip_gradients(grads, bound=5.0):", "def clip_gradients(grads):\n    bound = 5.0")
    source = source.replace("def train(", "def training(")
    (tmp_path / "rnn.py").write_text(source)
    result = grade_submission(tmp_path, ASSIGNMENT, diagnostics=False)
    failed = {c.name: c.reason for c in result.checks if c.score < c.max_score}
    assert set(failed) == {c.name for c in CHECKS if c.function in ("train", "clip_gradients")}
    assert all("clip_gradients takes 1 parameter(s)" in failed[c.name] for c in CHECKS if c.function == "clip_gradients")
    assert all("does not define a function train(" in failed[c.name] for c in CHECKS if c.function == "train")


def test_a_submission_that_cannot_load_fails_everything_quickly(tmp_path):
    (tmp_path / "rnn.py").write_text("def forward(params, X, Y, h0)\n    return 0\n")
    result = grade_submission(tmp_path, ASSIGNMENT, diagnostics=False)
    assert result.timings == {}  # not one call was attempted
    assert result.score == 0 and "syntax error" in result.load_failure.message
    assert all("syntax error" in c.reason for c in result.checks)


def test_a_timeout_stops_the_check_at_once_and_names_the_case(tmp_path):
    source = (SUBMISSIONS / "vectorised" / "rnn.py").read_text()
    source = source.replace("    xs, ys = X.argmax(axis=0), Y.argmax(axis=0)\n",
                            "    xs, ys = X.argmax(axis=0), Y.argmax(axis=0)\n    if X.shape[1] > 1:\n        import time\n        print('slow call', flush=True)\n        time.sleep(60)\n")
    (tmp_path / "rnn.py").write_text(source)
    spec, oracle = ASSIGNMENT.grading, LiveOracle(ASSIGNMENT)
    check = next(c for c in CHECKS if c.name == "forward: loss matches reference")
    with Sandbox(tmp_path, limits=Limits(call_seconds=5.0), functions=ASSIGNMENT.functions) as box:
        outcome = run_check(check, Ctx(box, ASSIGNMENT, oracle, spec.checks[check.name]), 25)
        assert box.output().stdout.count("slow call") == 1  # one timeout, no shrinking through more of them
        assert outcome.failed_parts and "tau=" in outcome.reason
        # the worker restarts: the next check runs normally
        clip = next(c for c in CHECKS if c.name == "clip_gradients: input not modified")
        assert not run_check(clip, Ctx(box, ASSIGNMENT, oracle, spec.checks[clip.name]), 5).failed_parts


def test_results_round_trip_through_dicts(tmp_path):
    (tmp_path / "rnn.py").write_text("raise SystemExit(3)\n")
    result = grade_submission(tmp_path, ASSIGNMENT, diagnostics=False)
    assert type(result).from_dict(dataclasses.asdict(result)) == result
