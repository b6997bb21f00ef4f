import sys


def dive(n):
    return dive(n + 1) + 1


def forward(params, X, Y, h0):
    """Recursion in C (repr of a deeply nested list) past a raised limit overflows the stack."""
    sys.setrecursionlimit(10**7)
    nested = []
    for _ in range(10**6):
        nested = [nested]
    return repr(nested)


def compute_gradients(params, X, Y, h0):
    return dive(0)


def init_params(K, m, sigma, rng):
    return {"ok": 1}
