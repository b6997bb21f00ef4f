"""DD2424 Assignment 4: a vanilla RNN as a class, trained on the Goblet of Fire."""
import numpy as np
import matplotlib.pyplot as plt


class RNN:
    def __init__(self, K, m=100, eta=0.1, seq_length=25, sigma=0.01):
        self.K, self.m, self.eta, self.seq_length, self.sigma = K, m, eta, seq_length, sigma
        self.params = self.init_params(K, m, sigma, np.random.default_rng(42))

    def init_params(self, K, m, sigma, rng):
        params = {"b": np.zeros((m, 1)), "c": np.zeros((K, 1))}
        params["U"] = sigma * rng.standard_normal((m, K))
        params["W"] = sigma * rng.standard_normal((m, m))
        params["V"] = sigma * rng.standard_normal((K, m))
        return params

    def softmax(self, o):
        e = np.exp(o - np.max(o, axis=0, keepdims=True))
        return e / np.sum(e, axis=0, keepdims=True)

    def forward(self, params, X, Y, h0):
        m, tau = h0.shape[0], X.shape[1]
        H = np.zeros((m, tau))
        P = np.zeros((X.shape[0], tau))
        h = h0
        loss = 0.0
        for t in range(tau):
            a = params["W"] @ h + params["U"] @ X[:, [t]] + params["b"]
            h = np.tanh(a)
            p = self.softmax(params["V"] @ h + params["c"])
            H[:, [t]], P[:, [t]] = h, p
            loss -= np.log(Y[:, t] @ p[:, 0])
        return loss, P, H

    def compute_gradients(self, params, X, Y, h0):
        loss, P, H = self.forward(params, X, Y, h0)
        tau = X.shape[1]
        grads = {k: np.zeros_like(v) for k, v in params.items()}
        G = P - Y
        grads["V"] = G @ H.T
        grads["c"] = G.sum(axis=1, keepdims=True)
        da_next = np.zeros_like(h0)
        for t in reversed(range(tau)):
            dh = params["V"].T @ G[:, [t]] + params["W"].T @ da_next
            da = dh * (1 - H[:, [t]] ** 2)
            h_prev = H[:, [t - 1]] if t > 0 else h0
            grads["W"] += da @ h_prev.T
            grads["U"] += da @ X[:, [t]].T
            grads["b"] += da
            da_next = da
        return grads, loss, H[:, [-1]]

    def clip_gradients(self, grads, bound=5.0):
        return {k: np.clip(g, -bound, bound) for k, g in grads.items()}

    def adagrad_step(self, params, grads, memory, eta, eps=1e-8):
        for k in params:
            memory[k] += grads[k] ** 2
            params[k] -= eta * grads[k] / np.sqrt(memory[k] + eps)

    def synthesize(self, params, h0, x0, n, rng):
        K = params["c"].shape[0]
        x = np.zeros((K, 1))
        x[x0] = 1
        h = h0
        out = []
        for _ in range(n):
            h = np.tanh(params["W"] @ h + params["U"] @ x + params["b"])
            p = self.softmax(params["V"] @ h + params["c"])
            i = rng.choice(K, p=p[:, 0])
            out.append(i)
            x = np.zeros((K, 1))
            x[i] = 1
        return out

    def train(self, text, params, n_updates, eta=0.1, seq_length=25):
        chars = sorted(set(text))
        idx = {c: i for i, c in enumerate(chars)}
        K, m = len(chars), params["W"].shape[0]
        memory = {k: np.zeros_like(v) for k, v in params.items()}
        e, hprev, smooth, losses = 0, np.zeros((m, 1)), None, []
        for _ in range(n_updates):
            X = np.eye(K)[:, [idx[c] for c in text[e:e + seq_length]]]
            Y = np.eye(K)[:, [idx[c] for c in text[e + 1:e + seq_length + 1]]]
            grads, loss, hprev = self.compute_gradients(params, X, Y, hprev)
            self.adagrad_step(params, self.clip_gradients(grads), memory, eta)
            smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
            losses.append(smooth)
            e += seq_length
            if e > len(text) - seq_length - 1:
                e, hprev = 0, np.zeros((m, 1))
        return params, losses


book = open("goblet_book.txt").read()
K = len(set(book))
model = RNN(K, m=100)
init_params = model.init_params
forward = model.forward
compute_gradients = model.compute_gradients
clip_gradients = model.clip_gradients
adagrad_step = model.adagrad_step
synthesize = model.synthesize
train = model.train

params, smooth = train(book, model.params, 100000)
plt.plot(smooth)
plt.savefig("loss.png")
