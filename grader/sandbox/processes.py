"""Processes a sandbox is responsible for: leased uids, and sweeps that kill what a worker started."""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from stat import S_IWOTH

from grader.errors import SettingError

UIDS_ENV = "RNN_GRADER_SANDBOX_UIDS"
DEFAULT_UIDS = range(200000, 201000)


def uid_range() -> range:
    """Uids for workers; RNN_GRADER_SANDBOX_UIDS="START-END" gives parallel graders their own (SettingError
    when it is not that, or names root's or a system's uids)."""
    text = os.environ.get(UIDS_ENV, "").strip()
    if not text:
        return DEFAULT_UIDS
    start, dash, end = (part.strip() for part in text.partition("-"))
    if not (dash and start.isdigit() and end.isdigit() and 1000 <= int(start) <= int(end) < 2**32 - 1):
        raise SettingError(f"{UIDS_ENV}={text!r} is not a range START-END of unused uids from 1000 up "
                           f"(e.g. {DEFAULT_UIDS.start}-{DEFAULT_UIDS.stop - 1}, the default)")
    return range(int(start), int(end) + 1)


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when `parent` (the thread that started it) dies, however it dies;
    exit at once if it is gone already. Linux only; elsewhere a caller relies on its pipes' end of file.
    (The sandbox's worker has its own copy: it runs alone, without the grader.)"""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


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
            self._fd: int | None = fd
            kill_uid(uid)  # leftovers of a grader that crashed while holding this uid
            remove_files_of_uid(uid)
            return
        raise RuntimeError(f"no free sandbox uid in {uids.start}-{uids.stop - 1} ({UIDS_ENV})")

    def release(self) -> None:
        """Free the uid, once its processes are gone, with nothing it wrote where every user may write."""
        if self._fd is not None:
            remove_files_of_uid(self.uid)
            os.close(self._fd)
            self._fd = None


# Folders every user may write to (with the world-writable folders inside them): in the unprivileged-user tier
# a worker may leave files there, for the next sandbox of the same uid to read, on the host's disk.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
MAX_SHARED_ENTRIES = 100_000  # entries looked at in one sweep


def remove_files_of_uid(uid: int, folders: tuple[str, ...] = SHARED_FOLDERS) -> None:
    """Remove every file and folder `uid` owns in `folders` and their world-writable sub-folders (what else it
    could write to, it owns). Links are never followed."""
    pending, looked = [Path(f) for f in folders], 0
    while pending and looked < MAX_SHARED_ENTRIES:
        try:
            with os.scandir(pending.pop()) as entries:
                found = list(entries)
        except OSError:
            continue
        for entry in found:
            looked += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            is_folder = entry.is_dir(follow_symlinks=False)
            if info.st_uid == uid:
                try:
                    shutil.rmtree(entry.path) if is_folder else os.unlink(entry.path)
                except OSError:
                    pass
            elif is_folder and info.st_mode & S_IWOTH:
                pending.append(Path(entry.path))


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


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].split()  # the name, in parentheses, may hold spaces and ")"


def process_stat(pid: int):
    """(state, ppid, pgrp) of a live process, or None."""
    fields = _stat_fields(pid)
    return None if fields is None else (fields[0].decode(), int(fields[1]), int(fields[2]))


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


def kill_until_gone(find, rounds: int = 200) -> bool:
    """SIGKILL what `find()` returns until it returns nothing. Zombies are ignored."""
    for _ in range(rounds):
        pids = [pid for pid in find() if (process_stat(pid) or ("Z",))[0] not in ("Z", "X")]
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
    return kill_until_gone(lambda: processes_of_uid(uid))


def processes_of_tree(root: int, marker: bytes) -> list[int]:
    """The group led by `root`, its descendants, and processes carrying `marker`."""
    stats = {pid: process_stat(pid) for pid in _proc_entries()}
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
    found.update(processes_with_marker(marker, stats))
    if process_stat(root) is not None:
        found.add(root)
    return sorted(found)


def processes_with_marker(marker: bytes, pids=None) -> list[int]:
    """The processes (but this one) whose environment holds the entry `marker` (b"NAME=value")."""
    return [pid for pid in (_proc_entries() if pids is None else pids) if pid != os.getpid() and _has_marker(pid, marker)]


def live(pids: list[int]) -> list[int]:
    """The processes among `pids` that still run (zombies excluded)."""
    return [pid for pid in pids if (process_stat(pid) or ("Z",))[0] not in ("Z", "X")]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


SIGCHLD_IGNORED = 1 << (signal.SIGCHLD - 1)  # its bit in /proc/<pid>/status SigIgn


class TreeClock:
    """CPU time of a worker's process tree, read from /proc, for sandboxes without a control group's count.

    Each look adds up, for the root and its live descendants, their own time and that of the children they
    waited for (utime stime cutime cstime), plus the time of children that ended while their parent ignored
    SIGCHLD: the kernel reaps those at once and their time reaches no parent, so the clock keeps the own time
    it last saw of every child of such a parent. What one of them used after the last look is lost, and so is
    a child that left the tree (a double fork, its parent gone): grader.sandbox.clock looks every
    SAMPLE_SECONDS while a call runs, and the process limit bounds how many there are.

    It follows /proc/<pid>/task/<tid>/children rather than scanning all of /proc, so a look costs a few
    file reads per process of the sandbox.
    """

    def __init__(self) -> None:
        self._watched: dict[tuple[int, bytes], int] = {}  # (pid, start time) -> own ticks, parent ignoring SIGCHLD
        self._reaped = 0  # ticks of such children that have ended

    def seconds(self, root: int) -> float | None:
        """CPU seconds so far; None when /proc cannot tell (not Linux, or `root` is gone)."""
        total, stack, seen, unwaited, watched = 0, [root], set(), set(), {}
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            fields = _stat_fields(pid)
            try:
                if fields is None:
                    raise ProcessLookupError(pid)
                ticks = [int(field) for field in fields[11:15]]  # utime stime cutime cstime
                tasks = os.listdir(f"/proc/{pid}/task")
            except (OSError, ValueError, IndexError):
                if pid == root:
                    return None
                continue  # it ended meanwhile
            total += sum(ticks)
            if pid in unwaited:
                watched[(pid, fields[19])] = ticks[0] + ticks[1]  # field 19 after the state: its start time
            children = _children(pid, tasks)
            if children and _ignores_sigchld(pid):
                unwaited.update(children)
            stack.extend(children)
        for (pid, start), own in self._watched.items():
            if (pid, start) not in watched and not _same_process(pid, start):
                self._reaped += own
        self._watched = watched
        return (total + self._reaped) / CLOCK_TICKS


def _children(pid: int, tasks: list[str]) -> list[int]:
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                found.extend(int(child) for child in f.read().split())
        except (OSError, ValueError):
            continue  # a thread that ended meanwhile: its children are its process's
    return found


def _ignores_sigchld(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"SigIgn:"):
                    return bool(int(line.split()[1], 16) & SIGCHLD_IGNORED)
    except (OSError, ValueError, IndexError):
        pass
    return False


def _same_process(pid: int, start: bytes) -> bool:
    """Whether `pid` still runs as the process that started at `start` (a look may miss a live child while a
    thread ends)."""
    fields = _stat_fields(pid)
    return fields is not None and len(fields) > 19 and fields[19] == start
