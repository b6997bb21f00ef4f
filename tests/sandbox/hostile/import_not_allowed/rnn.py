"""Imports an installed package that is not in the allowed set (the grader itself depends on it)."""
import numpy as np

import yaml  # noqa: F401


def forward(params, X, Y, h0):
    return np.zeros(1)
