"""Isolation tiers: which one this machine supports, how to start a worker in it, how
to kill everything the worker started.

Tiers, best first (the first available one is chosen, once, and the probe is cached):

bubblewrap
    The worker runs under `bwrap` with no network, its own PID/IPC/UTS namespaces, a
    private size-capped /tmp, read-only system directories, and nothing of the host's
    files but the Python installation, the worker's two files and the scratch copy of
    the submission. As root it also drops to a uid of its own (no groups, no
    capabilities). Killing: SIGKILL to bwrap takes down the PID namespace (and
    --die-with-parent does the same if the grader dies), which kills every process the
    submission started, daemons and setsid'd children included; the uid sweep below
    mops up as a second line.
unprivileged-user
    Root without a working bwrap: the worker runs as a uid of its own with no
    supplementary groups. It cannot signal the grader or write the grader's files, and
    RLIMIT_NPROC bounds fork bombs, but it can use the network and read world-readable
    files. Killing: every process of that uid is SIGKILLed until none is left, so
    double-forked daemons die too.
plain-process
    Not root and no bwrap: an ordinary child in a new session, with the rlimits that
    work. It can read and write whatever the grader can, use the network and signal the
    grader. Killing: the process group, the worker's descendants and every process
    still carrying this sandbox's environment marker; a daemon that double-forks and
    then execs with a fresh environment can escape.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import pwd
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy

TIERS = ("bubblewrap", "unprivileged-user", "plain-process")
TIER_ENV = "RNN_GRADER_SANDBOX_TIER"
UIDS_ENV = "RNN_GRADER_SANDBOX_UIDS"
DEFAULT_UIDS = range(200000, 201000)
MARKER_ENV = "RNN_GRADER_SANDBOX_ID"
INSIDE_WORKER = "/sandbox/worker"
INSIDE_SUBMISSION = "/sandbox/submission"
# Not -I: it implies -E, which would make Python ignore PYTHONHASHSEED=0. The whole
# environment is ours anyway (scrubbed_environment), -S drops site-packages and its
# .pth hooks, -P keeps the script's folder off sys.path.
PYTHON_FLAGS = ("-S", "-P", "-u", "-B")
PROBE_SECONDS = 20.0

_probe_lock = threading.Lock()
_probe_cache: dict[str, str | None] | None = None


def python_executable() -> str:
    return os.path.realpath(sys.executable)


def is_root() -> bool:
    return os.geteuid() == 0


def uid_range() -> range:
    """Uids for workers; RNN_GRADER_SANDBOX_UIDS="START-END" gives parallel graders their own."""
    text = os.environ.get(UIDS_ENV)
    if not text:
        return DEFAULT_UIDS
    start, _, end = text.partition("-")
    return range(int(start), int(end) + 1)


# --- uids --------------------------------------------------------------------------


class UidLease:
    """Exclusive use of one uid (and the gid of the same number) across processes.

    An flock on a per-uid file is held for the lease's lifetime, so graders running in
    parallel, in threads or processes, never share a uid, and the uid sweep of one
    cannot kill another's worker.
    """

    def __init__(self, uids: range):
        lock_dir = Path(tempfile.gettempdir()) / "rnn-grader-sandbox-uids"
        lock_dir.mkdir(mode=0o700, exist_ok=True)
        for uid in uids:
            if _uid_exists(uid):
                continue
            fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid = self.gid = uid
            self._fd = fd
            kill_uid(uid)  # leftovers of a grader that crashed while holding this uid
            return
        raise RuntimeError(f"no free sandbox uid in {uids.start}-{uids.stop - 1} ({UIDS_ENV})")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _uid_exists(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


# --- process sweeps ------------------------------------------------------------------


def _proc_entries():
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def _stat(pid: int):
    """(state, ppid, pgrp) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), int(fields[2])


def _real_uid(pid: int):
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker in f.read().split(b"\0")
    except OSError:
        return False


def _kill_until_gone(find, rounds: int = 200) -> bool:
    """SIGKILL what `find()` returns until it returns nothing. Zombies are ignored."""
    for _ in range(rounds):
        pids = [pid for pid in find() if (_stat(pid) or ("Z",))[0] not in ("Z", "X")]
        if not pids:
            return True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)
    return False


