"""What the sandbox worker may not ask the kernel for: a seccomp filter it installs on itself before any
student code runs. One filter, one program builder (`program`), for everything below.

The network. Without a network namespace (the unprivileged-user and plain-process tiers) the only way to take
the network away from an unprivileged process is to forbid the system calls that reach it:

- socket() and socketpair() of every address family but AF_UNIX: no TCP, UDP, raw, packet or netlink
  sockets. AF_UNIX stays, because multiprocessing and concurrent.futures talk over Unix-domain socket pairs
  and listeners (the forkserver, managers);
- io_uring_setup, io_uring_enter and io_uring_register: io_uring opens and connects sockets without socket();
- pidfd_getfd, ptrace and process_vm_writev: ways to borrow an open socket from another process or make one
  act for the submission.

The kernel keyring. add_key, request_key and keyctl: a uid's user keyring is kernel state that outlives every
process of the uid, and the worker uids are reused from one sandbox to the next (and as root without a user
namespace nothing separates them), so a key one sandbox stored (the hidden checks' inputs) would be there for
the next submission to read. No submission needs a keyring.

System V IPC and POSIX message queues. shmget, semget, msgget, mq_open and the calls that use what they make:
a System V segment or queue, or a message queue, outlives its processes too, and outside bubblewrap (whose IPC
namespace is the sandbox's own) the next sandbox of the same uid could open it. multiprocessing and
shared_memory use POSIX semaphores and shared memory, which are files in /dev/shm, not these.

Every system call made through another ABI than the interpreter's own is denied too: the numbers below are
those of one table (an x86_64 process can still enter the i386 table, whose socketcall() multiplexes the socket
calls, or the x32 one, whose numbers carry bit 30).

EPERM and not a kill, so a submission that tries gets a PermissionError it can read. The filter is inherited
by every child and cannot be removed; PR_SET_NO_NEW_PRIVS, which an unprivileged process needs to install it,
also keeps a setuid program from regaining what the filter takes. It covers every thread of the process
(SECCOMP_FILTER_FLAG_TSYNC), whatever numpy has started.

What it leaves: Unix-domain sockets reach the host's Unix-domain services that file permissions (or, for
abstract addresses, nothing) allow; only a network namespace (bubblewrap) removes those.

The sandbox copies this file beside worker.py, which loads it by path: standard library only, and no import
of the grader. The grader imports it too, for `unavailable()`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import functools
import os
import signal
import socket
import struct
import subprocess
import sys
from types import MappingProxyType

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1

SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
DENY = SECCOMP_RET_ERRNO | errno.EPERM
KEYCTL_GET_KEYRING_ID = 0
KEY_SPEC_USER_KEYRING = -4

# struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }, little-endian on both
# ABIs below: the low half of args[0] (socket()'s int domain) is at offset 16.
NR_OFFSET = 0
ARCH_OFFSET = 4
FIRST_ARGUMENT_OFFSET = 16

# Classic BPF, the three instructions the filter uses.
LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS: A = seccomp_data[k]
JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JUMP_IF_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
RETURN = 0x06  # BPF_RET | BPF_K


@dataclasses.dataclass(frozen=True)
class Abi:
    """The system-call numbers the filter needs, for one architecture's table."""

    audit_arch: int
    seccomp: int
    socket: int
    socketpair: int
    denied: MappingProxyType  # name -> number: denied whatever their arguments
    foreign_from: int | None = None  # numbers from here on belong to another ABI on the same architecture


# System V shared memory, semaphores and message queues, and POSIX message queues.
IPC_CALLS = ("shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop", "msgget", "msgsnd",
             "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
             "mq_getsetattr")


def _numbered(names: tuple[str, ...], numbers: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(names, numbers, strict=True))


ABIS = MappingProxyType({
    "x86_64": Abi(audit_arch=0xC000003E, seccomp=317, socket=41, socketpair=53,
                  denied=MappingProxyType({"io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                                           "pidfd_getfd": 438, "ptrace": 101, "process_vm_writev": 311,
                                           "add_key": 248, "request_key": 249, "keyctl": 250,
                                           **_numbered(IPC_CALLS, (29, 30, 31, 67, 64, 65, 66, 220, 68, 69, 70, 71,
                                                                   240, 241, 242, 243, 244, 245))}),
                  foreign_from=0x40000000),  # __X32_SYSCALL_BIT
    "aarch64": Abi(audit_arch=0xC00000B7, seccomp=277, socket=198, socketpair=199,
                   denied=MappingProxyType({"io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                                            "pidfd_getfd": 438, "ptrace": 117, "process_vm_writev": 271,
                                            "add_key": 217, "request_key": 218, "keyctl": 219,
                                            **_numbered(IPC_CALLS, (194, 196, 195, 197, 190, 193, 191, 192, 186, 189,
                                                                    188, 187, 180, 181, 182, 183, 184, 185))})),
})


class SyscallFilterError(OSError):
    """The filter could not be installed here; the message says why."""


def this_abi() -> Abi:
    """The table this interpreter's system calls go through; SyscallFilterError if the filter has none."""
    if not sys.platform.startswith("linux"):
        raise SyscallFilterError(f"seccomp exists only on Linux, not on {sys.platform}")
    machine = os.uname().machine
    if machine not in ABIS or struct.calcsize("P") != 8:
        raise SyscallFilterError(f"no seccomp filter is written for {machine} with a "
                                 f"{8 * struct.calcsize('P')}-bit Python (only for 64-bit {' and '.join(ABIS)})")
    return ABIS[machine]


