"""The grader's own folders under its cache folder, which it believes only while they are this user's alone.

What the grader keeps there (the reference's answers, the sandbox probes' passes) decides grades or how a
submission is isolated, so a folder or file another user could have written is not read: it is ignored, as
if nothing had been kept.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def private(info: os.stat_result, *, directory: bool) -> bool:
    """This user's own, of the expected kind, and closed to every other user."""
    kind = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    owner = getattr(os, "geteuid", None)  # not on Windows, where the kit keeps nothing of this kind
    return kind and owner is not None and info.st_uid == owner() and not info.st_mode & 0o077


def private_folder(top: Path, *below: str) -> Path | None:
    """``top`` / ``below``..., made if missing, each folder of ``below`` 0700; None when one cannot be made or is
    not private. ``top`` itself (the cache folder) may be open to others, as other tools leave ~/.cache's."""
    folders = [Path(top)]
    for part in below:
        folders.append(folders[-1] / part)
    try:
        for folder in folders[1:]:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not private(os.lstat(folder), directory=True):
                return None
    except OSError:
        return None
    return folders[-1]


def read_private(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of ``path`` if it is a private regular file (not a link) of at most ``max_bytes``, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not private(info, directory=False) or info.st_size > max_bytes:
                return None
            return f.read(max_bytes)
    except OSError:
        return None
