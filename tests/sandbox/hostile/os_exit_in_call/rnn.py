import os


def forward(params, X, Y, h0):
    os._exit(7)


def init_params(K, m, sigma, rng):
    return {"ok": 1}
