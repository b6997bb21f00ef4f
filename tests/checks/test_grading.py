"""End-to-end grading in the real sandbox: example submissions lose points on exactly their bug's checks."""

import dataclasses
import shutil
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.assignment import load_assignment
from grader.checks.core import Ctx, run_check
from grader.checks.suite import suite_for
from grader.grading import grade_submission
from grader.oracle import LiveOracle
from grader.sandbox import Limits, Sandbox

ASSIGNMENT = shipped()
CHECKS = suite_for(ASSIGNMENT)

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
# Each single-bug example: the function that holds its bug, its expected scores on the checks it fails (every
# other check gets full marks), and words its hint must contain. Error carried forward: a function that is
# right given the student's other (wrong) functions keeps its points, so each bug costs its own function only.
BUGS = {
    "bug_no_bptt": ("compute_gradients", {"compute_gradients: gradients match reference": 18 - 3 * 3.6,
                                          "compute_gradients: consistent with own forward": 1.6}, "dL/da_{t+1}"),
    "bug_eps_outside": ("adagrad_step", {"adagrad_step: eps inside the square root, with the contract's value": 1},
                        "outside the square root"),
    "bug_eps_value": ("adagrad_step", {"adagrad_step: eps inside the square root, with the contract's value": 1},
                      "float64's machine epsilon"),
    "bug_argmax_sampling": ("synthesize", {"synthesize: draws from the given rng": 0,
                                           "synthesize: samples follow the model's distribution": 0}, "argmax"),
    "bug_global_rng": ("synthesize", {"synthesize: same seed, same output": 0, "synthesize: draws from the given rng": 0},
                       "rng"),
    "bug_x0_included": ("synthesize", {"synthesize: length and range": 0}, "x0"),
    "bug_hprev_not_carried": ("train", {"train: smooth loss and params match the contract's loop": 0,
                                        "train: hprev carried between updates and reset at the wrap": 1.5},
                              "hprev is never carried over"),
    "bug_smoothing_099": ("train", {"train: smooth loss and params match the contract's loop": 1.5}, "0.99"),
    "bug_memory_unclipped": ("train", {"train: smooth loss and params match the contract's loop": 0}, "before clipping"),
    "bug_loss_after_update": ("train", {"train: smooth loss and params match the contract's loop": 1.5}, "after the update"),
    "bug_loss_averaged": ("forward", {"forward: loss matches reference": 0}, "mean over the sequence"),
    "bug_softmax_wrong_axis": ("forward", {"forward: P matches reference": 0, "forward: P columns are distributions": 0},
                               "wrong axis"),
    "bug_float32": ("forward", {"forward: float64 arithmetic": 0}, "float32"),
    "bug_unstable_softmax": ("forward", {"forward: stable with large logits": 0}, "maximum"),
    "bug_clip_in_place": ("clip_gradients", {"clip_gradients: input not modified": 0}, "caller's array"),
    "bug_crash_m1": ("compute_gradients", {"compute_gradients: edge sizes (m = 1, tau = 1, K = 2)": 0}, "typical sizes"),
    "bug_clip_in_gradients": ("compute_gradients", {"compute_gradients: gradients are not clipped": 0}, "clipped"),
    # train's loop, each fact named from a trace of its calls (grader.checks.train_trace)
    "bug_hprev_reset_early": ("train", {"train: smooth loss and params match the contract's loop": 0,
                                        "train: hprev carried between updates and reset at the wrap": 1.5},
                              "reset before the wrap"),
    "bug_hprev_never_reset": ("train", {"train: smooth loss and params match the contract's loop": 0,
                                        "train: hprev carried between updates and reset at the wrap": 1.5},
                              "not reset to zeros at the wrap"),
    "bug_wrap_early": ("train", {"train: smooth loss and params match the contract's loop": 0,
                                 "train: hprev carried between updates and reset at the wrap": 1.5}, "one window early"),
    "bug_last_partial_window": ("train", {"train: smooth loss and params match the contract's loop": 0,
                                          "train: hprev carried between updates and reset at the wrap": 1.5},
                                "did not wrap to 0 in time"),
    "bug_smooth_start_zero": ("train", {"train: smooth loss and params match the contract's loop": 1.5},
                              "smooth loss starts at 0"),
    "bug_smooth_start_uniform": ("train", {"train: smooth loss and params match the contract's loop": 1.5},
                                 "min-char-rnn"),
    "bug_early_stop": ("train", {"train: smooth loss and params match the contract's loop": 0}, "stopped early"),
    "bug_init_uniform": ("init_params", {"init_params: draws in contract order": 0,
                                         "init_params: spread matches sigma": 0}, "uniform"),
    "bug_init_sigma_hardcoded": ("init_params", {"init_params: draws in contract order": 0,
                                                 "init_params: spread matches sigma": 0}, "ignores its sigma argument"),
    "bug_eps_float32": ("adagrad_step", {"adagrad_step: eps inside the square root, with the contract's value": 1},
                        "float32's machine epsilon"),
    "bug_float32_hidden": ("forward", {"forward: float64 arithmetic": 0}, "float32"),
    "bug_float32_backward": ("compute_gradients", {"compute_gradients: float64 arithmetic": 0}, "float32"),
}
# The mistake ids (grader.mistakes) each example's failed checks of its own function name, as the class overview
# counts them; bug_crash_m1's crash at m = 1 names none (the overview lists it to look at by hand).
NAMED = {
    "bug_no_bptt": {"compute_gradients.no_bptt"}, "bug_eps_outside": {"adagrad_step.eps_outside"},
    "bug_eps_value": {"adagrad_step.eps_value"}, "bug_eps_float32": {"adagrad_step.eps_value"},
    "bug_argmax_sampling": {"synthesize.argmax", "synthesize.rng_ignored"}, "bug_global_rng": {"synthesize.global_rng"},
    "bug_x0_included": {"synthesize.x0_included"}, "bug_hprev_not_carried": {"train.hprev_not_carried"},
    "bug_smoothing_099": {"train.smooth_decay"}, "bug_memory_unclipped": {"train.memory_of_unclipped"},
    "bug_loss_after_update": {"train.loss_after_update"}, "bug_loss_averaged": {"forward.loss_reduction"},
    "bug_softmax_wrong_axis": {"forward.softmax_axis"}, "bug_float32": {"forward.float32"},
    "bug_float32_hidden": {"forward.float32"}, "bug_float32_backward": {"compute_gradients.float32"},
    "bug_unstable_softmax": {"forward.unstable_softmax"}, "bug_clip_in_place": {"clip_gradients.in_place"},
    "bug_crash_m1": set(), "bug_clip_in_gradients": {"compute_gradients.clipped"},
    "bug_hprev_reset_early": {"train.hprev_reset_early"}, "bug_hprev_never_reset": {"train.hprev_not_reset"},
    "bug_wrap_early": {"train.wrap_early"}, "bug_last_partial_window": {"train.wrap_late"},
    "bug_smooth_start_zero": {"train.smooth_start"}, "bug_smooth_start_uniform": {"train.smooth_start"},
    "bug_early_stop": {"train.stopped_early"}, "bug_init_uniform": {"init_params.uniform"},
    "bug_init_sigma_hardcoded": {"init_params.sigma_ignored"},
}
EXPECTED_LOSSES = {name: losses for name, (_, losses, _) in BUGS.items()}
CORRECT = ["alice", "vectorised", "class_based", "chatty"]


