"""Assignment 4; data.py loads the book."""


import numpy as np
from data import one_hot


def init_params(K, m, sigma, rng):
    b = np.zeros((m, 1))
    c = np.zeros((K, 1))
    U = rng.standard_normal((m, K)) * sigma
    W = rng.standard_normal((m, m)) * sigma
    V = rng.standard_normal((K, m)) * sigma
    return {"b": b, "c": c, "U": U, "W": W, "V": V}


def softmax(o):
    e = np.exp(o - np.max(o))
    return e / np.sum(e)


def forward(params, X, Y, h0):
    K, tau = X.shape
    m = h0.shape[0]
    P = np.zeros((K, tau))
    H = np.zeros((m, tau))
    h = h0
    loss = 0.0
    for t in range(tau):
        x = X[:, [t]]
        a = params["W"] @ h + params["U"] @ x + params["b"]
        h = np.tanh(a)
        o = params["V"] @ h + params["c"]
        p = softmax(o)
        P[:, [t]] = p
        H[:, [t]] = h
        loss -= np.log(Y[:, t] @ p[:, 0])
    return loss, P, H


def compute_gradients(params, X, Y, h0):
    loss, P, H = forward(params, X, Y, h0)
    tau = X.shape[1]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    da_next = np.zeros_like(h0)
    for t in reversed(range(tau)):
        g = P[:, [t]] - Y[:, [t]]
        h = H[:, [t]]
        h_prev = H[:, [t - 1]] if t > 0 else h0
        grads["V"] += g @ h.T
        grads["c"] += g
        dh = params["V"].T @ g + params["W"].T @ da_next
        da = dh * (1 - h**2)
        grads["W"] += da @ h_prev.T
        grads["U"] += da @ X[:, [t]].T
        grads["b"] += da
        da_next = da
    return grads, loss, H[:, [tau - 1]]


def clip_gradients(grads, bound=5.0):
    clipped = {}
    for k in grads:
        clipped[k] = np.maximum(np.minimum(grads[k], bound), -bound)
    return clipped


def adagrad_step(params, grads, memory, eta, eps=1e-8):
    for k in params:
        memory[k] += grads[k] ** 2
        params[k] -= eta * grads[k] / np.sqrt(memory[k] + eps)


def synthesize(params, h0, x0, n, rng):
    K = params["c"].shape[0]
    h = h0
    x = np.zeros((K, 1))
    x[x0] = 1
    out = []
    for _ in range(n):
        h = np.tanh(params["W"] @ h + params["U"] @ x + params["b"])
        p = softmax(params["V"] @ h + params["c"])
        cp = np.cumsum(p)
        ii = int(np.searchsorted(cp, rng.random() * cp[-1], side="right"))
        ii = min(ii, K - 1)
        out.append(ii)
        x = np.zeros((K, 1))
        x[ii] = 1
    return out


def train(text, params, n_updates, eta=0.1, seq_length=25):
    chars = sorted(set(text))
    K = len(chars)
    char_to_ind = {ch: i for i, ch in enumerate(chars)}

    def onehot(s):
        return one_hot([char_to_ind[ch] for ch in s], K)

    m = params["W"].shape[0]
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    hprev = np.zeros((m, 1))
    e = 0
    smooth_loss = None
    history = []
    for _ in range(n_updates):
        X = onehot(text[e : e + seq_length])
        Y = onehot(text[e + 1 : e + seq_length + 1])
        grads, loss, hprev = compute_gradients(params, X, Y, hprev)
        grads = clip_gradients(grads, 5.0)
        adagrad_step(params, grads, memory, eta)
        if smooth_loss is None:
            smooth_loss = loss
        else:
            smooth_loss = 0.999 * smooth_loss + 0.001 * loss
        history.append(smooth_loss)
        e += seq_length
        if e > len(text) - seq_length - 1:
            e = 0
            hprev = np.zeros((m, 1))
    return params, history
