"""A correct submission organised as classes across several files: rnn.py only adapts them to the contract.

Style example: model.py holds the network, optim.py the optimiser, sampling.py the sampler; rnn.py
imports its sibling modules.
"""

import numpy as np

from model import VanillaRNN
from optim import AdaGrad
from sampling import Sampler


def init_params(K, m, sigma, rng):
    return VanillaRNN.initialise(K, m, sigma, rng).params


def forward(params, X, Y, h0):
    return VanillaRNN(params).forward(X, Y, h0)


def compute_gradients(params, X, Y, h0):
    return VanillaRNN(params).backward(X, Y, h0)


def clip_gradients(grads, bound=5.0):
    return AdaGrad.clip(grads, bound)


def adagrad_step(params, grads, memory, eta, eps=1e-8):
    AdaGrad(eta, eps, memory).step(params, grads)


def synthesize(params, h0, x0, n, rng):
    return Sampler(VanillaRNN(params), rng).sample(h0, x0, n)


def train(text, params, n_updates, eta=0.1, seq_length=25):
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    net = VanillaRNN(params)
    optimiser = AdaGrad(eta, 1e-8, {k: np.zeros_like(v) for k, v in params.items()})
    hprev = net.zero_state()
    e, smooth, history = 0, None, []
    for _ in range(n_updates):
        X = net.encode([index[ch] for ch in text[e : e + seq_length]])
        Y = net.encode([index[ch] for ch in text[e + 1 : e + seq_length + 1]])
        grads, loss, hprev = net.backward(X, Y, hprev)
        optimiser.step(net.params, AdaGrad.clip(grads, 5.0))
        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
        history.append(smooth)
        e += seq_length
        if e > len(text) - seq_length - 1:
            e, hprev = 0, net.zero_state()
    return net.params, history