def test_every_example_is_listed_as_a_bug_or_as_correct():
    # mean_adam is written for specs/variants/mean-adam: tests/checks/test_course_variants.py grades it
    examples = {p.name for p in SUBMISSIONS.iterdir() if p.is_dir() and p.name not in ("template", "mean_adam")}
    assert examples == set(BUGS) | set(CORRECT)


def losses(result) -> dict[str, float]:
    return {c.name: c.score for c in result.checks if c.score < c.max_score}


@pytest.fixture(scope="module")
def reference_submission(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    shutil.copy(ROOT / "reference" / "rnn.py", folder / "rnn.py")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_LOSSES))
def test_each_bug_loses_exactly_its_checks(name, graded_example):
    result = graded_example(name)
    assert losses(result) == pytest.approx(EXPECTED_LOSSES[name])
    for check in result.checks:
        if check.score < check.max_score:
            assert check.reason and "Smallest failing case:" in check.feedback


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_bug_costs_at_most_two_checks_of_its_own_function_with_a_hint_naming_it(name, graded_example):
    function, _, named = BUGS[name]
    failed = [c for c in graded_example(name).checks if c.score < c.max_score]
    assert 1 <= len(failed) <= 2
    assert {c.function for c in failed} == {function}
    assert any(named in c.hint for c in failed), [c.hint for c in failed]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_bug_is_named_by_its_mistakes_id(name, graded_example):
    function = BUGS[name][0]
    failed = [c for c in graded_example(name).checks if c.score < c.max_score and c.function == function]
    assert {c.cause for c in failed if c.cause} == NAMED[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_submissions_get_full_marks(name, graded_example):
    result = graded_example(name)
    assert losses(result) == {}
    assert result.score == result.max_score == 100


@pytest.mark.slow
def test_the_blank_template_and_a_submission_whose_every_function_raises_score_nothing(tmp_path):
    """No check is passed for free: not an edge-size check (a crash at every size is no bug another check
    owns), not train's (its own crash is not put down to compute_gradients, even when they are one function)."""
    aliased = tmp_path / "aliased"
    aliased.mkdir()
    (aliased / "rnn.py").write_text("def _fail(*args, **kwargs):\n    raise ValueError('not done')\n\n\n"
                                    "init_params = forward = compute_gradients = clip_gradients = adagrad_step = "
                                    "synthesize = train = _fail\n")
    for folder in (SUBMISSIONS / "template", aliased):
        result = grade_submission(folder, ASSIGNMENT, diagnostics=False)
        assert result.score == 0, {c.name: c.score for c in result.checks if c.score}


@pytest.mark.slow
def test_the_reference_gets_full_marks(reference_submission):
    assert losses(grade_submission(reference_submission, ASSIGNMENT)) == {}


@pytest.mark.slow
def test_grading_is_deterministic_and_answers_kept_in_the_cache_grade_as_the_reference_computing_them(tmp_path):
    """Three gradings of one submission, with its report: the reference's answers computed, computed and kept,
    read back; the same checks, messages and report each time."""
    def stable(result):
        return [(c.name, c.score, c.reason, c.feedback, c.hint) for c in result.checks], result.diagnostics

    def graded(oracle):
        return stable(grade_submission(SUBMISSIONS / "bug_no_bptt", ASSIGNMENT, oracle=oracle))

    computed = graded(LiveOracle(ASSIGNMENT))
    assert computed[1] is not None and computed[1].gradients.rows
    kept = LiveOracle(ASSIGNMENT, tmp_path)
    kept.answers.min_seconds = 0.0  # keep every answer the store can replay, cheap ones too
    assert graded(kept) == computed  # the first grading writes the answers
    written = {path: path.stat().st_ino for path in tmp_path.rglob("*.npz")}
    assert len(written) > 100
    read_back = LiveOracle(ASSIGNMENT, tmp_path)
    read_back.answers.min_seconds = 0.0
    assert graded(read_back) == computed
    assert {path: path.stat().st_ino for path in tmp_path.rglob("*.npz")} == written  # read, none computed again


@pytest.mark.slow
def test_a_function_that_is_right_given_a_wrong_one_keeps_its_points_and_says_which_to_fix(graded_example):
    checks = {c.name: c for c in graded_example("bug_softmax_wrong_axis").checks}
    for name, culprit in (("compute_gradients: gradients match reference", "forward"),
                          ("train: smooth loss and params match the contract's loop", "compute_gradients")):
        assert checks[name].score == checks[name].max_score
        assert checks[name].carried_from == culprit and f"Fix {culprit} first" in checks[name].feedback
    checks = {c.name: c for c in graded_example("bug_eps_outside").checks}
    assert checks["train: smooth loss and params match the contract's loop"].carried_from == "adagrad_step"


@pytest.mark.slow
def test_carried_errors_can_be_penalized(tmp_path):
    spec = tmp_path / "spec"
    shutil.copytree(ROOT / "specs", spec)
    grading = spec / "grading.yaml"
    grading.write_text(grading.read_text().replace("carried_errors: forgive", "carried_errors: penalize"))
    result = grade_submission(SUBMISSIONS / "bug_loss_averaged", load_assignment(spec), diagnostics=False)
    failed = {c.name: c for c in result.checks if c.score < c.max_score}
    assert "compute_gradients: returned loss and h_last" in failed
    assert "carried_errors: penalize" in failed["compute_gradients: returned loss and h_last"].feedback


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
    # said once, at the top; each check only points there
    assert "clip_gradients takes 1 parameter(s)" in result.banner and "does not define a function train(" in result.banner
    assert all(reason.startswith("not run: clip_gradients cannot be called") for name, reason in failed.items()
               if name.startswith("clip_gradients"))
    assert not any("takes 1 parameter" in reason for reason in failed.values())


def test_a_submission_that_cannot_load_fails_everything_quickly(tmp_path):
    (tmp_path / "rnn.py").write_text("def forward(params, X, Y, h0)\n    return 0\n")
    result = grade_submission(tmp_path, ASSIGNMENT, diagnostics=False)
    assert result.timings == {}  # not one call was attempted
    assert result.score == 0 and "syntax error" in result.load_failure.message
    assert all(c.reason == "not run: rnn.py could not be loaded (the message at the top says why)"
               for c in result.checks)


def test_a_timeout_stops_the_check_at_once_and_names_the_case(tmp_path):
    source = (SUBMISSIONS / "vectorised" / "rnn.py").read_text()
    source = source.replace("    xs, ys = X.argmax(axis=0), Y.argmax(axis=0)\n",
                            "    xs, ys = X.argmax(axis=0), Y.argmax(axis=0)\n    if X.shape[1] > 1:\n"
                            "        import time\n        print('slow call', flush=True)\n        time.sleep(60)\n")
    (tmp_path / "rnn.py").write_text(source)
    spec, oracle = ASSIGNMENT.grading, LiveOracle(ASSIGNMENT)
    check = next(c for c in CHECKS if c.name == "forward: loss matches reference")
    # The sleeping call is stopped by the wall-clock cap, call_seconds * wall_factor = 2 s; every other call
    # needs milliseconds of CPU time.
    with Sandbox(tmp_path, limits=Limits(call_seconds=1.0, wall_factor=2.0), functions=ASSIGNMENT.functions) as box:
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


def _with_train(tmp_path: Path, name: str, train: str) -> Path:
    """alice with her train replaced."""
    source = (SUBMISSIONS / "alice" / "rnn.py").read_text()
    folder = tmp_path / name
    folder.mkdir()
    (folder / "rnn.py").write_text(source[:source.index("def train(")] + train)
    return folder


STUB = """def train(text, params, n_updates, eta=0.1, seq_length=25):
    K, m = params["V"].shape
    {decoy}raise RuntimeError("not done")
"""
UNCLIPPED = """def train(text, params, n_updates, eta=0.1, seq_length=25):
    chars = sorted(set(text))
    K, m = len(chars), params["W"].shape[0]
    eye = np.eye(K)
    memory = {{k: np.zeros_like(v) for k, v in params.items()}}
    hprev, e, smooth, history = np.zeros((m, 1)), 0, None, []
    {decoy}for _ in range(n_updates):
        X = eye[:, [chars.index(c) for c in text[e:e + seq_length]]]
        Y = eye[:, [chars.index(c) for c in text[e + 1:e + seq_length + 1]]]
        grads, loss, hprev = gradients(params, X, Y, hprev)
        for k in params:
            memory[k] += grads[k] ** 2
            params[k] -= eta * grads[k] / np.sqrt(memory[k] + 1e-8)
        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
        history.append(smooth)
        e += seq_length
        if e > len(text) - seq_length - 1:
            e, hprev = 0, np.zeros((m, 1))
    return params, history


gradients = compute_gradients
"""
DECOY = "compute_gradients(params, np.zeros((K, 1)), np.zeros((K, 1)), np.zeros((m, 1)))\n    "


@pytest.mark.slow
@pytest.mark.parametrize("train", [STUB, UNCLIPPED], ids=["crashing stub", "no clipping"])
def test_a_decoy_call_to_compute_gradients_earns_train_nothing(tmp_path, train):
    """The trace of train's calls is the submission's claim: a call made only to be recorded (garbage
    arguments, or beside the real loop, which calls compute_gradients under another name) changes no score."""
    honest = grade_submission(_with_train(tmp_path, "honest", train.format(decoy="")), ASSIGNMENT, diagnostics=False)
    decoy = grade_submission(_with_train(tmp_path, "decoy", train.format(decoy=DECOY)), ASSIGNMENT, diagnostics=False)
    scores = {c.name: c.score for c in honest.checks if c.function == "train"}
    assert scores == {c.name: c.score for c in decoy.checks if c.function == "train"}
    assert scores["train: hprev carried between updates and reset at the wrap"] < 3 or train is UNCLIPPED
    if train is UNCLIPPED:
        assert scores["train: clipping applied"] == 0


@pytest.mark.slow
def test_a_forward_returning_more_than_the_contract_costs_forward_s_checks_only(tmp_path):
    """forward returning (loss, P, H, cache) cost compute_gradients 4 points too: its check against finite
    differences of the student's own forward failed on forward's return value."""
    source = (SUBMISSIONS / "alice" / "rnn.py").read_text()
    source = source.replace("    return loss, P, H\n", "    return loss, P, H, None\n")
    source = source.replace("    loss, P, H = forward(params, X, Y, h0)\n", "    loss, P, H, _ = forward(params, X, Y, h0)\n")
    (tmp_path / "rnn.py").write_text(source)
    result = grade_submission(tmp_path, ASSIGNMENT, include_hidden=False, diagnostics=False)
    assert {c.function for c in result.checks if c.score < c.max_score} == {"forward"}
    check = next(c for c in result.checks if c.name == "compute_gradients: consistent with own forward")
    assert check.carried_from == "forward"
