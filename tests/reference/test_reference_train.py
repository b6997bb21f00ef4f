"""The reference's training loop follows the contract's walk through the text, wrap rule included."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.texts import load_text
from reference import rnn

# Every course's conventions the reference supports: the default (summed loss, AdaGrad) and the variants.
MODELS = [rnn.RNN(), rnn.RNN(loss="mean"), rnn.RNN(optimizer="adam", eta=0.01),
          rnn.RNN(loss="mean", optimizer="adam", eta=0.01, clip_bound=1.0, smooth_decay=0.99)]


def literal_train(text, params, n_updates, eta, seq_length, model=rnn.RNN()):
    """The contract's loop spelled out with one-hot arrays and the public functions, as a student would."""
    vocab = sorted(set(text))
    onehot = np.eye(len(vocab))
    encode = lambda s: onehot[:, [vocab.index(ch) for ch in s]]  # noqa: E731
    state = [{k: np.zeros_like(v) for k, v in params.items()} for _ in range(2 if model.optimizer == "adam" else 1)]
    m = params["W"].shape[0]
    e, hprev, smooth, history, windows = 0, np.zeros((m, 1)), None, [], []
    for t in range(1, n_updates + 1):
        windows.append(e)
        X, Y = encode(text[e : e + seq_length]), encode(text[e + 1 : e + seq_length + 1])
        grads, loss, hprev = model.compute_gradients(params, X, Y, hprev)
        grads = model.clip_gradients(grads, model.clip_bound)
        if model.optimizer == "adam":
            model.adam_step(params, grads, *state, t, eta)
        else:
            model.adagrad_step(params, grads, *state, eta)
        decay = model.smooth_decay
        smooth = loss if smooth is None else decay * smooth + (1 - decay) * loss
        history.append(smooth)
        e += seq_length
        if e > len(text) - seq_length - 1:
            e, hprev = 0, np.zeros((m, 1))
    return params, np.array(history), windows


@st.composite
def training_setups(draw):
    """A text whose length is k*seq_length + 1 + offset: offset 0 fits the last window exactly."""
    seq_length = draw(st.integers(1, 8))
    windows = draw(st.integers(1, 5))
    offset = draw(st.sampled_from([-1, 0, 1, seq_length - 1]))
    length = max(seq_length + 1, windows * seq_length + 1 + offset)
    chars = draw(st.lists(st.sampled_from("abcde .\n"), min_size=length, max_size=length))
    text = "".join(chars)
    if len(set(text)) < 2:
        text = "ab" + text[2:]
    m = draw(st.integers(1, 6))
    scale = draw(st.sampled_from([0.01, 1.0, 3.0]))  # 3.0 makes clipping matter
    n_updates = draw(st.integers(1, 3 * windows + 3))
    params = rnn.init_params(len(set(text)), m, scale, np.random.default_rng(draw(st.integers(0, 2**16))))
    return text, params, n_updates, seq_length


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.loss}-{m.optimizer}")
@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(setup=training_setups())
def test_train_matches_the_literal_loop_including_the_wrap(model, setup):
    text, params, n_updates, seq_length = setup
    expected_params, expected, _ = literal_train(text, {k: v.copy() for k, v in params.items()}, n_updates, 0.1,
                                                 seq_length, model)
    got_params, got = model.train(text, {k: v.copy() for k, v in params.items()}, n_updates, 0.1, seq_length)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    for k in params:
        np.testing.assert_allclose(got_params[k], expected_params[k], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("length", "windows"),
    [(3 * 4 + 1, [0, 4, 8, 0, 4]), (3 * 4, [0, 4, 0, 4, 0]), (3 * 4 + 2, [0, 4, 8, 0, 4])],
)
def test_the_text_position_returns_to_zero_once_a_full_window_no_longer_fits(length, windows):
    text = ("abcdefghij" * 2)[:length]
    params = rnn.init_params(len(set(text)), 3, 0.1, np.random.default_rng(0))
    _, _, visited = literal_train(text, params, len(windows), 0.1, 4)
    assert visited == windows


def test_train_refuses_a_text_shorter_than_one_window():
    params = rnn.init_params(2, 3, 0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shorter than seq_length"):
        rnn.train("abab", params, 1, 0.1, seq_length=4)


def test_training_on_the_default_text_lowers_the_smooth_loss():
    _, text = load_text()
    params = rnn.init_params(len(set(text)), 64, 0.01, np.random.default_rng(0))
    _, smooth = rnn.train(text, params, 3000)
    K = len(set(text))
    assert abs(smooth[0] - 25 * np.log(K)) < 0.02 * 25 * np.log(K)
    assert smooth[-1] < 0.8 * smooth[0]
    block_means = smooth.reshape(6, 500).mean(axis=1)
    assert np.all(np.diff(block_means) < 0)
