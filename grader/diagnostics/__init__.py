"""What the report shows beyond the checks: a gradient table and a training run of the submission's code.

Nothing here changes a score. A submission that fails or misbehaves during the diagnostics is described
in the result (``gradient_failure``, ``TrainingRun.failure``), never allowed to stop the grading.

The grading wires it in as::

    diagnostics = run_diagnostics(box, contract)
    result = SubmissionResult(..., **diagnostics.fields())
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import oracle
from grader.contract import Contract, SpecError
from grader.diagnostics.gradients import gradient_table
from grader.diagnostics.spec import load_report_spec
from grader.diagnostics.training import training_run
from grader.results import GradientRow, TrainingRun
from grader.texts import TextError, load_text


@dataclass(frozen=True)
class Diagnostics:
    gradient_table: tuple[GradientRow, ...]
    gradient_case: str
    gradient_failure: str
    training: TrainingRun

    def fields(self) -> dict[str, Any]:
        """The SubmissionResult fields these diagnostics fill in."""
        return {
            "gradient_table": self.gradient_table,
            "gradient_case": self.gradient_case,
            "gradient_failure": self.gradient_failure,
            "training": self.training,
        }


def run_diagnostics(box, contract: Contract, spec_dir: Path | None = None) -> Diagnostics:
    """Compute the report's diagnostics with the submission loaded in ``box`` (a running Sandbox).

    Raises SpecError when specs/report.yaml or its training text is unusable: the course's setup is
    wrong, not the submission, so it is said before anything is run.
    """
    spec = load_report_spec(spec_dir)
    try:
        text_name, text = load_text(spec.training.text, spec_dir)
    except TextError as exc:
        raise SpecError(f"report.yaml: {exc}") from None
    usable = min(len(text), spec.training.text_chars)
    if usable < spec.training.seq_length + 1:
        raise SpecError(
            f"report.yaml: the training text {text_name!r} gives {usable} characters, fewer than "
            f"seq_length + 1 = {spec.training.seq_length + 1}"
        )
    with oracle.scope("diagnostics: gradient table"):
        gradients = gradient_table(box, contract, spec.gradients)
    with oracle.scope("diagnostics: training run"):
        training = training_run(box, contract, spec.training, text_name, text)
    return Diagnostics(gradients.rows, gradients.case, gradients.failure, training)
