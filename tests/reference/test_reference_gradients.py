"""The reference's analytic gradients agree with centered differences of its own loss."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.diagnostics.relerr import max_relative_error
from reference import rnn

PARAMS = ("b", "c", "U", "W", "V")


@st.composite
def problems(draw):
    """Random sizes, parameters at a random scale (biases nonzero), one-hot sequences and h0."""
    K = draw(st.integers(2, 10))
    m = draw(st.integers(1, 10))
    tau = draw(st.integers(1, 12))
    scale = draw(st.floats(0.01, 2.0))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shapes = {"b": (m, 1), "c": (K, 1), "U": (m, K), "W": (m, m), "V": (K, m)}
    params = {k: scale * rng.standard_normal(s) for k, s in shapes.items()}
    X = np.eye(K)[:, rng.integers(0, K, tau)]
    Y = np.eye(K)[:, rng.integers(0, K, tau)]
    h0 = np.tanh(rng.standard_normal((m, 1)))
    return params, X, Y, h0


def numerical_gradient(params, X, Y, h0, key, h=1e-4, forward=rnn.forward):
    """Fourth-order centered differences: error O(h^4) plus rounding O(eps * loss / h)."""
    grad = np.zeros_like(params[key])
    theta = params[key]
    for i in np.ndindex(theta.shape):
        old = theta[i]
        losses = []
        for step in (2 * h, h, -h, -2 * h):
            theta[i] = old + step
            losses.append(forward(params, X, Y, h0)[0])
        theta[i] = old
        grad[i] = (-losses[0] + 8 * losses[1] - 8 * losses[2] + losses[3]) / (12 * h)
    return grad


# The difference quotient itself is only good to about 1e-10 absolute at parameter scale 2, so entries
# below this floor are judged by absolute error (1e-9 at most) instead of dividing noise by ~0.
NUMERICAL_FLOOR = 1e-3


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(problems())
def test_gradients_match_centered_differences_for_every_parameter(problem):
    params, X, Y, h0 = problem
    grads, _, _ = rnn.compute_gradients(params, X, Y, h0)
    for key in PARAMS:
        error = max_relative_error(grads[key], numerical_gradient(params, X, Y, h0, key), NUMERICAL_FLOOR)
        assert error <= 1e-6, key


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(problems())
def test_mean_loss_gradients_match_centered_differences_of_the_mean_loss(problem):
    params, X, Y, h0 = problem
    mean = rnn.RNN(loss="mean")
    loss, _, _ = mean.forward(params, X, Y, h0)
    assert np.isclose(loss * X.shape[1], rnn.forward(params, X, Y, h0)[0], rtol=1e-12)
    grads, g_loss, _ = mean.compute_gradients(params, X, Y, h0)
    assert np.isclose(g_loss, loss, rtol=1e-12)
    for key in PARAMS:
        numerical = numerical_gradient(params, X, Y, h0, key, forward=mean.forward)
        assert max_relative_error(grads[key], numerical, NUMERICAL_FLOOR / X.shape[1]) <= 1e-6, key


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(problems())
def test_compute_gradients_returns_forward_loss_and_last_hidden_state(problem):
    params, X, Y, h0 = problem
    grads, loss, h_last = rnn.compute_gradients(params, X, Y, h0)
    f_loss, _, H = rnn.forward(params, X, Y, h0)
    assert loss == f_loss
    assert h_last.shape == h0.shape
    np.testing.assert_array_equal(h_last[:, 0], H[:, -1])
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items()}


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(problems())
def test_forward_returns_distributions_and_the_summed_log_loss(problem):
    params, X, Y, h0 = problem
    loss, P, H = rnn.forward(params, X, Y, h0)
    np.testing.assert_allclose(P.sum(axis=0), 1.0, rtol=1e-12)
    expected = -np.sum(np.log(np.sum(Y * P, axis=0)))
    assert np.isclose(loss, expected, rtol=1e-12)
    assert np.all(np.abs(H) <= 1.0)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(K=st.integers(2, 100), m=st.integers(1, 100), tau=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_initial_loss_with_small_sigma_is_tau_log_K(K, m, tau, seed):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(K, m, 0.01, rng)
    X = np.eye(K)[:, rng.integers(0, K, tau)]
    Y = np.eye(K)[:, rng.integers(0, K, tau)]
    loss, _, _ = rnn.forward(params, X, Y, np.zeros((m, 1)))
    assert abs(loss - tau * np.log(K)) <= 0.01 * tau * np.log(K)


def test_gradients_do_not_modify_their_inputs():
    rng = np.random.default_rng(0)
    params = rnn.init_params(4, 3, 0.5, rng)
    X, Y, h0 = np.eye(4)[:, [0, 1, 2]], np.eye(4)[:, [1, 2, 3]], rng.standard_normal((3, 1))
    before = {k: v.copy() for k, v in params.items()}, X.copy(), Y.copy(), h0.copy()
    rnn.compute_gradients(params, X, Y, h0)
    for k in params:
        np.testing.assert_array_equal(params[k], before[0][k])
    for now, then in zip((X, Y, h0), before[1:]):
        np.testing.assert_array_equal(now, then)
