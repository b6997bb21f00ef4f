"""The sandbox's writable space as a whole: a size-limited tmpfs mounted on its private root folder.

RLIMIT_FSIZE bounds each file a submission writes, not how many it writes: a folder bound from the host took
300 MiB of 16 MiB files. So the grader, where it may mount (root, with CAP_SYS_ADMIN), mounts a tmpfs on the
sandbox's root folder before anything is put in it, with room for the largest submission copy
(scratch.MAX_BYTES), and once the copy is made shrinks it to what the copy takes plus ``Limits.disk_bytes``.
Everything under the root shares that cap: the submission's folder, and its temporary folder (TMPDIR) in the
unprivileged-user and plain-process tiers. Under bubblewrap /tmp and /dev/shm are tmpfs of the namespace's
own, limited to ``Limits.file_bytes`` each. The number of files is capped too (MAX_FILES), since a tmpfs inode
is memory however small the file. A write past the cap fails with ENOSPC ("No space left on device"), which
the student reads with the limit named (grader.sandbox.failures). Pages of a tmpfs are memory, so they also
count against the sandbox's memory group.

Where the grader cannot mount (not root, or a container without CAP_SYS_ADMIN), each file is limited but not
their total, and ``why_not`` says so (the tier's description repeats it).

A mount outlives a grader killed by SIGKILL. Each space holds an flock on a file at its root while it lives,
so the next grader process that makes one unmounts the spaces whose lock is free (``sweep``).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import os
import shutil
from pathlib import Path

from .scratch import MAX_BYTES
from .scratch import MAX_FILES as SUBMISSION_FILES
from .scratch import MAX_FOLDERS as SUBMISSION_FOLDERS

MS_REMOUNT = 32
MNT_DETACH = 2
MAX_FILES = 4096  # files and folders a submission may make, beyond its own
OWNER = ".owner"  # flocked by the grader process while the space lives
PREFIX = "rnn-grader-sandbox-"


class Space:
    """A tmpfs mounted on one sandbox's root folder, or, where none could be mounted, the reason."""

    def __init__(self, root: Path, disk_bytes: int, mode: int):
        self.root = Path(root)
        self.disk_bytes = disk_bytes
        self.mounted = False
        self.why_not = ""
        self._owner: int | None = None
        if os.geteuid() != 0:
            self.why_not = "the grader is not root, so it cannot mount a size-limited folder"
            return
        sweep(self.root.parent)
        inodes = MAX_FILES + SUBMISSION_FILES + SUBMISSION_FOLDERS + 16  # and the sandbox's own folders
        try:
            _mount(self.root, f"size={MAX_BYTES + disk_bytes},nr_inodes={inodes},mode={mode:o}")
        except OSError as exc:
            self.why_not = f"the grader could not mount a size-limited folder ({exc.strerror or exc})"
            return
        self.mounted = True
        # Locked before it has its name, so a sweep never finds it unlocked.
        self._owner = os.open(self.root / (OWNER + ".new"), os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._owner, fcntl.LOCK_EX)
        os.rename(self.root / (OWNER + ".new"), self.root / OWNER)

    def fit(self) -> None:
        """Shrink the cap to what is in the space now (the submission's copy) plus disk_bytes."""
        if not self.mounted:
            return
        usage = os.statvfs(self.root)
        used = (usage.f_blocks - usage.f_bfree) * usage.f_frsize
        try:
            _mount(self.root, f"size={used + self.disk_bytes}", remount=True)
        except OSError:
            pass  # the cap stays the larger one it was mounted with

    def statement(self) -> str:
        """The cap in words, for the tier's description."""
        mib = self.disk_bytes // 1024**2
        if self.mounted:
            return f"{mib} MiB written in all beyond its own files (a size-limited folder of its own)"
        return f"no cap on the files written in all ({self.why_not})"

    def close(self) -> None:
        """Unmount (lazily: a process of the sandbox that is still being reaped may hold it) and free the lock."""
        if self.mounted:
            _unmount(self.root)
            self.mounted = False
        if self._owner is not None:
            os.close(self._owner)
            self._owner = None


def sweep(base: Path) -> None:
    """Unmount and remove the spaces under `base` that no live grader process holds (it was killed)."""
    for mount_point in _tmpfs_mounts():
        if mount_point.parent != base or not mount_point.name.startswith(PREFIX):
            continue
        try:
            fd = os.open(mount_point / OWNER, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue  # being made right now, or not ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # alive
        finally:
            os.close(fd)
        try:
            _unmount(mount_point)
        except OSError:
            continue
        shutil.rmtree(mount_point, ignore_errors=True)


def _tmpfs_mounts() -> list[Path]:
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        try:
            separator = fields.index(b"-")
        except ValueError:
            continue
        if fields[separator + 1] == b"tmpfs":
            # Octal escapes (\040 for a space) in the mount point, as the kernel writes it.
            found.append(Path(os.fsdecode(fields[4].decode("unicode_escape").encode("latin-1"))))
    return found


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    if getattr(_libc(), name)(*args) != 0:
        number = ctypes.get_errno() or errno.EIO
        raise OSError(number, os.strerror(number))


def _mount(target: Path, options: str, remount: bool = False) -> None:
    _call("mount", b"tmpfs", os.fsencode(target), b"tmpfs", ctypes.c_ulong(MS_REMOUNT if remount else 0),
          options.encode())


def _unmount(target: Path) -> None:
    _call("umount2", os.fsencode(target), MNT_DETACH)
