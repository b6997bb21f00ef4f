"""The reference's forward and backward pass with one classic mistake switched on.

Hints come from here: when a submission's answer reproduces one of these variants, the hint names that
mistake. With every switch off, each function computes exactly what the reference computes (the tests
hold them to that), so a variant differs from the reference only by its one mistake.
"""

from __future__ import annotations

import numpy as np

from grader.checks.strategies import softmax_columns
from grader.driven import DrivenLoop, Rules
from reference import rnn as reference


def forward(params, xs, ys, h0, *, carry=True, use_h0=True):
    """(loss, P, H, A): ``carry=False`` starts every step from h0; ``use_h0=False`` starts from zeros."""
    b, c, U, W, V = (params[k] for k in ("b", "c", "U", "W", "V"))
    start = h0[:, 0] if use_h0 else np.zeros(h0.shape[0])
    h = start
    A = np.empty((W.shape[0], len(xs)))
    H = np.empty_like(A)
    for t, x in enumerate(xs):
        A[:, t] = W @ h + U[:, x] + b[:, 0]
        H[:, t] = np.tanh(A[:, t])
        h = H[:, t] if carry else start
    P = softmax_columns(V @ H + c)
    loss = -np.sum(np.log(P[ys, np.arange(len(xs))]))
    return loss, P, H, A


def gradients(params, xs, ys, h0, *, through_time=True, tanh_grad="1 - h^2", w_input="h_{t-1}"):
    """The reference's gradients, or a classic mistake.

    ``through_time=False`` drops W^T dL/da_{t+1} from dL/dh_t (no backpropagation through time);
    ``tanh_grad`` "1 - h" or "1 - a^2" replaces tanh'(a_t) = 1 - h_t^2; ``w_input`` "h_t" multiplies
    dL/da_t by h_t instead of h_{t-1} in dL/dW.
    """
    W, V = params["W"], params["V"]
    _, P, H, A = forward(params, xs, ys, h0)
    tau = len(xs)
    G = P.copy()
    G[ys, np.arange(tau)] -= 1.0
    dH_out = V.T @ G
    D = {"1 - h^2": 1.0 - H * H, "1 - h": 1.0 - H, "1 - a^2": 1.0 - A * A}[tanh_grad]
    dA = np.empty_like(H)
    da = np.zeros(H.shape[0])
    for t in reversed(range(tau)):
        da = (dH_out[:, t] + (W.T @ da if through_time else 0.0)) * D[:, t]
        dA[:, t] = da
    H_in = H if w_input == "h_t" else np.hstack([h0, H[:, :-1]])
    dU = np.zeros_like(params["U"])
    np.add.at(dU.T, xs, dA.T)
    return {
        "b": dA.sum(axis=1, keepdims=True),
        "c": G.sum(axis=1, keepdims=True),
        "U": dU,
        "W": dA @ H_in.T,
        "V": G @ H.T,
    }


def softmax_over_time(params, xs, ys, h0) -> np.ndarray:
    """P with each ROW (one character over all time steps) normalised instead of each column."""
    _, _, H, _ = forward(params, xs, ys, h0)
    O = params["V"] @ H + params["c"]
    E = np.exp(O - O.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


class ReferenceFunctions:
    """The reference's functions for the contract's loop (grader.driven), or AdaGrad with a classic mistake:
    another ``eps``, or memory that accumulates the squares of the gradients before clipping."""

    def __init__(self, eps: float = 1e-8, memory_of_unclipped: bool = False):
        self.eps = eps
        self.memory_of_unclipped = memory_of_unclipped

    compute_gradients = staticmethod(reference.compute_gradients)
    clip_gradients = staticmethod(reference.clip_gradients)

    def step(self, params, grads, memory, eta, unclipped):
        for k, g in grads.items():
            memory[k] += (unclipped if self.memory_of_unclipped else grads)[k] ** 2
            params[k] -= eta * g / np.sqrt(memory[k] + self.eps)
        return params, memory

    @staticmethod
    def loss(params, X, Y, h):
        return reference.forward(params, X, Y, h)[0]


def train(text, params, n_updates, eta, seq_length, *, eps: float = 1e-8, memory_of_unclipped=False,
          **switches):
    """The reference's training loop (the contract's loop with the reference's functions), or a classic
    mistake: any switch of grader.driven.Rules (no clipping, hprev not carried, not reset at the wrap, an
    early wrap, min-char-rnn's smooth-loss start, smoothing factor, target offset, loss after the update),
    AdaGrad's eps, or AdaGrad memory of the unclipped gradients."""
    functions = ReferenceFunctions(eps, memory_of_unclipped)
    loop = DrivenLoop(functions, text, params, eta=eta, seq_length=seq_length, rules=Rules(**switches))
    return loop.run(n_updates)
