"""The scratch copy of a submission: regular files only, nothing leaving the folder, within the bounds below.

The bounds hold for a submission folder as for a zip file (grader.files.archive checks a zip's table of
contents against them before unpacking): a submission is code and the few files it reads, and a folder
thousands deep, with thousands of folders or with names no file system takes is refused in words, before
it can exhaust the grader's stack, time or disk.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from grader.settings import folder_setting

from .claims import Claim, claimed_folder
from .protocol import printable

MODULE = "rnn"
SKIPPED = frozenset({"__pycache__", ".git"})
MAX_FILES = 500
MAX_BYTES = 50 * 1024**2
MAX_FOLDERS = 200
MAX_PATH_DEPTH = 16  # files and folders in a path, the file's own name included
MAX_PATH_BYTES = 1024
MAX_NAME_BYTES = 255  # one file or folder name, as Linux, macOS and Windows file systems allow
SHOWN_NAME = 80  # characters of a name quoted in a message
_ENOUGH = "submit your code and the files it needs only"


class Refused(Exception):
    """The submission folder cannot be run; the message completes "was not run: ..."."""


def shown(name: str) -> str:
    """A name from the submission as a message quotes it: printable, and cut short if long."""
    cut = name if len(name) <= SHOWN_NAME else name[:SHOWN_NAME] + f"... ({len(name)} characters)"
    return printable(cut)


def copy_submission(source: Path, target: Path) -> None:
    """Copy `source` into the existing empty folder `target`, refusing anything odd.

    Links are never followed (lstat / O_NOFOLLOW), so a symlink planted anywhere in the
    folder, or the folder itself being one, is refused rather than copied through.
    """
    source = Path(source)
    if source.is_symlink():
        raise Refused(f"{shown(source.name)} is a symbolic link, not a folder")
    if not source.is_dir():
        raise Refused(f"{shown(str(source))} is not a folder")
    if not (source / f"{MODULE}.py").is_file() or (source / f"{MODULE}.py").is_symlink():
        raise Refused(f"the folder has no file named {MODULE}.py")
    copy_tree_safely(source, target)


def copy_tree_safely(source: Path, target: Path) -> None:
    """Copy the folder `source` into the existing empty folder `target`, with copy_submission's refusals."""
    for relative, full, info in walk(source):
        name = shown(str(relative))
        destination = target.joinpath(*relative.parts)
        if stat.S_ISLNK(info.st_mode):
            raise Refused(is_a_link(name, full))
        try:
            if stat.S_ISDIR(info.st_mode):
                destination.mkdir(mode=0o700)
            elif stat.S_ISREG(info.st_mode):
                if info.st_nlink > 1:
                    # A hard link may point at any file on the grading machine.
                    raise Refused(f"{name} is a hard link; submit regular files only")
                _copy_file(Path(full), destination)
            else:
                raise Refused(f"{name} is not a regular file; submit regular files only")
        except OSError as exc:  # e.g. a name the scratch folder's file system does not take
            raise Refused(f"{name} could not be copied ({exc.strerror or exc})") from None


def walk(folder: Path) -> Iterator[tuple[PurePosixPath, str, os.stat_result]]:
    """(path relative to `folder`, full path, lstat) of every entry below `folder` but the SKIPPED ones; each
    folder's entries in name order, before the entries of its sub-folders. Links are entries, never followed.

    Raises Refused as soon as the folder is found to break a bound (depth, path and name length, files,
    folders, bytes) or cannot be read: nothing deeper or further is read.
    """
    files = folders = size = 0
    pending = [PurePosixPath()]
    while pending:
        here = pending.pop()
        listed = []
        try:
            with os.scandir(Path(folder).joinpath(*here.parts)) as entries:
                # Counted as read, so a folder of a million entries is refused after a few hundred.
                for entry in entries:
                    if entry.name in SKIPPED:
                        continue
                    is_folder = entry.is_dir(follow_symlinks=False)
                    folders, files = folders + is_folder, files + (not is_folder)
                    if folders > MAX_FOLDERS:
                        raise Refused(f"the folder holds more than {MAX_FOLDERS} folders; {_ENOUGH}")
                    if files > MAX_FILES:
                        raise Refused(f"the folder holds more than {MAX_FILES} files; {_ENOUGH}")
                    listed.append((entry.name, entry.path))
        except OSError as exc:
            where = shown(str(here)) if here.parts else "the folder"
            raise Refused(f"{where} could not be read ({exc.strerror or exc})") from None
        below = []
        for name, full in sorted(listed):
            relative = here / name
            _check_path(relative)
            try:
                info = os.lstat(full)
            except OSError as exc:
                raise Refused(f"{shown(str(relative))} could not be read ({exc.strerror or exc})") from None
            if stat.S_ISREG(info.st_mode):
                size += info.st_size
                if size > MAX_BYTES:
                    raise Refused(f"the folder holds more than {MAX_BYTES // 1024**2} MiB; {_ENOUGH}")
            elif stat.S_ISDIR(info.st_mode):
                below.append(relative)
            yield relative, full, info
        pending.extend(reversed(below))


