"""The course reports' relative error between two gradients."""

import numpy as np


def max_relative_error(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """max over entries of |a - b| / max(floor, |a| + |b|); the floor keeps near-zero entries from dominating."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b)), initial=0.0))
