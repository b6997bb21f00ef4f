"""Calls a property sends together (Ctx.call_each) grade as the same calls made one by one: same outcome, same
calls made by the worker, also when one of them fails or the submission keeps state between calls."""

import dataclasses
from pathlib import Path

import pytest
from shipped_course import shipped

from grader.checks.core import Ctx, run_check
from grader.checks.suite import suite_for
from grader.oracle import LiveOracle
from grader.sandbox import Sandbox

ASSIGNMENT = shipped()
FINITE_DIFFERENCES = next(c for c in suite_for(ASSIGNMENT) if c.name == "compute_gradients: consistent with own forward")
ALICE = Path(__file__).resolve().parents[2] / "submissions" / "alice"


def looped(self, function, arguments, *, dims, describe, uses=None, after=None):
    """Ctx.call_each as a loop of Ctx.call: what it must equal."""
    values = []
    for args, text in zip(arguments, describe, strict=True):
        values.append(self.call(function, *args, dims=dims, describe=text, uses=uses))
        if after is not None:
            after(len(values) - 1, values[-1])
    return values


def counting_forward(tmp_path: Path, at: int, wrong: str) -> Path:
    """alice with a forward that prints each time it runs and, on every run numbered a multiple of ``at``,
    answers ``wrong`` (a function of loss, P and H)."""
    source = (ALICE / "rnn.py").read_text()
    head = "def forward(params, X, Y, h0):\n"
    assert head in source
    (tmp_path / "rnn.py").write_text(source.replace(head, (
        "def forward(params, X, Y, h0, _runs=[]):\n"
        "    _runs.append(1)\n"
        "    print('forward', len(_runs))\n"
        "    loss, P, H = _forward(params, X, Y, h0)\n"
        f"    return ({wrong}) if len(_runs) % {at} == 0 else (loss, P, H)\n\n\n"
        "def _forward(params, X, Y, h0):\n")))
    return tmp_path


def graded(folder: Path):
    with Sandbox(folder, functions=ASSIGNMENT.functions) as box:
        outcome = run_check(FINITE_DIFFERENCES, Ctx(box, ASSIGNMENT, LiveOracle(ASSIGNMENT),
                                                    ASSIGNMENT.grading.checks[FINITE_DIFFERENCES.name]), 10)
        return dataclasses.replace(outcome, seconds=0.0), box.output().stdout, box.timings.keys(), {
            name: len(seconds) for name, seconds in box.timings.items()}


@pytest.mark.slow
@pytest.mark.parametrize("wrong", ["1 / 0", "float('nan'), P, H", "loss, P.astype(np.float32), H", "float(loss), P, H",
                                   "loss + 1e-3, P, H"],
                         ids=["raises", "nan", "float32-P", "another-type", "off"])
def test_the_finite_difference_check_makes_the_calls_a_loop_makes_and_grades_alike(tmp_path, monkeypatch, wrong):
    # Every 37th run of forward (in the middle of a case's ten) goes wrong: a state kept between calls, which
    # only the same calls in the same order reproduce.
    folder = counting_forward(tmp_path, 37, wrong)
    together = graded(folder)
    monkeypatch.setattr(Ctx, "call_each", looped)
    one_by_one = graded(folder)
    assert together == one_by_one
    assert together[1].count("forward") > 37
