"""Hostile submissions: each would look perfect, or hurt the grader, if a defence failed."""

import os
import time

import numpy as np
import pytest

from grader.sandbox import CallFailed, Defined, FailureKind, Limits

from .conftest import CPU_ONLY, HOSTILE, IN_ONE_TIER, SECRET_NAME, SECRET_VALUE

REPO = HOSTILE.parents[2]
ISOLATED = ("bubblewrap", "unprivileged-user")


def failure_of(box, function, *args, **kwargs):
    with pytest.raises(CallFailed) as raised:
        box.call(function, *args, **kwargs)
    return raised.value.failure


@IN_ONE_TIER
def test_always_equal_object_is_malformed(open_box, rnn_args):
    failure = failure_of(open_box("always_equal"), "forward", *rnn_args)
    assert failure.kind is FailureKind.malformed
    assert "returned an object of type" in failure.message and "AlwaysEqual" in failure.message


@IN_ONE_TIER
def test_ndarray_subclass_arrives_as_plain_array_of_its_real_bytes(open_box, rnn_args):
    value = open_box("ndarray_subclass").call("forward", *rnn_args).value
    assert all(type(v) is np.ndarray for v in value)
    assert not np.array_equal(value[0], np.ones((4, 5)))
    assert np.array_equal(value[0], np.zeros((4, 5)))


@IN_ONE_TIER
def test_object_array_via_array_protocol_is_malformed(open_box, rnn_args):
    failure = failure_of(open_box("array_protocol_object"), "forward", *rnn_args)
    assert failure.kind is FailureKind.malformed and "dtype object" in failure.message


@IN_ONE_TIER
def test_patching_numpy_does_not_reach_the_grader(open_box, rnn_args):
    value = open_box("patch_numpy").call("forward", *rnn_args).value
    assert not np.allclose(value, np.zeros((4, 5)))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(value, np.zeros((4, 5)))


@pytest.mark.parametrize("case", ["exit_at_import", "os_exit_at_import"])
def test_exit_at_import(open_box, case):
    box = open_box(case)
    assert box.load_failure.kind is FailureKind.exited
    assert "sys.exit()" in box.load_failure.message


@pytest.mark.parametrize("case", ["exit_in_call", "os_exit_in_call"])
def test_exit_in_call_then_next_call_runs(open_box, case, rnn_args):
    box = open_box(case)
    failure = failure_of(box, "forward", *rnn_args, describe="K=4")
    assert failure.kind is FailureKind.exited and "during forward (K=4)" in failure.message
    assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}


def test_a_submission_that_shuts_its_own_folder_fails_its_own_later_calls_not_the_grader(open_box, rnn_args):
    """Its call ends the worker after making the sandbox's folder unenterable; the next worker, where it runs as a
    user the mode keeps out, cannot start: the submission's failure for that call (not the grader's, which would
    leave it without a grade), while a worker running as root starts all the same."""
    box = open_box("lock_own_folder")
    assert failure_of(box, "forward", *rnn_args).kind is FailureKind.exited
    try:
        value = box.call("init_params", 1, 1, 0.1, None).value
    except CallFailed as failed:
        assert failed.failure.kind is FailureKind.exited
        assert "could not start again after the submission's code ran in it" in failed.failure.message
    else:
        assert value == {"ok": 1}


def test_killing_the_parent_does_not_reach_the_grader(open_box, tier, rnn_args):
    if tier not in ISOLATED:
        pytest.skip("a plain process can kill the grader; that is what this tier says")
    box = open_box("kill_parent")
    # The parent is bwrap's root-owned init or nobody the worker uid may signal.
    failure = failure_of(box, "forward", *rnn_args)
    assert failure.kind is FailureKind.exception and "PermissionError" in failure.message


def test_killing_its_process_group_kills_only_itself(open_box, rnn_args):
    box = open_box("kill_group")
    failure = failure_of(box, "forward", *rnn_args)
    # Under bwrap the worker's group is outside its PID namespace: ProcessLookupError.
    assert failure.kind in (FailureKind.signal, FailureKind.exception)
    assert "SIGKILL" in failure.message or "ProcessLookupError" in failure.message
    assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}


