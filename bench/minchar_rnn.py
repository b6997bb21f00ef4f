"""The baseline for bench_reference.py: the per-timestep style of Karpathy's min-char-rnn.

Every time step keeps its own one-hot input, hidden state and probabilities in dicts, and the backward
pass accumulates outer products step by step. It follows the same contract as the reference.
"""

import numpy as np


def loss_and_gradients(params, inputs, targets, hprev):
    b, c, U, W, V = (params[k] for k in ("b", "c", "U", "W", "V"))
    K = c.shape[0]
    xs, hs, ps = {}, {-1: hprev}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((K, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(W, hs[t - 1]) + np.dot(U, xs[t]) + b)
        o = np.dot(V, hs[t]) + c
        ps[t] = np.exp(o - np.max(o)) / np.sum(np.exp(o - np.max(o)))
        loss += -np.log(ps[t][targets[t], 0])
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros_like(b), np.zeros_like(c)
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dV += np.dot(dy, hs[t].T)
        dc += dy
        dh = np.dot(V.T, dy) + dhnext
        draw = (1 - hs[t] * hs[t]) * dh
        db += draw
        dU += np.dot(draw, xs[t].T)
        dW += np.dot(draw, hs[t - 1].T)
        dhnext = np.dot(W.T, draw)
    return {"b": db, "c": dc, "U": dU, "W": dW, "V": dV}, loss, hs[len(inputs) - 1]


def train(text, params, n_updates, eta=0.1, seq_length=25):
    chars = sorted(set(text))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    mem = {k: np.zeros_like(v) for k, v in params.items()}
    hprev = np.zeros((params["W"].shape[0], 1))
    p, smooth_loss, history = 0, None, []
    for _ in range(n_updates):
        inputs = [char_to_ix[ch] for ch in text[p : p + seq_length]]
        targets = [char_to_ix[ch] for ch in text[p + 1 : p + seq_length + 1]]
        grads, loss, hprev = loss_and_gradients(params, inputs, targets, hprev)
        for k in params:
            g = np.clip(grads[k], -5, 5)
            mem[k] += g * g
            params[k] += -eta * g / np.sqrt(mem[k] + 1e-8)
        smooth_loss = loss if smooth_loss is None else smooth_loss * 0.999 + loss * 0.001
        history.append(smooth_loss)
        p += seq_length
        if p > len(text) - seq_length - 1:
            p, hprev = 0, np.zeros_like(hprev)
    return params, history
