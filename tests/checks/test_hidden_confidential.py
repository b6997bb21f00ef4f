"""Hidden checks stay hidden: a submission that remembers what it was called with cannot show a student,
through the feedback of a visible check, what the hidden checks sent it."""

import io
import re
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from grader import grading
from grader.assignment import load_assignment
from grader.render.gradescope import to_gradescope
from grader.render.html import render_html
from grader.render.terminal import make_console, render_terminal
from grader.results import Visibility
from grader.sandbox import RngSeed
from grader.sandbox.sandbox import Sandbox

TOKEN = re.compile(r"TOKEN[0-9a-f]{12}")
STORE = Path("/tmp/rnn-grader-leak-test.txt")

# A call's token: a digest of the function's name and its arguments, computed alike in the sandbox and here.
TOKENS = '''
import hashlib
import numpy as np

def canonical(value):
    if isinstance(value, np.random.Generator):
        return ("rng", repr(value.bit_generator.state))
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return ("array", array.dtype.str, array.shape, array.tobytes().hex())
    if isinstance(value, dict):
        return ("dict", tuple((k, canonical(v)) for k, v in sorted(value.items())))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(canonical(v) for v in value))
    return ("value", repr(value))

def token(name, args):
    return "TOKEN" + hashlib.sha256(repr((name, canonical(list(args)))).encode()).hexdigest()[:12]
'''

# It remembers every call in the module, in a file beside rnn.py and in /tmp (to outlive its worker and the
# grading), and fails every call with what it remembers: the feedback a student reads.
SPY = TOKENS + f'''
import os
STORES = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "seen.txt"), {str(STORE)!r}]
SEEN = []

def _remembered():
    found = []
    for path in STORES:
        try:
            with open(path) as f:
                found += f.read().split()
        except OSError:
            pass
    return found

def _spy(name, args):
    SEEN.append(token(name, args))
    for path in STORES:
        try:
            with open(path, "a") as f:
                f.write(SEEN[-1] + "\\n")
        except OSError:
            pass
    older = [t for t in dict.fromkeys(_remembered()) if t not in SEEN[-30:]]
    raise ValueError("seen before: " + " ".join(older[:150] + SEEN[-30:]))

def _function(name):
    return lambda *args: _spy(name, args)

for _name in ("init_params", "forward", "compute_gradients", "clip_gradients", "adagrad_step", "synthesize", "train"):
    globals()[_name] = _function(_name)
'''

namespace: dict = {}
exec(TOKENS, namespace)


@contextmanager
def inputs_by_visibility():
    """{visibility of the check that made the call: tokens of its calls}, for the calls made inside."""
    sent: dict[str, set[str]] = {}
    running = {"visibility": None}
    run_check, call = grading.run_check, Sandbox.call

    def watched_check(check, ctx, examples):
        running["visibility"] = ctx.spec.visibility
        return run_check(check, ctx, examples)

    def watched_call(box, function, *args, **options):
        args = [np.random.default_rng(a.seed) if isinstance(a, RngSeed) else a for a in args]
        sent.setdefault(running["visibility"], set()).add(namespace["token"](function, args))
        return call(box, function, *args, **options)

    with mock.patch.object(grading, "run_check", watched_check), mock.patch.object(Sandbox, "call", watched_call):
        yield sent


def _student_visible(result) -> str:
    """Everything of a result a student can read: the report's student copy, Gradescope's summary and
    visible tests, the terminal summary."""
    document = to_gradescope(result)
    stream = io.StringIO()
    render_terminal(result, make_console(stream))
    return "\n".join([render_html(result), document["output"], stream.getvalue(),
                      *(t["output"] for t in document["tests"] if t["visibility"] == Visibility.VISIBLE)])


@pytest.mark.slow
def test_inputs_of_hidden_checks_never_reach_what_a_student_reads(tmp_path):
    (tmp_path / "rnn.py").write_text(SPY)
    STORE.unlink(missing_ok=True)
    try:
        for _ in range(2):  # the second time: a regrade, after the hidden inputs of the first were stored
            with inputs_by_visibility() as sent:
                result = grading.grade_submission(tmp_path, load_assignment(), diagnostics=False)
            hidden_only = set().union(*(t for v, t in sent.items() if v != Visibility.VISIBLE)) - sent[Visibility.VISIBLE]
            assert hidden_only, "the hidden checks sent inputs no visible check sent"
            shown = set(TOKEN.findall(_student_visible(result)))
            assert shown, "the visible feedback carries what the submission chose to say"
            assert not shown & hidden_only, f"{len(shown & hidden_only)} hidden inputs shown to the student"
            assert shown <= sent[Visibility.VISIBLE]
    finally:
        STORE.unlink(missing_ok=True)


# A correct submission that prints a token of each of its first calls: what it could decide on.
FIRST_CALLS = TOKENS + '''
CALLS = []

def _watched(name, function):
    def watched(*args):
        if len(CALLS) < 12:
            CALLS.append(token(name, args))
            print("call", len(CALLS), name, CALLS[-1])
        return function(*args)
    return watched

for _name in ("init_params", "forward", "compute_gradients", "clip_gradients", "adagrad_step", "synthesize", "train"):
    globals()[_name] = _watched(_name, globals()[_name])
'''


@pytest.mark.slow  # a whole grading
def test_the_hidden_checks_sandbox_begins_with_the_same_calls_as_the_visible_one(tmp_path):
    alice = Path(__file__).parents[2] / "submissions" / "alice" / "rnn.py"
    (tmp_path / "rnn.py").write_text(alice.read_text() + FIRST_CALLS)
    result = grading.grade_submission(tmp_path, load_assignment(), diagnostics=False)
    visible, hidden = (re.findall(r"^call \d+ .*$", o.stdout, re.MULTILINE) for o in (result.output, result.hidden_output))
    assert len(visible) == len(hidden) == 12
    tokens = [line.split()[-1] for line in visible]
    # Up to the first call no visible check made, the hidden checks' sandbox saw what the visible one saw.
    first_hidden = next(i for i, line in enumerate(hidden) if line.split()[-1] not in tokens)
    assert first_hidden >= 5 and hidden[:first_hidden] == visible[:first_hidden]
    assert result.score == result.max_score
