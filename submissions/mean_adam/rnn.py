"""Bea's submission for the 2025/26 version of the assignment: the mean loss over the sequence, trained with
Adam (specs/variants/mean-adam). Written a step at a time, with the time steps kept in lists."""

import numpy as np


def init_params(K, m, sigma, rng):
    params = {"b": np.zeros((m, 1)), "c": np.zeros((K, 1))}
    for name, shape in (("U", (m, K)), ("W", (m, m)), ("V", (K, m))):
        params[name] = sigma * rng.standard_normal(shape)
    return params


def _softmax(o):
    z = np.exp(o - o.max())
    return z / z.sum()


def _steps(params, X, h0):
    hs, ps = [], []
    h = h0
    for t in range(X.shape[1]):
        h = np.tanh(params["W"] @ h + params["U"] @ X[:, t:t + 1] + params["b"])
        hs.append(h)
        ps.append(_softmax(params["V"] @ h + params["c"]))
    return hs, ps


def forward(params, X, Y, h0):
    hs, ps = _steps(params, X, h0)
    tau = X.shape[1]
    loss = -sum(np.log(float(Y[:, t] @ ps[t][:, 0])) for t in range(tau)) / tau
    return loss, np.hstack(ps), np.hstack(hs)


def compute_gradients(params, X, Y, h0):
    hs, ps = _steps(params, X, h0)
    tau = X.shape[1]
    loss = -sum(np.log(float(Y[:, t] @ ps[t][:, 0])) for t in range(tau)) / tau
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next = np.zeros_like(h0)
    for t in range(tau - 1, -1, -1):
        do = (ps[t] - Y[:, t:t + 1]) / tau  # the loss is a mean: every step weighs 1/tau
        grads["V"] += do @ hs[t].T
        grads["c"] += do
        da = (params["V"].T @ do + dh_next) * (1 - hs[t] ** 2)
        grads["W"] += da @ (hs[t - 1] if t > 0 else h0).T
        grads["U"] += da @ X[:, t:t + 1].T
        grads["b"] += da
        dh_next = params["W"].T @ da
    return grads, loss, hs[-1]


def clip_gradients(grads, bound=5.0):
    return {k: np.clip(g, -bound, bound) for k, g in grads.items()}


def adam_step(params, grads, first, second, t, eta, beta1=0.9, beta2=0.999, eps=1e-8):
    for k, g in grads.items():
        first[k] = beta1 * first[k] + (1 - beta1) * g
        second[k] = beta2 * second[k] + (1 - beta2) * g * g
        m_hat = first[k] / (1 - beta1 ** t)
        v_hat = second[k] / (1 - beta2 ** t)
        params[k] -= eta * m_hat / (np.sqrt(v_hat) + eps)


def synthesize(params, h0, x0, n, rng):
    K = params["c"].shape[0]
    h, x, out = h0, x0, []
    for _ in range(n):
        h = np.tanh(params["W"] @ h + params["U"][:, [x]] + params["b"])
        p = _softmax(params["V"] @ h + params["c"])[:, 0]
        x = int(rng.choice(K, p=p))
        out.append(x)
    return out


def train(text, params, n_updates, eta=0.01, seq_length=25):
    chars = sorted(set(text))
    index = {ch: i for i, ch in enumerate(chars)}
    eye = np.eye(len(chars))
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    m = params["W"].shape[0]
    hprev, e, smooth, curve = np.zeros((m, 1)), 0, None, []
    for t in range(1, n_updates + 1):
        X = eye[:, [index[ch] for ch in text[e:e + seq_length]]]
        Y = eye[:, [index[ch] for ch in text[e + 1:e + seq_length + 1]]]
        grads, loss, hprev = compute_gradients(params, X, Y, hprev)
        adam_step(params, clip_gradients(grads), first, second, t, eta)
        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
        curve.append(smooth)
        e += seq_length
        if e > len(text) - seq_length - 1:
            e, hprev = 0, np.zeros((m, 1))
    return params, curve