def test_infinite_loop_at_import(open_box):
    box = open_box("loop_at_import", Limits(import_seconds=0.2, total_seconds=10.0, wall_factor=CPU_ONLY))
    assert box.load_failure.kind is FailureKind.timeout
    assert "importing rnn.py did not finish within 0.2 s" in box.load_failure.message


@pytest.mark.parametrize("case", ["loop_in_call", "ignore_sigterm"])
def test_infinite_loop_in_call_then_restart(open_box, case, rnn_args):
    box = open_box(case, Limits(call_seconds=0.2, total_seconds=20.0, wall_factor=CPU_ONLY))
    failure = failure_of(box, "forward", *rnn_args, describe="K=4, m=3, tau=5")
    assert failure.kind is FailureKind.timeout
    assert failure.message == "forward (K=4, m=3, tau=5) did not finish within 0.2 s and was stopped."
    if case == "loop_in_call":
        assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}


def test_memory_bomb(open_box, rnn_args):
    box = open_box("memory_bomb", Limits(call_seconds=10.0, memory_bytes=1024**3, wall_factor=CPU_ONLY))
    failure = failure_of(box, "forward", *rnn_args)
    assert failure.kind is FailureKind.memory and "1024 MiB" in failure.message
    assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}


def test_fork_bomb_is_bounded(open_box, tier, rnn_args):
    box = open_box("fork_bomb", Limits(call_seconds=10.0, processes=16, wall_factor=CPU_ONLY))
    started = box.call("forward", *rnn_args).value
    if tier in ISOLATED:
        assert started < 16
    assert box.leftover_processes()  # the sleeping children exist until close


def test_double_forked_daemon_dies_with_the_sandbox(open_box, tier, tmp_path):
    os.chmod(tmp_path, 0o777)
    target = tmp_path / "late.txt"
    box = open_box("daemon_double_fork")
    assert box.call("forward", str(target), 1.0).value is True
    assert box.leftover_processes(), "the daemon should be alive before close"
    box.close()
    assert box.leftover_processes() == []
    time.sleep(1.5)
    assert not target.exists()


def test_stdout_flood_is_capped(open_box, rnn_args):
    box = open_box("stdout_flood", Limits(call_seconds=20.0, output_bytes=10_000, wall_factor=CPU_ONLY))
    assert box.call("forward", *rnn_args).value == 1.0
    output = box.output()
    assert output.truncated and len(output.stdout) < 10_200 and len(output.stderr) < 10_200
    assert "[output truncated:" in output.stdout and output.stdout.startswith("flood flood")


def test_disk_filling_hits_the_file_size_limit(open_box, rnn_args):
    box = open_box("disk_fill", Limits(call_seconds=10.0, file_bytes=4 * 1024**2, wall_factor=CPU_ONLY))
    failure = failure_of(box, "forward", *rnn_args)
    assert failure.kind is FailureKind.exception and "File too large" in failure.message
    assert (box.scratch_dir / "filler.bin").stat().st_size <= 4 * 1024**2


def test_environment_holds_no_grader_secret(open_box, rnn_args):
    assert os.environ[SECRET_NAME] == SECRET_VALUE
    env = open_box("read_environment").call("forward", *rnn_args).value
    assert SECRET_NAME not in env and SECRET_VALUE not in str(env)
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["PYTHONHASHSEED"] == "0"


def test_reference_is_out_of_reach(open_box, tier):
    found = open_box("read_reference").call("forward", str(REPO / "reference" / "rnn.py")).value
    assert found["import_error"] == "ModuleNotFoundError"
    assert found["grader_error"] == "ModuleNotFoundError"
    if tier == "bubblewrap":
        assert found == {"read_error": "FileNotFoundError", "import_error": "ModuleNotFoundError",
                         "grader_error": "ModuleNotFoundError"}


