"""A correct submission written with whole-sequence matrix operations wherever the recurrence allows.

Style example: one-hot inputs are turned into indices, everything outside the recurrence is one matrix
product over the sequence, and sampling uses an inverse CDF on rng.random() rather than rng.choice.
"""

import numpy as np

KEYS = ("b", "c", "U", "W", "V")


def init_params(K, m, sigma, rng):
    U = sigma * rng.standard_normal((m, K))
    W = sigma * rng.standard_normal((m, m))
    V = sigma * rng.standard_normal((K, m))
    return dict(b=np.zeros((m, 1)), c=np.zeros((K, 1)), U=U, W=W, V=V)


def softmax(O, axis=0):
    E = np.exp(O - O.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def _hidden(params, xs, h0):
    A = params["U"][:, xs] + params["b"]
    H = np.empty_like(A)
    h = h0[:, 0]
    for t in range(A.shape[1]):
        h = np.tanh(params["W"] @ h + A[:, t])
        H[:, t] = h
    return H


def forward(params, X, Y, h0):
    xs, ys = X.argmax(axis=0), Y.argmax(axis=0)
    H = _hidden(params, xs, h0)
    P = softmax(params["V"] @ H + params["c"], axis=0)
    loss = -np.log(P[ys, np.arange(len(ys))]).sum()
    return loss, P, H


def compute_gradients(params, X, Y, h0):
    loss, P, H = forward(params, X, Y, h0)
    G = P - Y
    dH = params["V"].T @ G
    D = 1 - H**2
    dA = np.zeros_like(H)
    carry = np.zeros(H.shape[0])
    for t in range(H.shape[1] - 1, -1, -1):
        carry = (dH[:, t] + params["W"].T @ carry) * D[:, t]
        dA[:, t] = carry
    H_prev = np.concatenate([h0, H[:, :-1]], axis=1)
    grads = {
        "b": dA.sum(axis=1, keepdims=True),
        "c": G.sum(axis=1, keepdims=True),
        "U": dA @ X.T,
        "W": dA @ H_prev.T,
        "V": G @ H.T,
    }
    return grads, loss, H[:, -1:]


def clip_gradients(grads, bound=5.0):
    return {k: np.clip(v, -bound, bound) for k, v in grads.items()}


def adagrad_step(params, grads, memory, eta, eps=1e-8):
    for k in KEYS:
        memory[k] += grads[k] * grads[k]
        params[k] -= eta * grads[k] / np.sqrt(memory[k] + eps)


def synthesize(params, h0, x0, n, rng):
    h = h0[:, 0]
    x = x0
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        h = np.tanh(params["W"] @ h + params["U"][:, x] + params["b"][:, 0])
        p = softmax(params["V"] @ h + params["c"][:, 0])
        x = min(int(np.searchsorted(np.cumsum(p), rng.random(), side="right")), len(p) - 1)
        out[i] = x
    return out


def train(text, params, n_updates, eta=0.1, seq_length=25):
    vocab = sorted(set(text))
    ids = np.array([vocab.index(ch) for ch in text])
    onehots = np.eye(len(vocab))[:, ids]
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    hprev = np.zeros((params["W"].shape[0], 1))
    e, smooth, curve = 0, None, np.zeros(n_updates)
    for i in range(n_updates):
        X, Y = onehots[:, e : e + seq_length], onehots[:, e + 1 : e + seq_length + 1]
        grads, loss, hprev = compute_gradients(params, X, Y, hprev)
        adagrad_step(params, clip_gradients(grads), memory, eta)
        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
        curve[i] = smooth
        e += seq_length
        if e > len(text) - seq_length - 1:
            e, hprev = 0, np.zeros_like(hprev)
    return params, curve