def _check_path(relative: PurePosixPath) -> None:
    if len(relative.parts) > MAX_PATH_DEPTH:
        raise Refused(f"the folder holds a path more than {MAX_PATH_DEPTH} folders deep "
                      f"({shown(str(relative))}); {_ENOUGH}")
    if len(os.fsencode(str(relative))) > MAX_PATH_BYTES:
        raise Refused(f"the folder holds a path longer than {MAX_PATH_BYTES} bytes ({shown(str(relative))})")
    if len(os.fsencode(relative.name)) > MAX_NAME_BYTES:
        raise Refused(f"the folder holds a file or folder name longer than {MAX_NAME_BYTES} bytes "
                      f"({shown(str(relative))})")


def is_a_link(name: str, path: str | Path) -> str:
    """The one refusal of a symbolic link in a submission (`name` as shown): a link is never followed there, so
    the student is told what it points to and to upload the file itself."""
    try:
        target = shown(os.readlink(path))
    except OSError:
        target = "?"
    return f"{name} is a symbolic link (to {target}); the grader follows no link in a submission: submit regular files only"


def read_regular_file(source: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file `source`, never read through a link, refused beyond `limit` bytes."""
    with os.fdopen(_open_regular(source, "is not a regular file"), "rb") as src:
        data = src.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{shown(source.name)} is larger than {limit // 1024**2} MiB")
    return data


def _copy_file(source: Path, target: Path) -> None:
    with os.fdopen(_open_regular(source, "changed while it was being copied"), "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.chmod(target, 0o600)  # the worker owns the copy (the tier's admit()); no other uid may read it


def _open_regular(source: Path, otherwise: str) -> int:
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW's answer for a link
            raise Refused(is_a_link(shown(source.name), source)) from None
        raise Refused(f"{shown(source.name)} could not be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(f"{shown(source.name)} {otherwise}")
    return fd


SANDBOX_DIR_ENV = "RNN_GRADER_SANDBOX_DIR"


def sandboxes_folder() -> Path:
    """Where sandboxes that share the host's /tmp are made: $RNN_GRADER_SANDBOX_DIR, else (root)
    /var/lib/rnn-grader/sandboxes, else $XDG_CACHE_HOME/rnn-grader/sandboxes (~/.cache when unset)."""
    if configured := folder_setting(SANDBOX_DIR_ENV):
        return configured
    if os.geteuid() == 0:
        return Path("/var/lib/rnn-grader/sandboxes")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnn-grader" / "sandboxes"


def new_sandbox_root(shares_host_tmp: bool, traversable: bool) -> Claim:
    """A new, private folder for one sandbox (worker files, scratch copy, temporary folder), claimed by this
    process (grader.sandbox.claims: a sweep removes it if this process is killed).

    Tiers whose worker shares the host's /tmp get it outside /tmp, under a folder only the grader's user
    can list; `traversable` (mode 0711) lets a worker uid reach the sub-folders it owns, and nothing else.
    """
    base = None
    if shares_host_tmp:
        base = sandboxes_folder()
        base.mkdir(mode=0o711, parents=True, exist_ok=True)
        os.chmod(base, 0o711)
    claim = claimed_folder("sandbox-", base)
    os.chmod(claim.path, 0o711 if traversable else 0o700)
    return claim
