"""The grading suite: one named check per behaviour of each contract function.

Importing the modules registers their checks, in contract order; ``CHECKS`` is the whole suite.
Points, thresholds, example budgets and visibility live in specs/grading.yaml (grader.scoring).
"""

from grader.checks import (  # noqa: F401
    adagrad,
    clipping,
    forward,
    gradients,
    init_params,
    synthesize,
    train,
)
from grader.checks.core import REGISTRY, Check
from grader.contract import load_contract

_ORDER = tuple(load_contract().functions)
CHECKS: tuple[Check, ...] = tuple(sorted(REGISTRY, key=lambda c: _ORDER.index(c.function)))

__all__ = ["CHECKS", "Check"]
