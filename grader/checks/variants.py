"""The reference's forward and backward pass with one classic mistake switched on.

Hints come from here: when a submission's answer reproduces one of these variants, the hint names that
mistake. With every switch off, each function computes exactly what the reference computes under the
same conventions (the tests hold them to that), so a variant differs from the reference only by its one
mistake. ``loss`` and ``optimizer`` switch to another year's conventions: a submission written for the
other variant of the assignment is named as such.

The oracle builds ``Variants`` around the reference model (reference.rnn.RNN) it answers with.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from grader.checks.strategies import softmax_columns
from grader.driven import DrivenLoop, Rules


class ReferenceFunctions:
    """The reference's functions for the contract's loop (grader.driven), or its optimizer with a classic
    mistake: another ``eps``, AdaGrad memory that accumulates the squares of the gradients before clipping, or
    AdaGrad memory kept in float32. The loop's ``memory`` is AdaGrad's memory, or Adam's second moment; Adam's first moment and
    step count live here (one object per run)."""

    def __init__(self, model, eps: float | None = None, memory_of_unclipped: bool = False, memory_float32: bool = False):
        self.model = model
        self.eps = model.eps if eps is None else eps
        self.memory_of_unclipped = memory_of_unclipped
        self.memory_float32 = memory_float32
        self._first: dict | None = None
        self._t = 0

    def compute_gradients(self, params, X, Y, h):
        return self.model.compute_gradients(params, X, Y, h)

    def clip_gradients(self, grads, bound):
        return self.model.clip_gradients(grads, bound)

    def step(self, params, grads, memory, eta, unclipped):
        if self.model.optimizer == "adam":
            self._t += 1
            self._first = self._first or {k: np.zeros_like(v) for k, v in params.items()}
            self.model.adam_step(params, grads, self._first, memory, self._t, eta, eps=self.eps)
            return params, memory
        for k, g in grads.items():
            if self.memory_float32:  # as `m = np.zeros(shape, dtype=np.float32)` keeps it: m += g**2 casts to it
                memory[k] = memory[k].astype(np.float32)
            memory[k] += (unclipped if self.memory_of_unclipped else grads)[k] ** 2
            # eps: a Python float meets a float32 array as a float32 (NEP 50, and numpy 1's value-based casting)
            eps = np.float32(self.eps) if self.memory_float32 else self.eps
            params[k] -= eta * g / np.sqrt(memory[k] + eps)
        return params, memory

    def loss(self, params, X, Y, h):
        return self.model.forward(params, X, Y, h)[0]


class Variants:
    def __init__(self, model):
        self.model = model  # reference.rnn.RNN under the assignment's conventions

    def _divisor(self, tau: int, loss: str | None) -> int:
        return tau if (loss or self.model.loss) == "mean" else 1

    def forward(self, params, xs, ys, h0, *, carry=True, use_h0=True, bias_inside=False, loss=None):
        """(loss, P, H, A): ``carry=False`` starts every step from h0; ``use_h0=False`` starts from zeros;
        ``bias_inside=True`` multiplies W with h_{t-1} + b instead of adding b after the products;
        ``loss`` "sum" or "mean" overrides the conventions' reduction."""
        b, c, U, W, V = (params[k] for k in ("b", "c", "U", "W", "V"))
        start = h0[:, 0] if use_h0 else np.zeros(h0.shape[0])
        h = start
        A = np.empty((W.shape[0], len(xs)))
        H = np.empty_like(A)
        for t, x in enumerate(xs):
            A[:, t] = W @ (h + b[:, 0]) + U[:, x] if bias_inside else W @ h + U[:, x] + b[:, 0]
            H[:, t] = np.tanh(A[:, t])
            h = H[:, t] if carry else start
        P = softmax_columns(V @ H + c)
        total = -np.sum(np.log(P[ys, np.arange(len(xs))]))
        return total / self._divisor(len(xs), loss), P, H, A

    def gradients(self, params, xs, ys, h0, *, through_time=True, tanh_grad="1 - h^2", w_input="h_{t-1}", loss=None):
        """The reference's gradients, or a classic mistake.

        ``through_time=False`` drops W^T dL/da_{t+1} from dL/dh_t (no backpropagation through time);
        ``tanh_grad`` "1 - h" or "1 - a^2" replaces tanh'(a_t) = 1 - h_t^2; ``w_input`` "h_t" multiplies
        dL/da_t by h_t instead of h_{t-1} in dL/dW; ``loss`` overrides the conventions' reduction.
        """
        _, P, H, A = self.forward(params, xs, ys, h0)
        return self.backward(params, xs, ys, h0, P, H, A, through_time=through_time, tanh_grad=tanh_grad,
                             w_input=w_input, loss=loss)

    def backward(self, params, xs, ys, h0, P, H, A=None, *, through_time=True, tanh_grad="1 - h^2",
                 w_input="h_{t-1}", loss=None):
        """The contract's backward pass from given P and H (a submission's own, for error carried forward:
        what its compute_gradients returns if it is right and builds on its own forward), with the
        mistakes of ``gradients``."""
        W, V = params["W"], params["V"]
        tau = len(xs)
        G = np.array(P, dtype=np.float64)
        G[ys, np.arange(tau)] -= 1.0
        G /= self._divisor(tau, loss)
        dH_out = V.T @ G
        D = {"1 - h^2": lambda: 1.0 - H * H, "1 - h": lambda: 1.0 - H, "1 - a^2": lambda: 1.0 - A * A}[tanh_grad]()
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

    def softmax_over_time(self, params, xs, ys, h0) -> np.ndarray:
        """P with each ROW (one character over all time steps) normalised instead of each column."""
        _, _, H, _ = self.forward(params, xs, ys, h0)
        O = params["V"] @ H + params["c"]
        E = np.exp(O - O.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)


    def replay(self, params, steps, eta):
        """The params after the contract's updates on given windows: ``steps`` is a list of (X, Y, h0, clip),
        h0 None for the previous update's h_last; each update is the reference's gradients from h0, clipped or
        not, and one optimizer step. What a trace of a submission's train says it did, done by the reference."""
        functions = ReferenceFunctions(self.model)
        params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        memory = {k: np.zeros_like(v) for k, v in params.items()}
        h_last = None
        for X, Y, h0, clip in steps:
            grads, _, h_last = functions.compute_gradients(params, X, Y, h_last if h0 is None else h0)
            clipped = functions.clip_gradients(grads, self.model.clip_bound) if clip else grads
            params, memory = functions.step(params, clipped, memory, eta, grads)
        return params

    def train(self, text, params, n_updates, eta, seq_length, *, eps: float | None = None, memory_of_unclipped=False,
              memory_float32=False, loss=None, optimizer=None, **switches):
        """The reference's training loop (the contract's loop with the reference's functions), or a classic
        mistake: any switch of grader.driven.Rules (no clipping, hprev not carried, not reset at the wrap, an
        early wrap, min-char-rnn's smooth-loss start, smoothing factor, target offset, loss after the update),
        the optimizer's eps, AdaGrad memory of the unclipped gradients or kept in float32. ``loss`` ("sum", "mean") and
        ``optimizer`` ("adagrad", "adam") train under another year's conventions."""
        model = dataclasses.replace(self.model, loss=loss or self.model.loss, optimizer=optimizer or self.model.optimizer)
        rules = Rules(**{"clip_bound": model.clip_bound, "smooth_decay": model.smooth_decay, **switches})
        loop = DrivenLoop(ReferenceFunctions(model, eps, memory_of_unclipped, memory_float32), text, params, eta=eta,
                          seq_length=seq_length, rules=rules)
        return loop.run(n_updates)
