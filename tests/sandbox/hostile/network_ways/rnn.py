"""Every way to the network a submission might try; each function reports what happened, never raises."""
import ctypes
import os
import socket
import subprocess
import sys

X32_SYSCALL_BIT = 0x40000000
X86_64_SOCKET = 41
IO_URING_SETUP = 425  # the same number on x86_64 and aarch64


def outcome(attempt):
    try:
        attempt()
    except OSError as exc:
        return type(exc).__name__
    return "ok"


def connect_tcp(port):
    def attempt():
        with socket.create_connection(("127.0.0.1", port), timeout=5.0) as s:
            s.sendall(b"stolen over tcp")
    return outcome(attempt)


def send_udp(port):
    def attempt():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"stolen over udp", ("127.0.0.1", port))
    return outcome(attempt)


def open_families():
    """socket() of each non-Unix family: IPv4, IPv6, raw packets, netlink (the kernel's routing tables)."""
    families = {"AF_INET": (socket.AF_INET, socket.SOCK_STREAM), "AF_INET6": (socket.AF_INET6, socket.SOCK_DGRAM),
                "AF_PACKET": (socket.AF_PACKET, socket.SOCK_RAW), "AF_NETLINK": (socket.AF_NETLINK, socket.SOCK_RAW)}
    return {name: outcome(lambda: socket.socket(*args).close()) for name, args in families.items()}


def raw_syscall(number, *args):
    """A system call by number, as a submission would make one to get around Python's socket module."""
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args))
    return "ok" if result >= 0 else os.strerror(ctypes.get_errno())


def x32_socket():
    """socket(AF_INET, SOCK_STREAM) through the x32 table of an x86_64 kernel."""
    return raw_syscall(X32_SYSCALL_BIT | X86_64_SOCKET, socket.AF_INET, socket.SOCK_STREAM, 0)


def io_uring():
    """io_uring_setup(8, NULL): NULL params make it fail with EFAULT once the call is allowed at all."""
    return raw_syscall(IO_URING_SETUP, 8, 0)


def child_connects(port):
    """A fresh interpreter started by the submission tries the same connection."""
    code = ("import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=5.0).sendall(b'stolen by a child')\n"
            "    print('ok')\n"
            "except OSError as exc:\n"
            "    print(type(exc).__name__)\n")
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or done.stderr[-300:]


def seccomp_mode():
    """The Seccomp line of /proc/self/status: 0 none, 2 a filter."""
    with open("/proc/self/status") as status:
        return next(line.split()[1] for line in status if line.startswith("Seccomp:"))
