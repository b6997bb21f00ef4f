"""What the report shows beyond the checks: a gradient table and a training run of the submission's code.

Nothing here changes a score. A submission that fails or misbehaves during the diagnostics is described
in the result (``GradientTable.failure``, ``TrainingRun.failure``), never allowed to stop the grading.

The grading wires it in as::

    result = SubmissionResult(..., diagnostics=run_diagnostics(box, assignment, oracle))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.diagnostics.gradients import gradient_table
from grader.diagnostics.training import training_run
from grader.oracle import Oracle
from grader.results import Diagnostics
from grader.sandbox import Sandbox

if TYPE_CHECKING:  # only for the annotations: importing them here would make an import cycle
    from grader.assignment import Assignment


def run_diagnostics(box: Sandbox, assignment: Assignment, oracle: Oracle) -> Diagnostics:
    """Compute the report's diagnostics with the submission loaded in ``box`` (a running Sandbox).

    The assignment's report settings and training text were validated when it was loaded.
    """
    with oracle.scope("diagnostics: gradient table"):
        gradients = gradient_table(box, assignment.contract, oracle, assignment.report.gradients)
    with oracle.scope("diagnostics: training run"):
        training = training_run(box, assignment.contract, oracle, assignment.report.training, assignment.text.name,
                                assignment.text.text)
    return Diagnostics(gradients, training)
