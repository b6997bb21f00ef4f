"""Unpacking a submitted zip file without trusting it, and finding the folder that holds rnn.py.

A zip from an LMS is the student's file, so it is checked as a whole before anything is written: no
absolute paths or `..` (also with Windows backslashes), no links or device entries, no encryption, at most
MAX_FILES files and MAX_TOTAL_BYTES when unpacked. The sizes in the zip's headers can lie, so the bytes
actually unpacked are counted too. Any of these makes the submission broken, with the reason in words.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from grader.batch.discover import MODULE_FILE, is_junk
from grader.sandbox.scratch import (
    MAX_BYTES as MAX_TOTAL_BYTES,  # no point unpacking more than the sandbox takes
)
from grader.sandbox.scratch import MAX_FILES

MAX_ARCHIVE_BYTES = 50 * 1024**2
MAX_DEPTH = 4  # how many single nested folders are looked into for rnn.py
CHUNK = 1 << 20


class BrokenSubmission(Exception):
    """The submission cannot be graded at all; the message says why, for the student and the teacher."""


def unpack(archive: Path, target: Path) -> Path:
    """Unpack `archive` into the empty folder `target`; return the folder in it that holds rnn.py."""
    size = archive.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise BrokenSubmission(f"the zip file is {size / 1024**2:.0f} MiB, more than the {MAX_ARCHIVE_BYTES // 1024**2} MiB allowed")
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _checked_members(zf)
            _extract(zf, members, target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        raise BrokenSubmission(f"the zip file is corrupt or not a zip file ({exc})") from None
    return find_module_root(target)


def find_module_root(folder: Path) -> Path:
    """`folder`, or the folder nested in it alone (a zip of the folder rather than of its contents) that holds rnn.py."""
    current = folder
    for _ in range(MAX_DEPTH + 1):
        if (current / MODULE_FILE).is_file():
            return current
        inside = [p for p in current.iterdir() if not is_junk(p.name)]
        if len(inside) != 1 or not inside[0].is_dir() or inside[0].is_symlink():
            break
        current = inside[0]
    shown = ", ".join(sorted(p.name + ("/" if p.is_dir() else "") for p in current.iterdir() if not is_junk(p.name)))
    raise BrokenSubmission(
        f"there is no {MODULE_FILE} at the top level or inside a single top-level folder"
        + (f" (found: {shown})" if shown else " (it is empty)")
    )


def _checked_members(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every entry that will be unpacked, with its safe relative path; raise for anything hostile."""
    members, files, declared = [], 0, 0
    for info in zf.infolist():
        path = _safe_path(info.filename)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise BrokenSubmission(f"the zip file contains a symbolic link ({info.filename}); submit regular files only")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise BrokenSubmission(f"the zip file contains {info.filename}, which is not a regular file or folder")
        if info.flag_bits & 0x1:
            raise BrokenSubmission(f"the zip file is encrypted ({info.filename}); submit it without a password")
        if any(is_junk(part) for part in path.parts):
            continue
        if not info.is_dir():
            files += 1
            declared += info.file_size
        if files > MAX_FILES:
            raise BrokenSubmission(f"the zip file holds more than {MAX_FILES} files")
        if declared > MAX_TOTAL_BYTES:
            raise BrokenSubmission(_too_big())
        members.append((info, path))
    if files == 0:
        raise BrokenSubmission("the zip file is empty (it holds no files)")
    return members


def _safe_path(name: str) -> PurePosixPath:
    # Zips made on Windows may use backslashes; unpacked on Linux they would be part of a file name.
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise BrokenSubmission(f"the zip file contains an absolute path ({name}); it may only hold relative paths")
    if ".." in path.parts:
        raise BrokenSubmission(f"the zip file contains a path that leaves its folder ({name})")
    if not path.parts:
        raise BrokenSubmission(f"the zip file contains an entry with an empty name ({name!r})")
    return path


def _extract(zf: zipfile.ZipFile, members: list[tuple[zipfile.ZipInfo, PurePosixPath]], target: Path) -> None:
    written = 0
    for info, path in members:
        destination = target.joinpath(*path.parts)
        try:
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as source, open(destination, "xb") as sink:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > MAX_TOTAL_BYTES:
                        raise BrokenSubmission(_too_big())
                    sink.write(chunk)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise BrokenSubmission(f"the zip file holds {info.filename} twice, or as both a file and a folder") from None


def _too_big() -> str:
    return f"the zip file unpacks to more than {MAX_TOTAL_BYTES // 1024**2} MiB (a zip bomb, or files that do not belong in a submission)"
