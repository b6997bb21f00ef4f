"""Fixed cases for the Otter assignment's hidden tests (an autograder-only support file).

Each case is drawn from its own seed, so every student is asked the same questions and a failing test
can be rerun in the master notebook as it was graded.
"""

import numpy as np

PARAM_SHAPES = {"b": ("m", 1), "c": ("K", 1), "U": ("m", "K"), "W": ("m", "m"), "V": ("K", "m")}


def one_hot(indices, K):
    """(K, len(indices)) with a 1 in row indices[t] of column t."""
    X = np.zeros((K, len(indices)))
    X[indices, np.arange(len(indices))] = 1.0
    return X


def random_params(seed, K, m, scale):
    """Every entry, biases included, drawn as scale * standard normal."""
    rng = np.random.default_rng(seed)
    sizes = {"K": K, "m": m}
    return {k: scale * rng.standard_normal(tuple(sizes.get(d, d) for d in shape)) for k, shape in PARAM_SHAPES.items()}


def sequence_case(seed, K, m, tau, scale=0.01, h0_scale=0.0):
    """(params, X, Y, h0) for one training window of random characters."""
    rng = np.random.default_rng(seed + 1)
    chars = rng.integers(0, K, size=tau + 1)
    h0 = h0_scale * rng.standard_normal((m, 1))
    return random_params(seed, K, m, scale), one_hot(chars[:-1], K), one_hot(chars[1:], K), h0


def copy_params(params):
    return {k: np.array(v, dtype=float, copy=True) for k, v in params.items()}


def short_text(seed, n_chars, alphabet="abcdefghij .,"):
    """A random text over a small alphabet: every character appears, so the vocabulary is the alphabet."""
    rng = np.random.default_rng(seed)
    body = "".join(rng.choice(list(alphabet), size=n_chars - len(alphabet)))
    return alphabet + body