def test_forged_results_json_stays_in_scratch(open_box, tier, tmp_path):
    out = tmp_path / "out"
    out.mkdir(mode=0o777)
    os.chmod(out, 0o777)
    box = open_box("forge_results")
    written = box.call("forward", str(out)).value
    assert "results.json" in written and (box.scratch_dir / "results.json").exists()
    if tier in ISOLATED:
        # bwrap hides the folder; a uid of its own may still write a world-writable one.
        assert not (out / "results.json").exists() or tier == "unprivileged-user"
    assert not (REPO / "results.json").exists()


def test_pickle_into_inherited_fds_is_never_unpickled(open_box, tmp_path):
    canary = tmp_path / "unpickled"
    box = open_box("pickle_into_fds")
    failure = failure_of(box, "forward", str(canary))
    assert failure.kind is FailureKind.malformed and "not a sandbox frame" in failure.message
    assert not canary.exists()
    fds = box.call("open_fds").value
    assert fds[:3] == [0, 1, 2] and len(fds) <= 6  # 0-2, two channel fds, the listing itself


def test_forged_frame_is_malformed(open_box):
    box = open_box("forge_frame")
    failure = failure_of(box, "forward", 1)
    assert failure.kind is FailureKind.malformed
    # Which check fires depends on whether the real reply was already in the pipe.
    assert "different call" in failure.message or "extra bytes" in failure.message


@IN_ONE_TIER
def test_symlink_out_of_the_submission_is_refused(open_box, tmp_path):
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "rnn.py").write_text((HOSTILE / "symlink_out" / "rnn.py").read_text())
    (submission / "secret_link").symlink_to("/etc/shadow")
    box = open_box(submission)
    assert box.load_failure.kind is FailureKind.refused
    assert "secret_link is a symbolic link" in box.load_failure.message
    link = tmp_path / "link"
    link.symlink_to(submission)
    assert open_box(link).load_failure.kind is FailureKind.refused


def test_segfault_names_the_signal(open_box, rnn_args):
    box = open_box("segfault")
    failure = failure_of(box, "forward", *rnn_args)
    assert failure.kind is FailureKind.signal and "SIGSEGV" in failure.message
    assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}


@pytest.mark.long
def test_deep_recursion(open_box, rnn_args):
    box = open_box("deep_recursion", Limits(call_seconds=10.0, wall_factor=CPU_ONLY))
    failure = failure_of(box, "forward", *rnn_args)
    assert failure.kind in (FailureKind.signal, FailureKind.memory)
    failure = failure_of(box, "compute_gradients", *rnn_args)
    assert failure.kind is FailureKind.exception and "RecursionError" in failure.message
    assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}


def test_exception_whose_str_hangs_or_raises(open_box, rnn_args):
    box = open_box("hanging_str", Limits(call_seconds=0.2, total_seconds=10.0, wall_factor=CPU_ONLY))
    assert failure_of(box, "forward", *rnn_args).kind is FailureKind.timeout
    failure = failure_of(box, "compute_gradients", *rnn_args)
    assert failure.kind is FailureKind.exception
    assert "Breaks: (the error message could not be turned into text)" in failure.message
    assert 'File "rnn.py", line 17, in compute_gradients' in failure.detail
    assert "worker.py" not in failure.detail


def test_html_output_is_kept_verbatim(open_box, rnn_args):
    box = open_box("html_output")
    box.call("forward", *rnn_args)
    assert box.output().stdout == (
        "<script>alert('pwned')</script><b>all tests passed</b>\n<img src=x onerror=alert(1)>\n")


@IN_ONE_TIER
def test_syntax_error(open_box):
    failure = open_box("syntax_error").load_failure
    assert failure.kind is FailureKind.import_error and "syntax error" in failure.message
    assert 'File "rnn.py", line 1' in failure.detail and "worker.py" not in failure.detail


@IN_ONE_TIER
def test_import_error_traceback_is_trimmed(open_box):
    failure = open_box("import_error").load_failure
    assert failure.kind is FailureKind.import_error
    assert ("ModuleNotFoundError: rnn.py, line 1 imports torch, which the grader does not offer; "
            "a submission may import numpy, scipy, matplotlib, pandas, tqdm and Python's standard library"
            in failure.message)
    assert 'File "rnn.py", line 1, in <module>' in failure.detail
    assert "importlib" not in failure.detail and "worker.py" not in failure.detail


