"""Folders a grading process owns while it lives, and the sweep of those whose owner was killed.

A process that makes a scratch folder (a sandbox's root, a class task's unpacked zip) claims it: it holds
an flock on a claim file beside the folder (FOLDER.claim: beside, not in it, so that the tmpfs a sandbox
mounts on its root does not hide it) for as long as it uses the folder. The kernel drops the lock when the
process dies, however it dies (SIGKILL, the out-of-memory killer), so a claim nobody holds marks a folder
its owner can no longer clean up. `sweep` removes those, after its caller has stopped what the claim
says was left running (grader.sandbox.sweep). A folder without a claim is never touched: it may be
another grader version's, in use.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

SUFFIX = ".claim"
PREFIX = "rnn-grader-"


class Claim:
    """This process's hold on `path` (a folder it has just made); `release` once the folder is gone. The
    claim file says which process holds it (pid) and what a sweep must stop."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.file = self.path.with_name(self.path.name + SUFFIX)
        new = self.path.with_name(f"{self.file.name}.{os.getpid()}")
        self._fd: int | None = os.open(new, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._facts: dict[str, object] = {}
        self.note(pid=os.getpid())
        os.rename(new, self.file)  # locked before it has its name: a sweep never finds it free

    def note(self, **facts: object) -> None:
        """Record what a sweep must stop if this process dies (the sandbox's marker, its control group)."""
        if self._fd is not None:
            self._facts.update(facts)
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, json.dumps(self._facts).encode(), 0)

    def release(self) -> None:
        """Give the folder up (the caller has removed it)."""
        if self._fd is not None:
            self.file.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def claimed_folder(prefix: str, base: Path | None = None) -> Claim:
    """A new private folder (mode 0700) under `base` (the temporary folder by default), claimed."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX + prefix, dir=base))
    try:
        return Claim(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@contextlib.contextmanager
def claimed_scratch(prefix: str, base: Path | None = None) -> Iterator[Path]:
    """A claimed folder for the block's scratch files, removed after it (or by a sweep, if this process dies)."""
    claim = claimed_folder(prefix, base)
    try:
        yield claim.path
    finally:
        remove_tree(claim.path)
        claim.release()


def sweep(base: Path, stop: Callable[[dict], None]) -> list[Path]:
    """Remove every claimed folder in `base` whose owner is dead, once stop(what its claim noted) has stopped
    what it left running; return the folders removed."""
    try:
        names = [name for name in os.listdir(base) if name.startswith(PREFIX) and name.endswith(SUFFIX)]
    except OSError:
        return []
    removed = []
    for name in names:
        folder, claim = Path(base) / name.removesuffix(SUFFIX), Path(base) / name
        if _sweep_one(folder, claim, stop):
            removed.append(folder)
    return removed


def _sweep_one(folder: Path, claim: Path, stop: Callable[[dict], None]) -> bool:
    try:
        fd = os.open(claim, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False  # released meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its owner lives
        try:
            if not os.path.samestat(os.fstat(fd), os.lstat(claim)):
                return False  # another sweep removed it and a new owner took the name
            facts = json.loads(os.pread(fd, 1 << 16, 0) or b"{}")
        except (OSError, ValueError):
            return False
        stop(facts if isinstance(facts, dict) else {})
        try:
            remove_tree(folder)
        except OSError:
            return False  # e.g. a space still mounted there: the next sweep tries again
        claim.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def remove_tree(root: Path) -> None:
    """Remove a scratch folder whatever the submission did to it; nothing outside it is touched (OSError when
    it cannot go, e.g. a space still mounted on it)."""
    top = os.path.abspath(root)

    def make_writable(function, path, exc_info):
        # The submission may have made its folders read-only; we own them, so undo it, inside the tree only:
        # the root's own error (a space mounted on it) has the host's /tmp for parent, which this made 0700.
        parent = os.path.dirname(os.path.abspath(path))
        if parent != top and not parent.startswith(top + os.sep):
            raise exc_info[1]
        os.chmod(parent, stat.S_IRWXU)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
        function(path)

    if root.exists():
        shutil.rmtree(root, onerror=make_writable)
