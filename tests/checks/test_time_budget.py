"""One time budget per grading: the hidden checks' fresh worker gets what the visible checks left, not a
budget of its own, and the report's diagnostics never take time from the checks."""

from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.grading import grade_submission
from grader.results import FailureKind, Visibility
from grader.sandbox import Limits

ALICE = Path(__file__).parents[2] / "submissions" / "alice" / "rnn.py"
SLOW_FORWARD = '''
import time as _time

_forward = forward


def forward(*args):
    start = _time.process_time()
    while _time.process_time() - start < 1.0:  # a second of computing per call
        pass
    return _forward(*args)
'''


@pytest.mark.slow
def test_the_hidden_checks_get_only_what_the_visible_checks_left_of_the_budget(tmp_path):
    (tmp_path / "rnn.py").write_text(ALICE.read_text() + SLOW_FORWARD)
    # No wall-clock cap within reach: the budget runs out on CPU time alone, so the hidden checks find it
    # spent ('budget', never 'stalled') however busy the machine is.
    limits = Limits(call_seconds=5.0, total_seconds=2.0, wall_factor=1000.0)
    result = grade_submission(tmp_path, load_assignment(), limits=limits, diagnostics=False)
    hidden = [c for c in result.checks if c.visibility is not Visibility.VISIBLE]
    assert hidden
    for check in hidden:  # adagrad_step's and synthesize's would pass with a budget of their own
        assert check.score == 0 and check.stopped_by is FailureKind.budget, (check.name, check.reason)
