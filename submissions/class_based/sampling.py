import numpy as np


class Sampler:
    def __init__(self, net, rng):
        self.net, self.rng = net, rng

    def sample(self, h0, x0, n):
        h, x, out = h0, self.net.encode([x0]), []
        for _ in range(n):
            h, p = self.net.step(h, x)
            i = int(self.rng.choice(self.net.K, p=p[:, 0]))
            out.append(i)
            x = self.net.encode([i])
        return out
