"""The suite: an explicit tuple of check modules, and the checks an assignment grades with.

A check module's checks are the ``Check`` objects it defines (``@check`` turns a property into one), in
the order it defines them. ``suite_for`` picks the checks of the assignment's contract functions that
apply under its conventions, in contract order, and matches them against grading.yaml: every check needs
an entry and every entry a check, with the settings and parts the check reads.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from grader.checks import (
    adagrad,
    adam,
    clipping,
    forward,
    gradients,
    init_params,
    synthesize,
    train,
)
from grader.checks.core import Check
from grader.specfile import SpecError

if TYPE_CHECKING:  # only for the annotations: importing them here would make an import cycle
    from grader.assignment import Assignment

MODULES: tuple[ModuleType, ...] = (init_params, forward, gradients, clipping, adagrad, adam, synthesize, train)


def checks_of(module: ModuleType) -> tuple[Check, ...]:
    return tuple(value for value in vars(module).values() if isinstance(value, Check))


ALL: tuple[Check, ...] = tuple(c for module in MODULES for c in checks_of(module))


def suite_for(assignment: Assignment) -> tuple[Check, ...]:
    """The assignment's checks in contract order; SpecError when grading.yaml and the suite disagree."""
    order = assignment.functions
    ours = [c for c in ALL if c.function in order]
    checks = tuple(sorted((c for c in ours if c.applies is None or c.applies(assignment.conventions)),
                          key=lambda c: order.index(c.function)))
    grading = assignment.grading

    def fail(where: str, problem: str):
        raise SpecError(f"{grading.path}: {where}: {problem}")

    known = {c.name: c for c in checks}
    if unknown := [n for n in grading.checks if n not in known]:
        if unknown[0] in {c.name for c in ours}:
            fail(f"check {unknown[0]!r}", f"does not apply under the contract's conventions "
                 f"({assignment.conventions.describe()}); remove its entry")
        fail(f"check {unknown[0]!r}", "no such check in the suite (grader.checks)")
    if missing := [n for n in known if n not in grading.checks]:
        fail(f"check {missing[0]!r}", "missing: every check of the suite needs an entry")
    for check in checks:
        entry = grading.checks[check.name]
        where = f"check {check.name!r}"
        if extra := [k for k in entry.settings if k not in check.settings]:
            expected = ", ".join(("points", "examples", "visibility") + check.settings + (("parts",) if check.parts else ()))
            fail(f"{where}, field {extra[0]!r}", f"unknown for this check (its fields: {expected})")
        if absent := [k for k in check.settings if k not in entry.settings]:
            fail(f"{where}, field {absent[0]!r}", "missing")
        if (entry.parts or check.parts) and set(entry.parts) != set(check.parts):
            fail(f"{where}, field 'parts'", f"must give points to exactly the parts {', '.join(check.parts)}")
    return checks