@IN_ONE_TIER
def test_missing_and_non_callable_functions(open_box):
    box = open_box("missing_function")
    assert box.functions == {
        "forward": Defined(True, ("params", "X", "Y", "h0")),
        "init_params": Defined(False, ()),
    }
    assert failure_of(box, "train").kind is FailureKind.missing_function
    assert "not a function" in failure_of(box, "init_params").message


@IN_ONE_TIER
def test_huge_reply_is_refused_in_the_worker(open_box, rnn_args):
    failure = failure_of(open_box("huge_reply"), "forward", *rnn_args)
    assert failure.kind is FailureKind.malformed and "bytes" in failure.message


@IN_ONE_TIER
@pytest.mark.parametrize("function, message", [
    ("object_array", "dtype object"),
    ("int_keys", "dict key of type int"),
    ("complex_array", "dtype complex128"),
    ("generator", "object of type generator where plain numbers/arrays were expected"),
    ("cyclic", "nested"),
])
def test_values_that_are_not_plain_data(open_box, function, message):
    failure = failure_of(open_box("bad_values"), function)
    assert failure.kind is FailureKind.malformed and message in failure.message
    assert failure.message.startswith(f"{function} returned ")


def test_cpu_limit(open_box, rnn_args):
    box = open_box("cpu_burn", Limits(call_seconds=10.0, cpu_seconds=1, wall_factor=CPU_ONLY))
    failure = failure_of(box, "forward", *rnn_args)
    assert failure.kind is FailureKind.timeout and "CPU time" in failure.message


def test_closing_the_channel(open_box, rnn_args):
    box = open_box("close_channel")
    assert failure_of(box, "forward", *rnn_args).kind in (FailureKind.exited, FailureKind.signal)
    assert box.call("init_params", 1, 1, 0.1, None).value == {"ok": 1}


@IN_ONE_TIER
def test_arguments_mutated_into_non_plain_data(open_box):
    box = open_box("mutate_args")
    params = {"b": np.zeros(2)}
    failure = failure_of(box, "adagrad_step", params, params, {"b": np.zeros(2)}, 0.1,
                         return_args=(0, 2))
    assert failure.kind is FailureKind.malformed and "argument 2" in failure.message


@pytest.mark.parametrize("where", ["folder", "tmp"])
def test_many_files_under_the_file_size_limit_stop_at_the_total_cap(open_box, tier, where, rnn_args):
    """24 files of 512 KiB (12 MiB) against 1 MiB per file and 4 MiB in all; the kit (the student's own
    machine) has no total cap."""
    box = open_box("many_files", Limits(call_seconds=10.0, file_bytes=1024**2, disk_bytes=4 * 1024**2))
    if tier == "portable":
        assert box.call("forward", 24, 512, where).value == 24 * 512
        return
    failure = failure_of(box, "forward", 24, 512, where)
    assert failure.kind is FailureKind.exception and "No space left on device" in failure.message
    assert "write 4 MiB in all" in failure.message
    written = sum(p.stat().st_size for p in box.scratch_dir.parent.rglob("part*.bin"))
    assert written <= 4 * 1024**2


@IN_ONE_TIER
def test_a_syntax_error_on_a_very_long_line_is_that_syntax_error_not_a_malformed_reply(open_box, tmp_path):
    """Nesting 100,000 deep is Python's syntax error, whose line was quoted whole, past the reply's field limit:
    the grader said the submission wrote to the sandbox's private channel."""
    line = "x = " + "(" * 100_000 + "1" + ")" * 100_000
    (tmp_path / "rnn.py").write_text(f"import numpy as np\n{line}\n")
    failure = open_box(tmp_path).load_failure
    assert failure.kind is FailureKind.import_error and "syntax error" in failure.message
    assert len(failure.message) < 2000
