"""The student kit's portable tier with the POSIX-only facilities masked, as on Windows.

Grader side: no select() on pipes, no fcntl, pwd or resource, no process groups, no /proc sweeps. Worker
side: it is started with resource and ctypes unimportable, so it cannot set rlimits or call prctl. What
this cannot show on Linux: Windows' own pipes, process creation and TerminateProcess, and macOS' rlimits.
"""

import select
import sys

import pytest

from grader.sandbox import CallFailed, FailureKind, Limits, Policy, Sandbox
from grader.sandbox.tiers import portable

from .conftest import CPU_ONLY, FUNCTIONS, GOOD, HOSTILE, PACKAGES

MASKED_WORKER = (
    "import runpy, sys\n"
    "for name in ('resource', 'ctypes', 'fcntl', 'pwd', 'grp', 'termios'):\n"
    "    sys.modules[name] = None\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


@pytest.fixture
def windows_like(monkeypatch):
    def no_select(*args, **kwargs):
        raise OSError("select() works on sockets only on Windows")

    monkeypatch.setattr(select, "select", no_select)
    for name in ("fcntl", "pwd", "resource"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(portable, "POSIX", False)
    monkeypatch.setattr(portable, "LINUX", False)
    original = portable.Portable._python

    def masked(self):
        python, *flags, worker = original(self)
        return [python, *flags, "-c", MASKED_WORKER, worker]

    monkeypatch.setattr(portable.Portable, "_python", masked)


def kit_box(case, limits=Limits(call_seconds=2.0, import_seconds=20.0, total_seconds=60.0)):
    return Sandbox(case if not isinstance(case, str) else HOSTILE / case, limits, functions=FUNCTIONS, packages=PACKAGES,
                   policy=Policy.portable)


def test_calls_output_and_timeouts_work_without_posix_facilities(windows_like, rnn_args):
    with kit_box(GOOD) as box:
        assert box.tier == "portable" and box.load_failure is None
        loss, P, H = box.call("forward", *rnn_args).value
        assert P.shape == (4, 5)
    with kit_box("loop_in_call", Limits(call_seconds=0.5, import_seconds=20.0, wall_factor=CPU_ONLY)) as box:
        with pytest.raises(CallFailed) as raised:
            box.call("forward", *rnn_args)
        assert raised.value.failure.kind is FailureKind.timeout
        assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}  # a fresh worker after the kill


def test_crashes_exits_and_floods_are_reported(windows_like, rnn_args):
    for case in ("exit_in_call", "os_exit_in_call"):  # (segfault needs ctypes, masked here)
        with kit_box(case) as box:
            with pytest.raises(CallFailed) as raised:
                box.call("forward", *rnn_args)
            assert raised.value.failure.kind is FailureKind.exited
            assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}
    with kit_box("stdout_flood", Limits(call_seconds=20.0, output_bytes=10_000, wall_factor=CPU_ONLY)) as box:
        assert box.call("forward", *rnn_args).value == 1.0
        assert box.output().truncated and "flood" in box.output().stdout


def test_the_import_rule_holds_in_the_kit_too(windows_like):
    with kit_box("import_not_allowed") as box:
        assert "rnn.py, line 4 imports yaml" in box.load_failure.message


def test_a_large_request_does_not_block_on_a_worker_that_stops_reading(windows_like):
    with kit_box("stop_reading", Limits(call_seconds=0.5, import_seconds=20.0, wall_factor=2.0)) as box:  # 1 s
        with pytest.raises(CallFailed) as raised:
            box.call("forward", "x" * (8 << 20), 0, 0, 0)  # far more than a pipe holds
        assert raised.value.failure.kind is FailureKind.timeout  # it waits: its own doing, not a neighbour's


def test_the_masked_worker_really_lacks_resource(windows_like):
    with kit_box("read_installed") as box:
        assert box.call("import_names", ["resource", "ctypes", "json"]).value == ["json"]