# One instruction (code, k, the label to jump to if true, if false; None: the next one), or a label.
Line = tuple[int, int, str | None, str | None] | str


def program(abi: Abi) -> list[tuple[int, int, int, int]]:
    """The filter as BPF instructions (code, jump if true, jump if false, k)."""
    lines: list[Line] = [
        (LOAD_WORD, ARCH_OFFSET, None, None),
        (JUMP_IF_EQUAL, abi.audit_arch, None, "deny"),
        (LOAD_WORD, NR_OFFSET, None, None),
    ]
    if abi.foreign_from is not None:
        lines.append((JUMP_IF_AT_LEAST, abi.foreign_from, "deny", None))
    lines += [(JUMP_IF_EQUAL, number, "deny", None) for number in abi.denied.values()]
    lines += [
        (JUMP_IF_EQUAL, abi.socket, "family", None),
        (JUMP_IF_EQUAL, abi.socketpair, "family", None),
        (RETURN, SECCOMP_RET_ALLOW, None, None),
        "family",
        (LOAD_WORD, FIRST_ARGUMENT_OFFSET, None, None),
        (JUMP_IF_EQUAL, int(socket.AF_UNIX), "allow", "deny"),
        "allow",
        (RETURN, SECCOMP_RET_ALLOW, None, None),
        "deny",
        (RETURN, DENY, None, None),
    ]
    return _resolve_labels(lines)


def _resolve_labels(lines: list[Line]) -> list[tuple[int, int, int, int]]:
    """Turn jump targets given as labels (None: the next instruction) into BPF's relative offsets."""
    labels: dict[str, int] = {}
    instructions: list[tuple[int, int, str | None, str | None]] = []
    for line in lines:
        if isinstance(line, str):
            labels[line] = len(instructions)
        else:
            instructions.append(line)

    def offset(target, index):
        return 0 if target is None else labels[target] - index - 1

    return [(code, offset(if_true, i), offset(if_false, i), k)
            for i, (code, k, if_true, if_false) in enumerate(instructions)]


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def install() -> None:
    """Deny this process and all it will start what the module's docstring lists, then check that a TCP socket
    and the user keyring are refused. Raises SyscallFilterError if either fails."""
    abi = this_abi()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                  ctypes.c_ulong(0)) != 0:
        raise _last_error("prctl(PR_SET_NO_NEW_PRIVS)")
    instructions = program(abi)
    filters = (SockFilter * len(instructions))(*(SockFilter(*i) for i in instructions))
    fprog = SockFprog(len(instructions), filters)
    if libc.syscall(ctypes.c_long(abi.seccomp), ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                    ctypes.c_long(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog)) != 0:
        raise _last_error("seccomp(SECCOMP_SET_MODE_FILTER)")
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        pass
    else:
        raise SyscallFilterError("the seccomp filter was installed but a TCP socket could still be opened")
    keyring = libc.syscall(ctypes.c_long(abi.denied["keyctl"]), ctypes.c_long(KEYCTL_GET_KEYRING_ID),
                           ctypes.c_long(KEY_SPEC_USER_KEYRING), ctypes.c_long(0))
    if keyring != -1 or ctypes.get_errno() != errno.EPERM:
        raise SyscallFilterError("the seccomp filter was installed but the user keyring could still be reached")


def _last_error(call: str) -> SyscallFilterError:
    number = ctypes.get_errno()
    return SyscallFilterError(number, f"{call} failed: {os.strerror(number) if number else 'unknown error'}")


# Signals that end a process from outside (the OOM killer, a shutdown, Ctrl-C): they say nothing about seccomp
# here, unlike a crash the probe causes itself (SIGSEGV, SIGSYS), which it would cause every time.
_STOPPED_FROM_OUTSIDE = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


class ProbeNotRun(Exception):
    """The probe did not get to try the filter (it could not start, timed out or was killed): no verdict on this
    machine. Raised, not remembered, so the next sandbox probes again; never read as "no filter here", which
    would start a bubblewrap worker without the filter its tier promises."""


@functools.cache
def unavailable() -> str | None:
    """Why the filter cannot be installed on this machine (None if it can), found by installing it in a
    child process, since a filter cannot be removed. Once per grader process; ProbeNotRun when the probe
    gave no verdict."""
    try:
        this_abi()
    except SyscallFilterError as exc:
        return str(exc)
    try:
        done = subprocess.run([os.path.realpath(sys.executable), "-S", "-P", "-B", __file__],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProbeNotRun(f"the seccomp probe could not run: {exc}") from None
    if -done.returncode in _STOPPED_FROM_OUTSIDE:
        raise ProbeNotRun(f"the seccomp probe was stopped by signal {-done.returncode}")
    if done.returncode != 0:
        last = (done.stdout + done.stderr).strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return last[0][:300]
    return None


if __name__ == "__main__":  # the probe: exit status 0 if the filter installs and works here
    try:
        install()
    except SyscallFilterError as exc:
        print(exc)
        sys.exit(1)
