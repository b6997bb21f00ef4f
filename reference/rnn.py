"""The reference character-level vanilla RNN, trained with AdaGrad or Adam.

It implements the submission contract (specs/contract.md) exactly; the grader trusts it. The course's
conventions (summed or mean loss, AdaGrad or Adam, clip bound, smoothing, defaults) are the fields of
``RNN``; the grader builds one from the spec it grades with. The module-level functions are the default
course's (summed loss, AdaGrad), so this file is itself a correct submission for the shipped spec.
This module imports numpy only: it also runs inside the sandbox, as a submission.

Model, for t = 1..tau, with x_t and y_t one-hot columns of length K and h_0 given::

    a_t = W h_{t-1} + U x_t + b        (m,1)
    h_t = tanh(a_t)                    (m,1)
    o_t = V h_t + c                    (K,1)
    p_t = softmax(o_t)                 (K,1)
    L   = -sum_t log(y_t^T p_t)            (mean loss: divided by tau)

Backward pass (g_t = dL/do_t, the classic softmax-cross-entropy result)::

    g_t       = p_t - y_t                       (mean loss: divided by tau)
    dL/dV     = sum_t g_t h_t^T                 dL/dc = sum_t g_t
    dL/dh_t   = V^T g_t + W^T dL/da_{t+1}       (the second term is 0 at t = tau)
    dL/da_t   = dL/dh_t * (1 - h_t^2)
    dL/dW     = sum_t dL/da_t h_{t-1}^T         dL/dU = sum_t dL/da_t x_t^T
    dL/db     = sum_t dL/da_t

Everything that does not depend on the recurrence is one matrix product over the whole sequence;
only h_t (forward) and dL/da_t (backward) are computed step by step. Inputs enter by index: U x_t is
column x_t of U, so one-hot inputs are gathered, never multiplied.
"""

import dataclasses

import numpy as np

PARAM_NAMES = ("b", "c", "U", "W", "V")


