"""Stand-in grading functions for the class-grading tests: instant, and importable by the worker processes.

A fake reads its instructions from the submission's rnn.py: `# score: N` sets the score of the first
check (`# v2-score: N` sets it instead for fake_grade_v2, a changed grader), `# timeout` makes the first
check time out (having used its CPU time), `# timeouts: N FILE` makes it stall (stopped by the clock while it
waited, as a starved call is) the first N times the submission is graded (FILE, outside the class folder, gets
one line per grading), `# interrupt` raises KeyboardInterrupt (as Ctrl-C in a worker would), `# signal-parent PID`
sends SIGINT to the grading process (as Ctrl-C there would) and then takes its time, having written the
pid of the process grading it to grading.pid beside rnn.py; `# hang FILE` writes that pid to FILE (outside
the class folder) and then takes SLOW_SECONDS deaf to SIGINT and SIGTERM; `# grader-bug-while FILE` raises
RuntimeError while FILE (outside the class folder) exists, as a bug of the grader's would, and
`# sandbox-unavailable` raises SandboxUnavailable, as a sandbox found unusable in the grading process would.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import time
from pathlib import Path

from grader.intake import NotGradable
from grader.results import CheckResult, FailureKind, SubmissionResult
from grader.sandbox import Policy, SandboxUnavailable

CHECKS = (("init_params: shapes", "init_params", 6.0), ("forward: loss matches reference", "forward", 4.0))
SLOW_SECONDS = 30.0


def _module(path) -> Path:
    module = next(Path(path).rglob("rnn.py"), None)  # the real grader's locator is grader.intake's
    if module is None:
        raise NotGradable(f"no rnn.py in {Path(path).name}")
    return module


def fake_grade_v2(path, assignment, **options) -> SubmissionResult:
    """A changed grader: where rnn.py says `# v2-score: N`, that is the whole instruction."""
    text = _module(path).read_text()
    found = re.search(r"# v2-score: ([\d.]+)", text)
    return fake_grade(path, assignment, **options, _text=f"# score: {found.group(1)}\n" if found else text)


def fake_grade(path, assignment, *, limits=None, include_hidden=True, policy=None, cores=None, _text=None) -> SubmissionResult:
    module = _module(path)
    text = module.read_text() if _text is None else _text
    if "# interrupt" in text:
        raise KeyboardInterrupt
    if (found := re.search(r"# grader-bug-while (\S+)", text)) and Path(found.group(1)).exists():
        raise RuntimeError(f"a bug in the grader, grading {module}")  # the path of a zip's copy is a scratch folder's
    if "# sandbox-unavailable" in text:
        raise SandboxUnavailable("the system-call filter's probe gave no verdict")
    if found := re.search(r"# hang (\S+)", text):  # as a grader-side parse that never ends: only a kill stops it
        Path(found.group(1)).write_text(str(os.getpid()))
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        time.sleep(SLOW_SECONDS)
    if found := re.search(r"# signal-parent (\d+)", text):
        (module.parent / "grading.pid").write_text(str(os.getpid()))
        os.kill(int(found.group(1)), signal.SIGINT)
        # In short naps, like the sandbox's polling: a signal landing just before one long sleep starts
        # would only be handled when it ends (CPython checks for signals between bytecodes).
        deadline = time.monotonic() + SLOW_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
    first = float(re.search(r"# score: ([\d.]+)", text).group(1)) if "# score:" in text else CHECKS[0][2]
    timeout = re.search(r"^# timeout$", text, re.MULTILINE) is not None
    kind = FailureKind.timeout
    if found := re.search(r"# timeouts: (\d+) (\S+)", text):
        with open(found.group(2), "a+") as counter:
            counter.seek(0)
            timeout = len(counter.readlines()) < int(found.group(1))
            counter.write(f"{'timed out' if timeout else 'passed'}\n")
        kind = FailureKind.stalled
    first = 0.0 if timeout else first
    checks = (
        CheckResult(CHECKS[0][0], CHECKS[0][1], first, CHECKS[0][2], "visible",
                    reason="timed out" if timeout else "" if first == CHECKS[0][2] else "wrong",
                    stopped_by=kind if timeout else None),
        CheckResult(CHECKS[1][0], CHECKS[1][1], CHECKS[1][2], CHECKS[1][2], "visible"),
    )
    return SubmissionResult(
        name=Path(path).name,
        checks=checks,
        score=sum(c.score for c in checks),
        max_score=sum(c.max_score for c in checks),
        isolation_tier="fake",
        isolation_description="not run: a test's stand-in grader",
        execution_time=float(len(text)) / 1000,
        grader_version="test",
        spec_digest="test",
    )


def failing_grade(path, assignment, **options) -> SubmissionResult:
    raise RuntimeError("a bug in the grader")


def tier_grade(path, assignment, *, policy=None, **options) -> SubmissionResult:
    """fake_grade, run in the tier the policy gives on a machine without a strong one (or in the one named
    by `# tier: NAME` in rnn.py, as another machine of a cluster would)."""
    result = fake_grade(path, assignment, **options)
    text = (Path(path) / "rnn.py").read_text()
    named = re.search(r"# tier: (\S+)", text)
    weak = named is None and Policy(policy) is Policy.allow_weak
    tier = named.group(1) if named else ("plain-process" if weak else "bubblewrap")
    return dataclasses.replace(result, isolation_tier=tier, weak_isolation=weak)



def held_grade(path, assignment, *, limits=None, include_hidden=True, policy=None, cores=None) -> SubmissionResult:
    """fake_grade's result, given once the test lets it go: rnn.py's `# control: DIR` names a folder where
    the fake writes started-NAME (`# name: NAME`) (holding the pid of the process grading it) and waits for release-NAME
    or release-all. With `# sandbox`, it holds a real sandbox open meanwhile (its worker imports rnn.py, and
    whatever that starts keeps running), as a grading holds one while the checks run; started-NAME is
    written once the sandbox is up."""
    module = _module(path)
    text = module.read_text()
    control = Path(re.search(r"# control: (\S+)", text).group(1))
    name = re.search(r"# name: (\S+)", text).group(1)  # a cluster's worker grades an unpacked copy
    box = None
    if "# sandbox" in text:
        from grader.sandbox import Sandbox

        box = Sandbox(module.parent, functions=("init_params",), policy=Policy(policy or Policy.strict)).__enter__()
    (control / f"started-{name}.tmp").write_text(str(os.getpid()))
    os.replace(control / f"started-{name}.tmp", control / f"started-{name}")
    try:
        while not ((control / f"release-{name}").exists() or (control / "release-all").exists()):
            time.sleep(0.02)
    finally:
        if box is not None:
            box.close()
    return fake_grade(path, assignment, limits=limits, include_hidden=include_hidden, policy=policy)


def cores_grade(path, assignment, **options) -> SubmissionResult:
    """fake_grade, with the cores it was given (grade_submission's `cores`) as the first check's feedback."""
    result = fake_grade(path, assignment, **options)
    first = dataclasses.replace(result.checks[0], feedback=f"cores={options.get('cores')}")
    return dataclasses.replace(result, checks=(first, *result.checks[1:]))
