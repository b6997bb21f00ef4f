"""The scratch copy of a submission: regular files only, nothing leaving the folder."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

MODULE = "rnn"
SKIPPED = frozenset({"__pycache__", ".git"})
MAX_FILES = 500
MAX_BYTES = 50 * 1024**2


class Refused(Exception):
    """The submission folder cannot be run; the message completes "was not run: ..."."""


def copy_submission(source: Path, target: Path) -> None:
    """Copy `source` into the existing empty folder `target`, refusing anything odd.

    Links are never followed (lstat / O_NOFOLLOW), so a symlink planted anywhere in the
    folder, or the folder itself being one, is refused rather than copied through.
    """
    source = Path(source)
    if source.is_symlink():
        raise Refused(f"{source.name} is a symbolic link, not a folder")
    if not source.is_dir():
        raise Refused(f"{source} is not a folder")
    if not (source / f"{MODULE}.py").is_file() or (source / f"{MODULE}.py").is_symlink():
        raise Refused(f"the folder has no file named {MODULE}.py")
    copy_tree_safely(source, target)


def copy_tree_safely(source: Path, target: Path) -> None:
    """Copy the folder `source` into the existing empty folder `target`, with copy_submission's refusals."""
    _copy_tree(Path(source), target, Path("."), {"files": 0, "bytes": 0})


def _copy_tree(source: Path, target: Path, relative: Path, counts: dict) -> None:
    with os.scandir(source) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            shown = relative / entry.name
            if entry.name in SKIPPED:
                continue
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise Refused(
                    f"{shown} is a symbolic link (to {os.readlink(entry.path)}); "
                    "submit regular files only"
                )
            if stat.S_ISDIR(info.st_mode):
                (target / entry.name).mkdir(mode=0o700)
                _copy_tree(Path(entry.path), target / entry.name, shown, counts)
            elif stat.S_ISREG(info.st_mode):
                if info.st_nlink > 1:
                    # A hard link may point at any file on the grading machine.
                    raise Refused(f"{shown} is a hard link; submit regular files only")
                counts["files"] += 1
                counts["bytes"] += info.st_size
                if counts["files"] > MAX_FILES or counts["bytes"] > MAX_BYTES:
                    raise Refused(
                        f"the folder holds more than {MAX_FILES} files or "
                        f"{MAX_BYTES // 1024**2} MiB"
                    )
                _copy_file(Path(entry.path), target / entry.name)
            else:
                raise Refused(f"{shown} is not a regular file; submit regular files only")


def read_regular_file(source: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file `source`, never read through a link, refused beyond `limit` bytes."""
    with os.fdopen(_open_regular(source, "is not a regular file"), "rb") as src:
        data = src.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{source.name} is larger than {limit // 1024**2} MiB")
    return data


def _copy_file(source: Path, target: Path) -> None:
    with os.fdopen(_open_regular(source, "changed while it was being copied"), "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.chmod(target, 0o600)  # the worker owns the copy (prepare()); no other uid may read it


def _open_regular(source: Path, otherwise: str) -> int:
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise Refused(f"{source.name} could not be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(f"{source.name} {otherwise}")
    return fd


SANDBOX_DIR_ENV = "RNN_GRADER_SANDBOX_DIR"


def new_sandbox_root(shares_host_tmp: bool, traversable: bool) -> Path:
    """A new, private folder for one sandbox (worker files, scratch copy, temporary folder).

    Tiers whose worker shares the host's /tmp get it outside /tmp, under a folder only the grader's user
    can list; `traversable` (mode 0711) lets a worker uid reach the sub-folders it owns, and nothing else.
    """
    base = None
    if shares_host_tmp:
        configured = os.environ.get(SANDBOX_DIR_ENV)
        if configured:
            base = Path(configured)
        elif os.geteuid() == 0:
            base = Path("/var/lib/rnn-grader/sandboxes")
        else:
            base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnn-grader" / "sandboxes"
        base.mkdir(mode=0o711, parents=True, exist_ok=True)
        os.chmod(base, 0o711)
    root = Path(tempfile.mkdtemp(prefix="rnn-grader-sandbox-", dir=base))
    os.chmod(root, 0o711 if traversable else 0o700)
    return root
