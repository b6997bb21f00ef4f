"""The same bug loses the same points whatever the cases are drawn under (the course secret, or each student's
salt under `cases: per_student`): a check whose cases might miss a known mistake also runs a case built to
show it, and a mistake another check owns is not counted again where a draw happens to show it."""

import itertools

import numpy as np
import pytest
from shipped_course import shipped
from test_grading import EXPECTED_LOSSES, SUBMISSIONS, losses

from grader.checks.core import Check, Ctx, Failed, run_check, salted
from grader.checks.strategies import Sampling, Sequence, clipped_run, flat, sequences
from grader.checks.synthesize import coincidence
from grader.grading import grade_submission
from grader.oracle import LiveOracle

ASSIGNMENT = shipped()
# The course secret of the tests, two students' salts and another course's; "student-3" once drew a model
# that made alice fail "draws from the given rng", "student-1" cases where bug_memory_unclipped lost nothing.
SALTS = ("the test suite's course secret", "student-1", "student-3", "another course")
DRAW_DEPENDENT = ["bug_memory_unclipped", "bug_float32", "bug_clip_in_gradients", "bug_smoothing_099"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DRAW_DEPENDENT + ["alice"]))
def test_the_same_bug_loses_the_same_points_under_every_salt(name, graded_example):
    # Under the course secret, the grading is test_grading's of the example (graded once in the session).
    assert ASSIGNMENT.case_salt == SALTS[0]
    lost = [losses(graded_example(name))]
    for salt in SALTS[1:]:
        lost.append(losses(grade_submission(SUBMISSIONS / name, ASSIGNMENT, diagnostics=False, case_salt=salt)))
    assert lost == [EXPECTED_LOSSES.get(name, {})] * len(SALTS)


def _error(got, expected) -> float:
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    return float(np.max(np.abs(got - expected) / np.maximum(1e-6, np.abs(got) + np.abs(expected))))


def test_the_clipped_run_shows_the_known_train_mistakes_whatever_the_salt():
    """Over many salts: gradients beyond the clip bound at the first update, and AdaGrad memory of unclipped
    gradients and smoothing with 0.99 off by far more than the check's threshold (1e-6) in both parts."""
    reference, variants = LiveOracle(ASSIGNMENT).reference, LiveOracle(ASSIGNMENT).variants
    bound = ASSIGNMENT.conventions.clip_bound
    for i in range(100):
        case = salted(clipped_run(), f"salt {i}")
        chars = sorted(set(case.text))
        ids = [chars.index(ch) for ch in case.text]
        X, Y = (np.eye(len(chars))[:, ids[start:start + case.seq_length]] for start in (0, 1))
        grads = reference.compute_gradients(case.params, X, Y, np.zeros((case.m, 1)))[0]
        assert np.max(np.abs(flat(grads))) > 2 * bound
        params, smooth = reference.train(*case.args)
        unclipped_params, unclipped_smooth = variants.train(*case.args, memory_of_unclipped=True)
        assert min(_error(unclipped_params["c"], params["c"]), _error(unclipped_smooth, smooth)) > 1e-5
        assert _error(variants.train(*case.args, smooth_decay=0.99)[1], smooth) > 1e-4


def test_a_trigger_case_runs_after_the_drawn_cases_and_only_when_they_find_nothing():
    trigger = Sequence(K=3, m=2, tau=2, scale=0.5, seed=0, logit_offset=7.0)
    ctx = Ctx(None, ASSIGNMENT, LiveOracle(ASSIGNMENT), None, salt="a salt")
    seen = []

    def only_the_trigger_fails(ctx, case):
        seen.append(case)
        if case.logit_offset:
            raise Failed("the trigger fails")

    def every_case_fails(ctx, case):
        raise Failed("every case fails")

    outcome = run_check(Check("forward: t", "forward", sequences(), only_the_trigger_fails, triggers=(trigger,)), ctx, 5)
    assert outcome.failed and "K=3, m=2, tau=2" in outcome.reason
    assert seen[-1].logit_offset == 7.0 and not any(case.logit_offset for case in seen[:-1])
    assert seen[-1].seed == salted(trigger, "a salt|forward: t").seed != trigger.seed  # salted like any case
    outcome = run_check(Check("forward: u", "forward", sequences(), every_case_fails, triggers=(trigger,)), ctx, 5)
    assert outcome.failed and "every case fails" in outcome.reason and "c plus 7" not in outcome.feedback


def test_the_rng_check_draws_only_models_whose_samples_coincide_with_negligible_probability():
    case = Sampling(params_seed=5, K=3, m=2, x0=1, n=3, rng_seed=0, scale=0.5, recurrent=False)
    T = case.transitions()
    by_paths = sum(np.prod([T[a, b] ** 2 for a, b in zip((case.x0,) + path[:-1], path)])
                   for path in itertools.product(range(case.K), repeat=case.n))
    assert coincidence(case) == pytest.approx(by_paths, rel=1e-12)
    # uniform transitions: two samples of n coincide with probability K^-n
    uniform = Sampling(params_seed=5, K=4, m=2, x0=0, n=100, rng_seed=0, scale=0.0, recurrent=False)
    assert coincidence(uniform) == pytest.approx(4.0 ** -100)
