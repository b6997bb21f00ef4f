"""Which entries of an upload count, how their names are shown, and a submission folder's files in order."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

from grader.sandbox.protocol import printable
from grader.sandbox.scratch import walk

# What operating systems and LMS exports leave beside the real files; never a submission.
JUNK_NAMES = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini", "__pycache__"})


def is_junk(name: str) -> bool:
    return name.startswith(".") or name in JUNK_NAMES


def is_zip(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(".zip") and len(path.name) > len(".zip")


def printable_name(name: str) -> str:
    """A file name that is not valid UTF-8 (Python keeps its bytes as surrogates) with those bytes spelled
    out as \\xNN, and control characters (terminal escapes) too, so it can be written to JSON, CSV, HTML
    and the terminal."""
    return printable(name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))


def submission_files(folder: Path) -> Iterator[tuple[str, str]]:
    """(relative path, full path) of every entry of a submission folder but its folders, in a stable order.

    Folders the sandbox skips (caches, version control) are left out; a link to a folder is an entry of
    its own, never followed. Raises scratch.Refused where the folder breaks a submission's bounds (depth,
    names, files, folders, bytes) or cannot be read.
    """
    for relative, full, info in walk(folder):
        if not stat.S_ISDIR(info.st_mode):
            yield str(relative), full
