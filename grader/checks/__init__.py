"""The grading suite: one named check per behaviour of each contract function.

The suite itself is ``grader.checks.suite`` (an explicit tuple of check modules); importing this package
imports nothing else, so ``grader.checks.outcome`` is available without Hypothesis. Points, thresholds,
example budgets and visibility live in the spec folder's grading.yaml (grader.scoring).
"""
