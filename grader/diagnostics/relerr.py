"""The course reports' relative errors between two gradients: elementwise maximum and norm formula."""

import numpy as np


def max_relative_error(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """max over entries of |a - b| / max(floor, |a| + |b|); the floor keeps near-zero entries from dominating."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b)), initial=0.0))


def norm_relative_error(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """||a - b|| / max(floor, ||a|| + ||b||), Euclidean norms over all entries: the course reports' other formula."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    return float(np.linalg.norm(a - b) / max(floor, float(np.linalg.norm(a) + np.linalg.norm(b))))
