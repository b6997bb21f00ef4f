"""The student kit: the grader with the public checks only, and no reference solution.

``build_kit(out_dir)`` writes an installable folder (see grader.kit.build). Students run the same
``python -m grader my_submission/`` in it and get the public score and the same report, marked as a
self-check.
"""

from grader.kit.build import Kit, KitError, build_kit

__all__ = ["Kit", "KitError", "build_kit"]
