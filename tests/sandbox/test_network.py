"""No network in the sandbox: the seccomp filter the worker installs on itself (syscall_filter.py), in every tier
that runs here, and the Unix-domain sockets and packages a submission may still use.

The student kit's portable tier has the network (the code is the student's own, on their own machine): its
results are recorded here so that a change is seen.
"""

import os
import shutil
import socket
import struct
import subprocess

import pytest

from grader.sandbox import Policy, Sandbox, SandboxUnavailable, syscall_filter
from grader.sandbox import sandbox as sandbox_module
from grader.sandbox.scratch import new_sandbox_root
from grader.sandbox.tiers import unprivileged

from .conftest import FAST, FUNCTIONS, HOSTILE, PACKAGES, TIERS_HERE

FILTER = syscall_filter.unavailable() is None
needs_filter = pytest.mark.skipif(not FILTER, reason=f"seccomp does not work here: {syscall_filter.unavailable()}")


def filtered(tier: str) -> bool:
    """Whether the worker of `tier` runs under the filter here (every tier but the kit's, where seccomp works)."""
    return FILTER and tier != "portable"


@pytest.fixture
def tcp_listener():
    """(port, arrived): a listener on 127.0.0.1, and what connected to it so far. A connection completes in the
    kernel's backlog before connect() returns, so once the call that made it is over it is there to accept:
    nothing waits for one that never comes."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)

        def arrived() -> list[bytes]:
            try:
                connection, _ = listener.accept()
            except BlockingIOError:
                return []
            with connection:
                connection.settimeout(1.0)
                try:
                    return [connection.recv(100)]
                except OSError:
                    return [b""]

        yield listener.getsockname()[1], arrived


def test_a_tcp_connection_to_the_host_is_refused_with_a_permission_error(open_box, tier, tcp_listener):
    port, arrived = tcp_listener
    result = open_box("network_ways").call("connect_tcp", port).value
    if filtered(tier):
        assert result == "PermissionError"
    elif tier == "bubblewrap":
        assert result != "ok"  # its own network namespace: nothing listens on its loopback
    else:
        assert result == "ok"  # recorded: the kit has the network
        return
    assert arrived() == []


def test_a_udp_datagram_to_the_host_never_arrives(open_box, tier):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        result = open_box("network_ways").call("send_udp", receiver.getsockname()[1]).value
        receiver.settimeout(1.0)  # a datagram sent on loopback is queued before the call returns
        try:
            arrived = receiver.recv(100)
        except TimeoutError:
            arrived = None
    if tier == "portable":
        assert result == "ok" and arrived == b"stolen over udp"  # recorded: the kit has the network
    else:
        assert result == ("PermissionError" if filtered(tier) else "ok") and arrived is None


def test_a_child_process_inherits_the_filter(open_box, tier, tcp_listener):
    if not filtered(tier):
        pytest.skip(f"no filter in tier {tier} here")
    port, arrived = tcp_listener
    assert open_box("network_ways").call("child_connects", port).value == "PermissionError"
    assert arrived() == []


def test_every_address_family_but_unix_is_denied(open_box, tier):
    if not filtered(tier):
        pytest.skip(f"no filter in tier {tier} here")
    families = open_box("network_ways").call("open_families").value
    assert families == dict.fromkeys(("AF_INET", "AF_INET6", "AF_PACKET", "AF_NETLINK"), "PermissionError")


def test_system_calls_that_get_around_socket_are_denied(open_box, tier):
    if not filtered(tier):
        pytest.skip(f"no filter in tier {tier} here")
    box = open_box("network_ways")
    assert box.call("io_uring").value == os.strerror(1)  # EPERM; allowed, it would fail with EFAULT
    if os.uname().machine == "x86_64":
        assert box.call("x32_socket").value == os.strerror(1)


def test_the_filter_is_on_exactly_where_the_tier_says_so(open_box, tier):
    box = open_box("network_ways")
    assert box.call("seccomp_mode").value == ("2" if filtered(tier) else "0")
    if tier in ("plain-process", "unprivileged-user", "bubblewrap"):
        assert ("seccomp filter" in box.tier_description) is FILTER
    if tier == "plain-process" and not FILTER:
        assert "it could use the network" in box.tier_description
    if tier == "unprivileged-user":
        assert "no network" in box.tier_description


def test_the_allowed_packages_unix_domain_sockets_and_multiprocessing_still_work(open_box):
    # One box for both (its rnn.py imports the allowed packages, most of a start's cost): the packages first,
    # on a fresh worker, then the sockets and a pool, whose children fork from a worker that has drawn a figure.
    box = open_box("unix_sockets")
    assert box.load_failure is None
    assert box.call("allowed_packages").value == [True, 6.0, 0.5, pytest.approx(8.0)]
    assert box.call("socketpair_round_trip").value == "ping"
    assert box.call("duplex_pipe_round_trip").value == [1, 2, 3]
    assert box.call("pool_map").value == [1, 4, 9, 16]
    assert box.call("listener_round_trip").value == "hello over AF_UNIX"


@needs_filter
@pytest.mark.parametrize("tier", [t for t in TIERS_HERE if t != "portable"])
def test_a_worker_that_cannot_install_the_filter_refuses_to_run_the_submission(tier, monkeypatch):
    """As on a kernel without seccomp: the worker's copy of syscall_filter.py fails, the sandbox reports a setup
    error and the submission (which would exit at import) never runs."""
    copy = shutil.copyfile

    def broken_filter(source, destination, **kwargs):
        done = copy(source, destination, **kwargs)
        if os.path.basename(destination) == "syscall_filter.py":
            with open(destination, "a") as f:
                f.write("\n\ndef install():\n    raise SyscallFilterError('seccomp is not supported here')\n")
        return done

    monkeypatch.setattr(shutil, "copyfile", broken_filter)
    box = Sandbox(HOSTILE / "exit_at_import", FAST, tier=tier,
                  policy=Policy.allow_weak, functions=FUNCTIONS, packages=PACKAGES)
    try:
        with pytest.raises(SandboxUnavailable, match="seccomp is not supported here"):
            _ = box.load_failure
    finally:
        box.close()
    assert box.leftover_processes() == []


def test_an_unknown_architecture_gets_no_filter_and_a_reason(monkeypatch):
    uname = os.uname()
    fake = type(uname)((uname.sysname, uname.nodename, uname.release, uname.version, "sparc64"))
    monkeypatch.setattr(syscall_filter.os, "uname", lambda: fake)
    with pytest.raises(syscall_filter.SyscallFilterError, match="no seccomp filter is written for sparc64"):
        syscall_filter.install()  # refuses before anything is installed in this process
    assert "sparc64" in syscall_filter.unavailable.__wrapped__()


@pytest.mark.parametrize("outcome", [subprocess.TimeoutExpired("python", 60), OSError(24, "Too many open files"),
                                     subprocess.CompletedProcess([], -9, "", "")], ids=["timeout", "no-process", "killed"])
def test_a_filter_probe_that_gave_no_verdict_is_not_read_as_no_filter(outcome, monkeypatch):
    """A probe that could not try the filter (the machine busy, out of processes, the probe killed) says nothing
    about seccomp here: ProbeNotRun, which the cache does not keep, so the next sandbox probes again."""
    def run(*args, **kwargs):
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(syscall_filter.subprocess, "run", run)
    with pytest.raises(syscall_filter.ProbeNotRun):
        syscall_filter.unavailable.__wrapped__()


def test_a_filter_probe_that_crashes_by_itself_is_a_verdict(monkeypatch):
    """A probe that dies of its own signal (SIGSEGV, SIGSYS: installing the filter broke it) would die so every
    time: that is a verdict, "no filter here", not a probe to run again for every sandbox."""
    monkeypatch.setattr(syscall_filter.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess([], -11, "", ""))
    assert syscall_filter.unavailable.__wrapped__() == "exit status -11"


@pytest.mark.parametrize("tier", [t for t in TIERS_HERE if t != "portable"])
def test_without_a_verdict_on_the_filter_no_worker_starts_and_nothing_is_left(tier, monkeypatch, no_kept_passes):
    """Fail closed: rather than a worker without the filter its tier describes (bubblewrap's second line, the
    uid tier's only network barrier), the sandbox is unavailable, and the folder it made is gone."""
    def no_verdict():
        raise syscall_filter.ProbeNotRun("the seccomp probe could not run: [Errno 11] Resource temporarily unavailable")

    made = []

    def recorded(*args, **kwargs):
        made.append(new_sandbox_root(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(syscall_filter, "unavailable", no_verdict)
    monkeypatch.setattr(sandbox_module, "new_sandbox_root", recorded)
    with pytest.raises(SandboxUnavailable, match="the seccomp probe could not run.*no submission was run"):
        Sandbox(HOSTILE / "exit_at_import", FAST, tier=tier, policy=Policy.allow_weak, functions=FUNCTIONS,
                packages=PACKAGES)
    assert len(made) == 1 and not made[0].path.exists()


@pytest.fixture
def no_seccomp(monkeypatch, no_kept_passes):
    """The grader as on a machine where the filter does not work; the uid tier's probe forgets it after."""
    reason = "no seccomp filter is written for sparc64 with a 64-bit Python"
    monkeypatch.setattr(syscall_filter, "unavailable", lambda: reason)
    unprivileged._reason.cache_clear()
    yield reason
    unprivileged._reason.cache_clear()


def test_without_seccomp_the_uid_tier_is_not_used_and_the_weak_tier_says_it_has_the_network(no_seccomp):
    reason = no_seccomp
    found = unprivileged._reason((), None)
    if os.geteuid() == 0:
        assert "only a seccomp filter takes the network away" in found and reason in found
    with Sandbox(HOSTILE / "network_ways", FAST, tier="plain-process", policy=Policy.allow_weak,
                 functions=FUNCTIONS, packages=PACKAGES) as box:
        assert f"it could use the network (no seccomp filter: {reason})" in box.tier_description
        assert box.call("seccomp_mode").value == "0"  # the weak tier does not ask for what does not work


def decide(instructions, abi_arch, number, first_argument=0):
    """What the filter returns for one system call: a classic-BPF interpreter for its three instructions,
    run on a struct seccomp_data, so that the program of every ABI is checked on any machine."""
    data = struct.pack("<IIQ6Q", number, abi_arch, 0, first_argument, 0, 0, 0, 0, 0)
    accumulator, pc = 0, 0
    while True:
        code, if_true, if_false, k = instructions[pc]
        if code == syscall_filter.RETURN:
            return k
        if code == syscall_filter.LOAD_WORD:
            accumulator, pc = struct.unpack_from("<I", data, k)[0], pc + 1
            continue
        assert code in (syscall_filter.JUMP_IF_EQUAL, syscall_filter.JUMP_IF_AT_LEAST)
        taken = accumulator == k if code == syscall_filter.JUMP_IF_EQUAL else accumulator >= k
        pc += 1 + (if_true if taken else if_false)


AUDIT_ARCH_I386 = 0x40000003
I386_SOCKETCALL = 102


@pytest.mark.parametrize("machine", sorted(syscall_filter.ABIS))
def test_the_filter_program_of_each_abi_denies_what_it_says_and_lets_the_rest_through(machine):
    abi = syscall_filter.ABIS[machine]
    program = syscall_filter.program(abi)
    allow, deny = syscall_filter.SECCOMP_RET_ALLOW, syscall_filter.DENY
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET, socket.AF_NETLINK, (1 << 32) | socket.AF_INET):
        assert decide(program, abi.audit_arch, abi.socket, family) == deny
        assert decide(program, abi.audit_arch, abi.socketpair, family) == deny
    for unix in (socket.AF_UNIX, (5 << 32) | socket.AF_UNIX):  # the kernel reads an int: the low half
        assert decide(program, abi.audit_arch, abi.socket, unix) == allow
        assert decide(program, abi.audit_arch, abi.socketpair, unix) == allow
    for number in abi.denied.values():
        assert decide(program, abi.audit_arch, number) == deny
    others = set(range(500)) - {abi.socket, abi.socketpair, *abi.denied.values()}
    assert all(decide(program, abi.audit_arch, number, socket.AF_INET) == allow for number in others)
    assert decide(program, AUDIT_ARCH_I386, I386_SOCKETCALL) == deny  # another ABI's table: nothing passes
    if abi.foreign_from is not None:
        assert decide(program, abi.audit_arch, abi.foreign_from | abi.socket, socket.AF_INET) == deny
