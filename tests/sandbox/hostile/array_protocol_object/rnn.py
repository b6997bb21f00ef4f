"""An object whose __array__ yields an object array (a vehicle for arbitrary objects)."""
import numpy as np


class Sneaky:
    def __array__(self, dtype=None, copy=None):
        return np.array([object(), object()], dtype=object)


def forward(params, X, Y, h0):
    return Sneaky()