def processes_of_uid(uid: int) -> list[int]:
    return [pid for pid in _proc_entries() if _real_uid(pid) == uid]


def kill_uid(uid: int) -> bool:
    return _kill_until_gone(lambda: processes_of_uid(uid))


def processes_of_tree(root: int, marker: bytes) -> list[int]:
    """The group led by `root`, its descendants, and processes carrying `marker`."""
    stats = {pid: _stat(pid) for pid in _proc_entries()}
    children: dict[int, list[int]] = {}
    found = set()
    for pid, stat in stats.items():
        if stat is None or pid == os.getpid():
            continue
        children.setdefault(stat[1], []).append(pid)
        if stat[2] == root:
            found.add(pid)
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    found.update(pid for pid in stats if pid != os.getpid() and _has_marker(pid, marker))
    if _stat(root) is not None:
        found.add(root)
    return sorted(found)


# --- tier probe ----------------------------------------------------------------------


NUMPY_ENTRIES = ("numpy", "numpy.libs")  # the package and the shared libraries its wheel bundles


def numpy_site() -> str:
    """The folder numpy is installed in. The worker sees only numpy's own entries of it: the grader,
    the reference and everything else installed beside numpy stay out of its reach."""
    return os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__)))


def numpy_entries() -> list[str]:
    site = numpy_site()
    return [os.path.join(site, name) for name in NUMPY_ENTRIES if os.path.exists(os.path.join(site, name))]


def site_folders() -> list[str]:
    """Every folder this interpreter installs packages into, numpy's included."""
    found = {numpy_site()}
    for path in (*site.getsitepackages(), site.getusersitepackages()):
        if os.path.isdir(path):
            found.add(os.path.realpath(path))
    return sorted(found)


def numpy_only_folder(target: Path) -> str:
    """A folder holding links to numpy's entries only, for the tiers without a private filesystem.

    numpy's extension modules find their bundled libraries relative to their own path
    ($ORIGIN/../../numpy.libs), which the links keep.
    """
    target.mkdir(mode=0o755)
    for entry in numpy_entries():
        os.symlink(entry, target / os.path.basename(entry))
    return str(target)


def _numpy_check() -> str:
    return f"import sys; sys.path.append({numpy_site()!r}); import numpy"


def _python_roots() -> list[str]:
    """Directories the worker's interpreter and numpy need, outermost only, outside /usr."""
    candidates = {
        os.path.realpath(p)
        for p in (sys.base_prefix, sys.prefix, sys.exec_prefix,
                  numpy_site())
    }
    candidates.add(os.path.dirname(os.path.dirname(python_executable())))
    roots = []
    for path in sorted(candidates):
        if path == "/usr" or path.startswith("/usr/"):
            continue
        if any(path == r or path.startswith(r + "/") for r in roots):
            continue
        roots.append(path)
    return roots