@dataclasses.dataclass(frozen=True)
class RNN:
    """The model and its training under one course's conventions."""

    loss: str = "sum"  # "sum" or "mean" of -log(y_t^T p_t) over the sequence
    optimizer: str = "adagrad"  # "adagrad" or "adam"
    eps: float = 1e-8
    beta1: float = 0.9  # Adam only
    beta2: float = 0.999  # Adam only
    clip_bound: float = 5.0
    smooth_decay: float = 0.999
    eta: float = 0.1
    seq_length: int = 25

    def init_params(self, K, m, sigma, rng):
        """Zero biases; U, W, V drawn in that order as sigma * standard normal."""
        return {
            "b": np.zeros((m, 1)),
            "c": np.zeros((K, 1)),
            "U": sigma * rng.standard_normal((m, K)),
            "W": sigma * rng.standard_normal((m, m)),
            "V": sigma * rng.standard_normal((K, m)),
        }

    def forward(self, params, X, Y, h0):
        """Return (loss, P (K,tau), H (m,tau)) for one-hot X and Y of shape (K, tau)."""
        loss, P_rows, H_rows = _forward_rows(params, _indices(X), _indices(Y), h0)
        return loss / self._divisor(X.shape[1]), P_rows.T, H_rows.T

    def compute_gradients(self, params, X, Y, h0):
        """Return (grads, loss, h_last): exact, unclipped gradients of the loss."""
        grads = {k: np.empty_like(params[k], dtype=np.float64) for k in PARAM_NAMES}
        loss, h_last = self._gradients_into(grads, params, _indices(X), _indices(Y), h0)
        return grads, loss, h_last

    def clip_gradients(self, grads, bound=None):
        """Return a new dict with every entry clipped elementwise to [-bound, bound]."""
        bound = self.clip_bound if bound is None else bound
        return {k: np.clip(g, -bound, bound) for k, g in grads.items()}

    def adagrad_step(self, params, grads, memory, eta, eps=None):
        """In place: memory[k] += g^2, then params[k] -= eta * g / sqrt(memory[k] + eps)."""
        eps = self.eps if eps is None else eps
        for k, g in grads.items():
            memory[k] += g * g
            params[k] -= eta * g / np.sqrt(memory[k] + eps)

    def adam_step(self, params, grads, first, second, t, eta, beta1=None, beta2=None, eps=None):
        """In place, with t the 1-based step count: first[k] = beta1 first[k] + (1 - beta1) g,
        second[k] = beta2 second[k] + (1 - beta2) g^2, then
        params[k] -= eta * (first[k] / (1 - beta1^t)) / (sqrt(second[k] / (1 - beta2^t)) + eps)."""
        beta1, beta2 = (self.beta1 if beta1 is None else beta1), (self.beta2 if beta2 is None else beta2)
        eps = self.eps if eps is None else eps
        for k, g in grads.items():
            first[k] *= beta1
            first[k] += (1 - beta1) * g
            second[k] *= beta2
            second[k] += (1 - beta2) * g * g
            params[k] -= eta * (first[k] / (1 - beta1**t)) / (np.sqrt(second[k] / (1 - beta2**t)) + eps)

    def synthesize(self, params, h0, x0, n, rng):
        """Sample n indices, feeding each sample back as the next input; x0 is not returned."""
        b, c, U, W, V = (params[k] for k in PARAM_NAMES)
        K = c.shape[0]
        h = h0[:, 0]
        x = x0
        out = []
        for _ in range(n):
            h = np.tanh(W @ h + U[:, x] + b[:, 0])
            p = _softmax(V @ h + c[:, 0])
            x = int(rng.choice(K, p=p))
            out.append(x)
        return out

    def train(self, text, params, n_updates, eta=None, seq_length=None):
        """The assignment's training loop; returns (params, smooth loss after each update).

        Position e walks through the text in steps of seq_length; once a full (X, Y) window no longer
        fits (e > len(text) - seq_length - 1) it returns to 0 and the hidden state to zeros.

        Clipping and the optimizer treat every parameter alike, so parameters, gradients and the
        optimizer's state each live in one flat array (the dicts hold reshaped views of it) and one update
        is a handful of whole-array operations instead of a handful per parameter. The returned params are
        new arrays.
        """
        eta = self.eta if eta is None else eta
        seq_length = self.seq_length if seq_length is None else seq_length
        vocab = sorted(set(text))
        K = len(vocab)
        if params["c"].shape[0] != K:
            raise ValueError(f"params are for K={params['c'].shape[0]} but the text has {K} characters")
        if len(text) < seq_length + 1:
            raise ValueError(f"text of length {len(text)} is shorter than seq_length + 1 = {seq_length + 1}")
        ids = _encode(text, vocab)
        theta, params = _flat_copy(params)
        grad_flat, grads = _flat_copy(params)
        state = [np.zeros_like(theta) for _ in range(2 if self.optimizer == "adam" else 1)]
        scratch = np.empty_like(theta)
        m = params["W"].shape[0]
        hprev = np.zeros((m, 1))
        e = 0
        smooth = None
        smooth_losses = np.empty(n_updates)
        for update in range(n_updates):
            loss, hprev = self._gradients_into(grads, params, ids[e : e + seq_length], ids[e + 1 : e + seq_length + 1], hprev)
            np.clip(grad_flat, -self.clip_bound, self.clip_bound, out=grad_flat)
            self._flat_step(theta, grad_flat, state, eta, update + 1, scratch)
            smooth = loss if smooth is None else self.smooth_decay * smooth + (1 - self.smooth_decay) * loss
            smooth_losses[update] = smooth
            e += seq_length
            if e > len(text) - seq_length - 1:
                e = 0
                hprev = np.zeros((m, 1))
        return params, smooth_losses

    def _flat_step(self, theta, g, state, eta, t, scratch):
        """One optimizer update of the flat parameters theta from the flat gradient g (t: 1-based step)."""
        if self.optimizer == "adam":
            first, second = state
            first *= self.beta1
            first += (1 - self.beta1) * g
            second *= self.beta2
            second += (1 - self.beta2) * np.square(g, out=scratch)
            np.sqrt(np.divide(second, 1 - self.beta2**t, out=scratch), out=scratch)
            scratch += self.eps
            theta -= np.multiply(eta, np.divide(first / (1 - self.beta1**t), scratch, out=scratch), out=scratch)
            return
        (memory,) = state
        memory += np.square(g, out=scratch)
        np.sqrt(np.add(memory, self.eps, out=scratch), out=scratch)
        theta -= np.multiply(eta, np.divide(g, scratch, out=scratch), out=scratch)

    def _divisor(self, tau):
        return tau if self.loss == "mean" else 1

    def _gradients_into(self, grads, params, xs, ys, h0):
        """Write the gradients into the C-contiguous arrays of grads; return (loss, h_last)."""
        W, V = params["W"], params["V"]
        loss, P_rows, H_rows = _forward_rows(params, xs, ys, h0)
        tau = len(xs)
        G = P_rows  # (tau,K): becomes row t = dL/do_t = p_t - y_t; P is not needed afterwards
        G[np.arange(tau), ys] -= 1.0
        if self.loss == "mean":
            G /= tau
        dH_out = G @ V  # (tau,m): the part of dL/dh_t that comes from o_t
        D = 1.0 - H_rows * H_rows  # (tau,m): tanh'(a_t)
        dA = np.empty_like(H_rows)  # (tau,m): row t is dL/da_t
        da = np.zeros(H_rows.shape[1])
        for t in reversed(range(tau)):
            da = np.multiply(dH_out[t] + W.T @ da, D[t], out=dA[t])
        H_prev = np.vstack([h0.T, H_rows[:-1]])  # (tau,m): row t is h_{t-1}
        np.sum(dA, axis=0, out=grads["b"][:, 0])
        np.sum(G, axis=0, out=grads["c"][:, 0])
        grads["U"].fill(0.0)
        np.add.at(grads["U"].T, xs, dA)  # dU[:, x_t] += dL/da_t, the transpose of the forward gather
        np.dot(dA.T, H_prev, out=grads["W"])
        np.dot(G.T, H_rows, out=grads["V"])
        return loss / self._divisor(tau), H_rows[-1:].T.copy()


