"""The sandboxes of one grading: what each opens with, and their workers started before they are needed.

A worker's start-up (the interpreter, numpy, the limits, the privilege drop, the system-call filter: about a
tenth of a second of CPU, before it can import rnn.py) needs nothing of the submission's. So the visible
checks' worker, and the report's when it runs beside them, can start as soon as the assignment is read: the
command line starts them before it imports the checks and reads the submission, and each sandbox takes the
submission when it is first used (grader.sandbox.ahead.SandboxAhead.take). No code of the submission runs in
a worker before then.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.contract import OPTIMIZERS
from grader.diagnostics.beside import usable_cores
from grader.sandbox import Limits, Policy, Sandbox, TimeBudget
from grader.sandbox.ahead import SandboxAhead
from grader.sandbox.isolation import ProbesAhead


@dataclass(frozen=True)
class SandboxSettings:
    """What every sandbox of one grading opens with. One budget for all of them: the hidden checks' fresh
    worker gets what the visible checks left, not more."""

    limits: Limits
    functions: tuple[str, ...]  # the contract's, and other years' optimizer steps (to name another year's work)
    policy: Policy
    packages: tuple[str, ...]
    budget: TimeBudget

    @classmethod
    def make(cls, assignment: Assignment, limits: Limits | None, policy: Policy) -> SandboxSettings:
        limits = limits or assignment.grading.limits
        steps = tuple(kind.function for kind in OPTIMIZERS.values() if kind.function not in assignment.functions)
        return cls(limits, assignment.functions + steps, Policy(policy), assignment.allowed_imports, TimeBudget(limits))

    def open(self, folder: Path | None, budget: TimeBudget | None = None) -> Sandbox:
        """A sandbox of ``folder`` (None: admitted later) on the grading's budget, or on ``budget`` (the
        report's diagnostics have their own)."""
        return Sandbox(folder, self.limits, functions=self.functions, policy=self.policy, packages=self.packages,
                       budget=self.budget if budget is None else budget)


class GradingSandboxes:
    """The visible checks', the report's and the hidden checks' sandboxes of one grading, each made and started
    when asked (SandboxAhead), with no submission until its user takes it. The report runs on a budget of its
    own (it never takes time from the checks), and ``beside`` the checks when the grading has two cores.

    Use it as a context manager: closing it closes every sandbox no one took, and waits for the probes its
    sandboxes were made after (the tier's, the system-call filter's: ProbesAhead)."""

    def __init__(self, settings: SandboxSettings, beside: bool):
        self.settings = settings
        self.beside = beside
        self.report_budget = TimeBudget(settings.limits)
        self._probes = ProbesAhead(settings.policy, settings.packages)
        self.visible = SandboxAhead(functools.partial(self._open, None))
        self.report = SandboxAhead(functools.partial(self._open, self.report_budget))
        self.hidden = SandboxAhead(functools.partial(self._open, None))

    @classmethod
    def make(cls, assignment: Assignment, limits: Limits | None, policy: Policy, cores: int | None = None,
             kit_policy: Policy = Policy.portable) -> GradingSandboxes:
        """Under ``limits`` (None: the assignment's) and ``policy``, or under the student kit's spec
        (``self_check``) ``kit_policy``; ``cores``: the cores the grading may use (None: this process's,
        usable_cores)."""
        policy = kit_policy if assignment.grading.self_check else policy
        return cls(SandboxSettings.make(assignment, limits, policy), (usable_cores() if cores is None else cores) >= 2)

    def __enter__(self) -> GradingSandboxes:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self, diagnostics: bool = True) -> GradingSandboxes:
        """Start the visible checks' worker, and the report's if its ``diagnostics`` will run beside them."""
        self.visible.start()
        if diagnostics and self.beside:
            self.report.start()
        return self

    def close(self) -> None:
        with contextlib.ExitStack() as closing:  # each one closed, whatever another raises
            closing.callback(self._probes.wait)
            for ahead in (self.visible, self.report, self.hidden):
                closing.callback(ahead.close)

    def _open(self, budget: TimeBudget | None) -> Sandbox:
        # Made once the probes are over: two threads probing at once would each start a probe's process.
        self._probes.wait()
        return self.settings.open(None, budget)
