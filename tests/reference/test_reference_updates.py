"""The reference's init, clipping, AdaGrad and sampling follow the contract."""

import numpy as np

from reference import rnn


def test_init_params_draws_U_then_W_then_V_from_the_given_generator():
    params = rnn.init_params(5, 3, 0.01, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(params["U"], 0.01 * rng.standard_normal((3, 5)))
    np.testing.assert_array_equal(params["W"], 0.01 * rng.standard_normal((3, 3)))
    np.testing.assert_array_equal(params["V"], 0.01 * rng.standard_normal((5, 3)))
    assert not params["b"].any() and params["b"].shape == (3, 1)
    assert not params["c"].any() and params["c"].shape == (5, 1)


def test_clip_gradients_returns_new_clipped_arrays_and_leaves_input_alone():
    grads = {"b": np.array([[-7.0], [0.5]]), "W": np.array([[6.0, -5.0], [4.9, -0.1]])}
    original = {k: v.copy() for k, v in grads.items()}
    clipped = rnn.clip_gradients(grads, bound=5.0)
    np.testing.assert_array_equal(clipped["b"], [[-5.0], [0.5]])
    np.testing.assert_array_equal(clipped["W"], [[5.0, -5.0], [4.9, -0.1]])
    for k in grads:
        np.testing.assert_array_equal(grads[k], original[k])
    assert rnn.clip_gradients(grads, bound=1.0)["W"].max() == 1.0


def test_adagrad_step_accumulates_memory_and_keeps_eps_inside_the_root():
    params = {"b": np.array([[1.0], [1.0]])}
    memory = {"b": np.array([[0.0], [3.0]])}
    grads = {"b": np.array([[1e-6], [1.0]])}
    assert rnn.adagrad_step(params, grads, memory, eta=0.1, eps=1e-8) is None
    np.testing.assert_allclose(memory["b"], [[1e-12], [4.0]])
    expected = 1.0 - 0.1 * grads["b"] / np.sqrt(memory["b"] + 1e-8)
    np.testing.assert_allclose(params["b"], expected, rtol=1e-15)


def test_synthesize_is_reproducible_and_follows_a_deterministic_chain():
    K, m = 4, 4
    # x_t = i drives h to sign pattern i, and V maps that pattern to next index (i + 1) % K with p ~ 1.
    U = 20.0 * (2 * np.eye(m) - 1)
    params = {"b": np.zeros((m, 1)), "c": np.zeros((K, 1)), "U": U, "W": np.zeros((m, m)),
              "V": 50.0 * np.roll(np.eye(K), 1, axis=0) @ (2 * np.eye(m) - 1)}
    out = rnn.synthesize(params, np.zeros((m, 1)), 0, 8, np.random.default_rng(1))
    assert out == [1, 2, 3, 0, 1, 2, 3, 0]
    rand = {k: np.random.default_rng(2).standard_normal(v.shape) for k, v in params.items()}
    first = rnn.synthesize(rand, np.zeros((m, 1)), 0, 50, np.random.default_rng(3))
    assert first == rnn.synthesize(rand, np.zeros((m, 1)), 0, 50, np.random.default_rng(3))
    assert len(first) == 50 and all(0 <= i < K for i in first)


def test_adam_step_corrects_the_bias_of_both_moments():
    model = rnn.RNN(optimizer="adam")
    params = {"b": np.array([[1.0], [1.0]])}
    first, second = {"b": np.zeros((2, 1))}, {"b": np.zeros((2, 1))}
    grads = {"b": np.array([[0.5], [-2.0]])}
    assert model.adam_step(params, grads, first, second, 1, 0.01) is None
    np.testing.assert_allclose(first["b"], 0.1 * grads["b"], rtol=1e-15)
    np.testing.assert_allclose(second["b"], 0.001 * grads["b"] ** 2, rtol=1e-15)
    # After one step from zero moments the corrected step is eta * g / (|g| + eps): about eta * sign(g).
    after_one = 1.0 - 0.01 * grads["b"] / (np.abs(grads["b"]) + 1e-8)
    np.testing.assert_allclose(params["b"], after_one, rtol=1e-12)
    model.adam_step(params, grads, first, second, 2, 0.01)
    m_hat = (0.9 * 0.1 + 0.1) * grads["b"] / (1 - 0.9**2)
    v_hat = (0.999 * 0.001 + 0.001) * grads["b"] ** 2 / (1 - 0.999**2)
    np.testing.assert_allclose(params["b"], after_one - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-12)
