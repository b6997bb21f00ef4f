import sys


def forward(params, X, Y, h0):
    sys.exit(3)


def init_params(K, m, sigma, rng):
    return {"ok": 1}