def bwrap_arguments(root_mode: bool, user_namespace: bool, tmp_bytes: int) -> list[str]:
    """The bwrap options shared by the probe and real workers (binds of the worker and
    submission are appended by the caller)."""
    args = [
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
    ]
    if root_mode:
        # Only what dropping to the worker uid needs; setuid() then clears these too.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    if user_namespace:
        args.append("--unshare-user")
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    if os.path.exists("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    made = set()
    for root in _python_roots():
        # bwrap would create missing parents as 0700 root, unreadable for the worker uid.
        parents = []
        parent = os.path.dirname(root)
        while parent not in ("/", "") and parent not in made:
            parents.append(parent)
            parent = os.path.dirname(parent)
        for path in reversed(parents):
            args += ["--perms", "0755", "--dir", path]
            made.add(path)
        args += ["--ro-bind", root, root]
    visible = ["/usr", *_python_roots()]  # bound above, read-only
    for folder in site_folders():
        if any(folder == r or folder.startswith(r + "/") for r in visible):
            args += ["--perms", "0755", "--tmpfs", folder]  # hide what is installed beside numpy...
    for entry in numpy_entries():
        args += ["--ro-bind", entry, entry]  # ...and put numpy back
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    return args


def _run_probe(command: list[str], **kwargs) -> str | None:
    """None if `command` succeeds, else a short reason."""
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=PROBE_SECONDS,
                              env=scrubbed_environment("/", "/tmp", "probe"), cwd="/", **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode != 0:
        last = done.stdout.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return f"exit status {done.returncode} ({last[0][:200]})"
    return None


def _probe_bwrap(uid: int | None) -> tuple[str | None, bool]:
    """(reason it does not work or None, whether --unshare-user is needed)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap is not installed", False
    check = _numpy_check()
    if uid is not None:
        check = f"import os; os.setgroups([]); os.setgid({uid}); os.setuid({uid}); " + check
    reasons = []
    for user_namespace in ((False,) if is_root() else (True, False)):
        command = [bwrap, *bwrap_arguments(is_root(), user_namespace, 1 << 20), "--chdir", "/",
                   python_executable(), *PYTHON_FLAGS, "-c", check]
        reason = _run_probe(command)
        if reason is None:
            return None, user_namespace
        reasons.append(reason)
    return "bwrap does not work here: " + "; ".join(reasons), False


def probe() -> dict[str, object]:
    """Which tiers work on this machine; computed once per grader process."""
    global _probe_cache
    with _probe_lock:
        if _probe_cache is None:
            _probe_cache = _probe_uncached()
        return _probe_cache


def _probe_uncached() -> dict[str, object]:
    result: dict[str, object] = {"plain-process": None}
    if not is_root():
        result["unprivileged-user"] = "the grader is not root, so it cannot switch uid"
        result["bubblewrap"], result["user_namespace"] = _probe_bwrap(None)
        return result
    lease = UidLease(uid_range())
    try:
        result["bubblewrap"], result["user_namespace"] = _probe_bwrap(lease.uid)
        reason = _run_probe([python_executable(), *PYTHON_FLAGS, "-c", _numpy_check()],
                            user=lease.uid, group=lease.gid, extra_groups=[])
        result["unprivileged-user"] = (
            None if reason is None
            else f"the Python installation is not usable by uid {lease.uid} ({reason})"
        )
    finally:
        kill_uid(lease.uid)
        lease.release()
    return result


def available_tiers() -> list[str]:
    found = probe()
    return [tier for tier in TIERS if found[tier] is None]


def choose_tier(requested: str | None) -> str:
    requested = requested or os.environ.get(TIER_ENV) or None
    found = probe()
    if requested is None:
        return next(tier for tier in TIERS if found[tier] is None)
    if requested not in TIERS:
        raise ValueError(f"unknown sandbox tier {requested!r}; choose from {', '.join(TIERS)}")
    if found[requested] is not None:
        raise ValueError(f"sandbox tier {requested!r} is not available: {found[requested]}")
    return requested


def scrubbed_environment(home: str, tmp: str, marker: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's is passed on."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        MARKER_ENV: marker,
    }


# --- the isolation of one sandbox ------------------------------------------------------


@dataclasses.dataclass
class Isolation:
    """How one Sandbox starts and kills its workers."""

    tier: str
    marker: str
    lease: UidLease | None
    tmp_bytes: int

    @classmethod
    def create(cls, requested: str | None, marker: str, tmp_bytes: int) -> "Isolation":
        tier = choose_tier(requested)
        needs_uid = is_root() and tier in ("bubblewrap", "unprivileged-user")
        lease = UidLease(uid_range()) if needs_uid else None
        return cls(tier, marker, lease, tmp_bytes)

    @property
    def uid(self) -> int | None:
        return None if self.lease is None else self.lease.uid

    def description(self, limits_summary: str) -> str:
        if self.tier == "bubblewrap":
            who = f"as uid {self.uid}" if self.uid is not None else "in a user namespace"
            return (
                f"Ran inside bubblewrap {who}, with no network, its own process namespace, "
                f"a private /tmp and no files of the grader visible; limits: {limits_summary}."
            )
        if self.tier == "unprivileged-user":
            return (
                f"Ran as unprivileged uid {self.uid} without bubblewrap ({probe()['bubblewrap']}), "
                f"so it could use the network and read world-readable files (installed packages among them); "
                f"limits: {limits_summary}."
            )
        return (
            "Ran as an ordinary process without bubblewrap or a uid of its own, so it could "
            "use the network and read and write the grader's files; "
            f"limits: {limits_summary}."
        )

    def prepare_scratch(self, scratch: Path) -> None:
        if self.uid is None:
            return
        for path in [scratch, *scratch.rglob("*")]:
            os.lchown(path, self.uid, self.uid)

    def worker_paths(self, worker_dir: Path, scratch: Path) -> tuple[str, str]:
        """(worker dir, submission dir) as the worker sees them."""
        if self.tier == "bubblewrap":
            return INSIDE_WORKER, INSIDE_SUBMISSION
        return str(worker_dir), str(scratch)

    def drop_to(self) -> tuple[int, int] | None:
        """The uid/gid the worker switches to itself (bubblewrap as root)."""
        if self.tier == "bubblewrap" and self.lease is not None:
            return self.lease.uid, self.lease.gid
        return None

    def own_uid(self) -> bool:
        return self.lease is not None

    def popen(self, worker_dir: Path, scratch: Path, config: str, fds: tuple[int, ...],
              stdout: int, stderr: int) -> subprocess.Popen:
        inside_worker, inside_submission = self.worker_paths(worker_dir, scratch)
        python = [python_executable(), *PYTHON_FLAGS, f"{inside_worker}/worker.py", config]
        kwargs = {}
        if self.tier == "bubblewrap":
            command = [
                shutil.which("bwrap"),
                *bwrap_arguments(is_root(), bool(probe()["user_namespace"]), self.tmp_bytes),
                "--perms", "0755", "--dir", os.path.dirname(INSIDE_WORKER),
                "--ro-bind", str(worker_dir), INSIDE_WORKER,
                "--bind", str(scratch), INSIDE_SUBMISSION,
                "--chdir", INSIDE_SUBMISSION,
                *python,
            ]
        else:
            command = python
            if self.tier == "unprivileged-user":
                kwargs = {"user": self.lease.uid, "group": self.lease.gid, "extra_groups": []}
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            pass_fds=fds, close_fds=True, start_new_session=True, cwd=str(scratch),
            env=scrubbed_environment(inside_submission, "/tmp" if self.tier == "bubblewrap"
                                     else inside_submission, self.marker),
            **kwargs,
        )

    def kill(self, process: subprocess.Popen) -> None:
        """Kill the worker and everything it started; reap the worker."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        marker = f"{MARKER_ENV}={self.marker}".encode()
        if self.uid is not None:
            kill_uid(self.uid)
        else:
            _kill_until_gone(lambda: processes_of_tree(process.pid, marker))
        process.wait()

    def exit_status(self, process: subprocess.Popen) -> int | None:
        """The worker's status in Popen terms (negative: killed by that signal).

        bwrap reports a signal death as 128 + the signal number, like a shell, so under
        bubblewrap an os._exit(139) is indistinguishable from SIGSEGV and is read as the
        latter; the worker itself never exits with such codes.
        """
        code = process.returncode
        if self.tier == "bubblewrap" and code is not None and 128 < code < 128 + 65:
            return -(code - 128)
        return code

    def leftovers(self, process_pid: int) -> list[int]:
        """Live processes this sandbox is responsible for (for tests and assertions).

        While the uid is leased, everything running as it; once released (close() killed the uid's
        processes first), another sandbox may hold it, so only this sandbox's tree and marker count.
        """
        if self.lease is not None:
            return [p for p in processes_of_uid(self.lease.uid) if (_stat(p) or ("Z",))[0] != "Z"]
        marker = f"{MARKER_ENV}={self.marker}".encode()
        return [p for p in processes_of_tree(process_pid, marker)
                if (_stat(p) or ("Z",))[0] != "Z"]

    def close(self) -> None:
        if self.lease is not None:
            kill_uid(self.lease.uid)
            self.lease.release()
            self.lease = None
