import numpy as np


class AdaGrad:
    def __init__(self, eta, eps, memory):
        self.eta, self.eps, self.memory = eta, eps, memory

    @staticmethod
    def clip(grads, bound):
        return {k: np.minimum(np.maximum(g, -bound), bound) for k, g in grads.items()}

    def step(self, params, grads):
        for k, g in grads.items():
            self.memory[k] += g**2
            params[k] -= self.eta * g / np.sqrt(self.memory[k] + self.eps)
