"""Your character-level RNN. Fill in every function; the grader calls them exactly as documented.

Conventions (specs/contract.md has the full contract):
    K = vocabulary size, m = hidden size, tau = sequence length; float64 numpy throughout.
    params is a dict with keys b (m,1), c (K,1), U (m,K), W (m,m), V (K,m).
    X and Y are (K, tau) one-hot arrays: column t is x_t / y_t. h0 is (m,1).
"""

import numpy as np


def init_params(K, m, sigma, rng):
    """Return a params dict: b and c zeros; then U, W, V, in that order, each sigma * rng.standard_normal(shape).

    rng is a numpy.random.Generator: draw from it, not from np.random.
    """
    raise NotImplementedError


def forward(params, X, Y, h0):
    """Return (loss, P, H).

    For t = 1..tau: a_t = W h_{t-1} + U x_t + b, h_t = tanh(a_t), o_t = V h_t + c, p_t = softmax(o_t).
    loss = -sum_t log(y_t^T p_t), summed (not averaged) over the sequence.
    P (K,tau) holds p_1..p_tau; H (m,tau) holds h_1..h_tau.
    """
    raise NotImplementedError


def compute_gradients(params, X, Y, h0):
    """Return (grads, loss, h_last).

    grads: exact gradients of forward's loss, a dict with the same keys and shapes as params, NOT clipped.
    loss: as in forward. h_last: h_tau, shape (m,1).
    """
    raise NotImplementedError


def clip_gradients(grads, bound=5.0):
    """Return a new dict with every entry clipped elementwise to [-bound, bound]; do not modify grads."""
    raise NotImplementedError


def adagrad_step(params, grads, memory, eta, eps=1e-8):
    """Update params and memory in place and return None. For every key k:

    memory[k] += grads[k]**2
    params[k] -= eta * grads[k] / sqrt(memory[k] + eps)
    """
    raise NotImplementedError


def synthesize(params, h0, x0, n, rng):
    """Return n sampled character indices (a list of ints or an int array).

    x0 is the index of the first input. Each step samples the next index from p_t using rng and feeds it
    back as the next input; the hidden state carries over from step to step. x0 is not part of the output.
    """
    raise NotImplementedError


def train(text, params, n_updates, eta=0.1, seq_length=25):
    """Train on text for n_updates AdaGrad updates; return (params, smooth_loss).

    Vocabulary: sorted(set(text)). Start with e = 0 and hprev = zeros (m,1). Each update:
      X = text[e : e+seq_length], Y = text[e+1 : e+seq_length+1] (as one-hot arrays);
      gradients from hprev, clipped to [-5, 5]; one AdaGrad step (memory starts at zeros);
      hprev = h_last; smooth_loss is the first update's loss, then 0.999*smooth_loss + 0.001*loss;
      e += seq_length, and when e > len(text) - seq_length - 1: e = 0 and hprev = zeros.
    smooth_loss holds the smooth loss after each of the n_updates updates.
    """
    raise NotImplementedError
