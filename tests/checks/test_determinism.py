"""A check draws the same cases however the grader was started (CLI, tests, batch)."""

import sys

import pytest
from shipped_course import shipped

from grader.checks.core import Check, Ctx, _search
from grader.checks.strategies import sequences
from grader.oracle import LiveOracle

ASSIGNMENT = shipped()

# Enough draws that Hypothesis, left alone, picks at least one of the module's constants as a seed.
DRAWS = 300


def drawn_cases():
    seen = []

    def record(ctx, case):
        seen.append((case.K, case.m, case.tau, case.scale, case.seed))

    ctx = Ctx(None, ASSIGNMENT, LiveOracle(ASSIGNMENT), None)
    _search(Check("forward: records its cases", "forward", sequences(), record), ctx, DRAWS, frozenset(), [])
    return seen


@pytest.mark.long
def test_importing_a_module_full_of_constants_does_not_change_the_cases(tmp_path, monkeypatch):
    before = drawn_cases()
    (tmp_path / "constants_everywhere.py").write_text(
        "VALUES = [1000, 2424, 4096, 12345, 65535, 0.25, 0.75, 1.25, 3.5]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    import constants_everywhere  # noqa: F401 - imported for its constants

    try:
        assert drawn_cases() == before
    finally:
        sys.modules.pop("constants_everywhere", None)
