"""Files the grader writes are whole or absent, whenever its process is killed.

`write_whole` writes to a temporary file beside the target, flushes it to disk (fsync) and moves it into
place with one rename (os.replace, or os.link for a file that must not be replaced), so a reader, or a rerun
after a kill, sees the old file, the new one or none, never part of one. A kill leaves at most the temporary
file (.NAME.XXXXXXXX.tmp), which `remove_unfinished` removes where no other process writes.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

UNFINISHED = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")  # write_whole's temporary files (tempfile.mkstemp's names)


def write_whole(path: Path, data: str | bytes, *, mode: int = 0o644, exclusive: bool = False) -> None:
    """Write `data` (text as UTF-8, newlines as given) to `path` all at once; with `exclusive`, never replace
    a file already there (FileExistsError). Raises OSError or UnicodeError; nothing is left half written."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)  # mkstemp makes it 0600
        if exclusive:
            os.link(temp, path)
        else:
            os.replace(temp, path)
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)


def remove_unfinished(folder: Path, depth: int = 2) -> list[Path]:
    """Remove the temporary files of writes that a killed process left in `folder` and the folders below it,
    `depth` levels down; return them. Only for a folder no other process writes to."""
    removed = []
    for root, folders, files in os.walk(folder):
        if len(Path(root).relative_to(folder).parts) >= depth:
            folders.clear()
        for name in files:
            if UNFINISHED.fullmatch(name):
                Path(root, name).unlink(missing_ok=True)
                removed.append(Path(root, name))
    return removed