# The shipped course's conventions; the functions a submission defines.
_COURSE = RNN()
init_params = _COURSE.init_params
forward = _COURSE.forward
compute_gradients = _COURSE.compute_gradients
clip_gradients = _COURSE.clip_gradients
adagrad_step = _COURSE.adagrad_step
synthesize = _COURSE.synthesize
train = _COURSE.train


def _encode(text, vocab):
    """Character indices of text in the sorted vocab, by code point, without a Python loop."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return np.searchsorted(np.array([ord(ch) for ch in vocab], dtype=np.uint32), codes)


def _flat_copy(params):
    """Copy params into one contiguous float64 array; return it and a dict of reshaped views into it."""
    flat = np.concatenate([params[k].ravel() for k in PARAM_NAMES]).astype(np.float64)
    views, start = {}, 0
    for k in PARAM_NAMES:
        size = params[k].size
        views[k] = flat[start : start + size].reshape(params[k].shape)
        start += size
    return flat, views


def _indices(onehot):
    return np.argmax(onehot, axis=0)


def _softmax(O):
    """Softmax along the last axis: of a vector, or of every row."""
    E = np.exp(O - O.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def _forward_rows(params, xs, ys, h0):
    """The forward pass with time along the rows: row t of P_rows (tau,K) and H_rows (tau,m) is step t.

    Rows keep each step's vector contiguous, and the loop writes h_t straight into its row.
    """
    b, c, U, W, V = (params[k] for k in PARAM_NAMES)
    tau = len(xs)
    A_in = U.T[xs] + b.T  # (tau,m): row t is U x_t + b, gathered by index
    H_rows = np.empty_like(A_in)
    h = h0[:, 0]
    for t in range(tau):
        h = np.tanh(W @ h + A_in[t], out=H_rows[t])
    P_rows = _softmax(H_rows @ V.T + c.T)
    loss = -np.sum(np.log(P_rows[np.arange(tau), ys]))
    return loss, P_rows, H_rows
