def forward(params, X, Y, h0):
    while True:
        pass


def init_params(K, m, sigma, rng):
    return {"ok": 1}
