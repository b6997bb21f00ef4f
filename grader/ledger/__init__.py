"""The instructor's ledger: overrides and the late policy, applied to the grader's scores after grading.

    overrides: per student and check, the points to give instead, with a reason, who and when
    late: deadline, grace, percent per day, cap, per-student extensions
    apply: the final score of each submission from its raw score and the ledger

The raw score stays the grader's; the ledger's files are read again on every run, so regrading keeps
them. By default they live in the class output folder (overrides.yaml, late-policy.yaml).
"""

from grader.ledger.apply import Ledger, LedgerOutcome, apply_ledger
from grader.ledger.late import LatePolicy, load_late_policy
from grader.ledger.overrides import LedgerError, Override, load_overrides

__all__ = ["Ledger", "LedgerError", "LedgerOutcome", "LatePolicy", "Override", "apply_ledger", "load_late_policy",
           "load_overrides"]
