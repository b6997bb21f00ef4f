"""With every switch off, the known-mistake variants compute exactly what the reference computes, and each
switch changes the result (else its hint could never be told apart from a correct answer)."""

import numpy as np
import pytest
from hypothesis import given, settings

from grader.checks.strategies import Text, sequences, texts
from grader.checks.variants import Variants
from reference import rnn

reference = rnn.RNN()
variants = Variants(reference)

quick = settings(max_examples=20, derandomize=True, database=None, deadline=None)


@quick
@given(sequences(tau=(2, 6), m=(2, 5)))
def test_forward_and_gradients_without_mistakes_are_the_reference(case):
    loss, P, H = reference.forward(*case.args)
    v_loss, v_P, v_H, _ = variants.forward(case.params, case.xs, case.ys, case.h0)
    assert np.isclose(loss, v_loss, rtol=1e-12) and np.allclose(P, v_P, rtol=1e-12) and np.allclose(H, v_H, rtol=1e-12)
    grads = reference.compute_gradients(*case.args)[0]
    v_grads = variants.gradients(case.params, case.xs, case.ys, case.h0)
    for k in grads:
        assert np.allclose(grads[k], v_grads[k], rtol=1e-10, atol=1e-14)


@quick
@given(sequences(tau=(2, 6), m=(2, 5)))
def test_every_gradient_mistake_changes_the_gradients(case):
    correct = variants.gradients(case.params, case.xs, case.ys, case.h0)
    for switches in ({"through_time": False}, {"tanh_grad": "1 - h"}, {"tanh_grad": "1 - a^2"}, {"w_input": "h_t"}):
        wrong = variants.gradients(case.params, case.xs, case.ys, case.h0, **switches)
        assert not all(np.allclose(correct[k], wrong[k]) for k in correct), switches


@quick
@given(texts())
def test_train_without_mistakes_is_the_reference(case):
    params, smooth = reference.train(*case.args)
    v_params, v_smooth = variants.train(*case.args)
    assert np.allclose(smooth, v_smooth, rtol=1e-10)
    for k in params:
        assert np.allclose(params[k], v_params[k], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("switch", ["clip", "carry", "reset", "early_wrap", "uniform_start"])
def test_each_train_mistake_changes_a_run_built_to_show_it(switch):
    """Two windows per pass ending exactly on the last character, six updates, gradients beyond 5."""
    case = Text(K=3, m=3, seq_length=12, windows=2, extra=0, n_updates=6, eta=0.1, scale=2.0, seed=1)
    _, correct = reference.train(*case.args)
    _, wrong = variants.train(*case.args, **{switch: switch in ("early_wrap", "uniform_start")})
    assert not np.allclose(correct, wrong, rtol=1e-9)


@pytest.mark.parametrize("model", [rnn.RNN(loss="mean"), rnn.RNN(optimizer="adam"), rnn.RNN(loss="mean", optimizer="adam")],
                         ids=lambda m: f"{m.loss}-{m.optimizer}")
@quick
@given(case=texts())
def test_under_other_conventions_the_variants_are_that_reference(model, case):
    model_variants = Variants(model)
    params, smooth = model.train(*case.args)
    v_params, v_smooth = model_variants.train(*case.args)
    assert np.allclose(smooth, v_smooth, rtol=1e-10)
    for k in params:
        assert np.allclose(params[k], v_params[k], rtol=1e-9, atol=1e-13)
    # and the default course's variants reproduce this course's run when switched to its conventions
    _, switched = variants.train(*case.args, loss=model.loss, optimizer=model.optimizer)
    assert np.allclose(switched, smooth, rtol=1e-10)


@quick
@given(sequences(tau=(2, 6), m=(2, 5)))
def test_the_mean_loss_variant_is_the_mean_loss_reference(case):
    mean = rnn.RNN(loss="mean")
    loss, _, _ = mean.forward(*case.args)
    assert np.isclose(variants.forward(case.params, case.xs, case.ys, case.h0, loss="mean")[0], loss, rtol=1e-12)
    grads = mean.compute_gradients(*case.args)[0]
    v_grads = variants.gradients(case.params, case.xs, case.ys, case.h0, loss="mean")
    for k in grads:
        assert np.allclose(grads[k], v_grads[k], rtol=1e-10, atol=1e-14)
