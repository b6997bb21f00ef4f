import numpy as np


class VanillaRNN:
    def __init__(self, params):
        self.params = params

    @classmethod
    def initialise(cls, K, m, sigma, rng):
        U = rng.standard_normal((m, K)) * sigma
        W = rng.standard_normal((m, m)) * sigma
        V = rng.standard_normal((K, m)) * sigma
        return cls({"b": np.zeros((m, 1)), "c": np.zeros((K, 1)), "U": U, "W": W, "V": V})

    @property
    def K(self):
        return self.params["c"].shape[0]

    def zero_state(self):
        return np.zeros((self.params["W"].shape[0], 1))

    def encode(self, indices):
        X = np.zeros((self.K, len(indices)))
        X[indices, np.arange(len(indices))] = 1.0
        return X

    def step(self, h, x):
        p = self.params
        h = np.tanh(p["W"] @ h + p["U"] @ x + p["b"])
        o = p["V"] @ h + p["c"]
        e = np.exp(o - o.max())
        return h, e / e.sum()

    def forward(self, X, Y, h0):
        hs, ps = [], []
        h = h0
        for t in range(X.shape[1]):
            h, p = self.step(h, X[:, t : t + 1])
            hs.append(h)
            ps.append(p)
        P, H = np.hstack(ps), np.hstack(hs)
        loss = -float(np.sum(np.log(np.sum(P * Y, axis=0))))
        return loss, P, H

    def backward(self, X, Y, h0):
        p = self.params
        loss, P, H = self.forward(X, Y, h0)
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        da_next = np.zeros((H.shape[0], 1))
        for t in range(X.shape[1] - 1, -1, -1):
            g = P[:, t : t + 1] - Y[:, t : t + 1]
            h = H[:, t : t + 1]
            h_prev = H[:, t - 1 : t] if t else h0
            grads["c"] += g
            grads["V"] += g @ h.T
            da = (p["V"].T @ g + p["W"].T @ da_next) * (1 - h * h)
            grads["b"] += da
            grads["W"] += da @ h_prev.T
            grads["U"] += da @ X[:, t : t + 1].T
            da_next = da
        return grads, loss, H[:, -1:]
