"""Unpacking a submitted zip file without trusting it (grader.intake then finds the submission in it).

A zip from an LMS is the student's file, so it is checked as a whole before anything is written: no
absolute paths or `..` (also with Windows backslashes), no links or device entries, no encryption, at most
MAX_ENTRIES entries, MAX_FILES files, MAX_FOLDERS folders and MAX_TOTAL_BYTES when unpacked, no path
deeper than MAX_PATH_DEPTH or longer than MAX_PATH_BYTES and no name longer than the file systems allow.
The sizes in the zip's headers can lie, so the bytes actually unpacked are counted too, and a member
declaring more than MAX_RATIO times its compressed size (over RATIO_FLOOR) is refused before anything is
unpacked. The central directory's size and entry count are read from its end record before zipfile opens
it (grader.files.zipsafe). Any of these, and any corrupt data (a broken deflate stream included), makes
the submission broken, with the reason in words (names quoted short and printable).
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from grader.files.listing import is_junk
from grader.files.zipsafe import CORRUPT, MAX_DIRECTORY_BYTES, read_end

# The bounds of every submission, folder or zip; no point unpacking more bytes than the sandbox takes.
from grader.sandbox.scratch import MAX_BYTES as MAX_TOTAL_BYTES
from grader.sandbox.scratch import (
    MAX_FILES,
    MAX_FOLDERS,
    MAX_NAME_BYTES,
    MAX_PATH_BYTES,
    MAX_PATH_DEPTH,
    shown,
)

MAX_ARCHIVE_BYTES = 50 * 1024**2
# Entries of any kind, junk included: a zipped repository brings its .git (thousands of objects), which is
# skipped, not refused; only what is unpacked is held to MAX_FILES and MAX_FOLDERS.
MAX_ENTRIES = 100 * MAX_FILES
MAX_RATIO = 100  # text compresses 3-10 times; more, on a member of some size, is a bomb
RATIO_FLOOR = 1024**2
CHUNK = 1 << 20


class BrokenSubmission(Exception):
    """The submission cannot be graded at all; the message says why, for the student and the teacher."""


def unpack(archive: Path, target: Path) -> None:
    """Unpack `archive` into the empty folder `target`, refusing anything hostile (BrokenSubmission)."""
    size = archive.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise BrokenSubmission(f"the zip file is {size / 1024**2:.0f} MiB, more than the "
                               f"{MAX_ARCHIVE_BYTES // 1024**2} MiB allowed")
    try:
        _check_directory(archive)
        with zipfile.ZipFile(archive) as zf:
            members = _checked_members(zf)
            _extract(zf, members, target)
    except CORRUPT as exc:
        raise BrokenSubmission(f"the zip file is corrupt or not a zip file ({shown(str(exc) or type(exc).__name__)})") from None
    except OSError as exc:  # what the checks above did not foresee must still be this submission's problem
        raise BrokenSubmission(f"the zip file could not be unpacked ({exc.strerror or exc})") from None


def _check_directory(archive: Path) -> None:
    directory = read_end(archive)
    if directory is None:
        raise zipfile.BadZipFile("no end of central directory record")
    if directory.entries > MAX_ENTRIES:
        raise BrokenSubmission(f"the zip file holds {directory.entries} entries, more than the {MAX_ENTRIES} allowed; "
                               "submit your code and the files it needs only")
    if directory.size > MAX_DIRECTORY_BYTES:
        raise BrokenSubmission(f"the zip file's list of entries takes {directory.size / 1024**2:.0f} MiB, more than "
                               f"the {MAX_DIRECTORY_BYTES // 1024**2} MiB allowed; submit your code and the files it needs only")


def _checked_members(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every entry that will be unpacked, with its safe relative path; raise for anything hostile."""
    entries = zf.infolist()
    if len(entries) > MAX_ENTRIES:
        raise BrokenSubmission(f"the zip file holds {len(entries)} entries, more than the {MAX_ENTRIES} allowed; "
                               "submit your code and the files it needs only")
    members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    files, declared, folders = 0, 0, set[PurePosixPath]()
    for info in entries:
        path = _safe_path(info.filename)
        name = shown(info.filename)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise BrokenSubmission(f"the zip file contains a symbolic link ({name}); submit regular files only")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise BrokenSubmission(f"the zip file contains {name}, which is not a regular file or folder")
        if info.flag_bits & 0x1:
            raise BrokenSubmission(f"the zip file is encrypted ({name}); submit it without a password")
        if any(is_junk(part) for part in path.parts):
            continue
        if not info.is_dir():
            files += 1
            declared += info.file_size
        folders.update(path.parents[:-1] if not info.is_dir() else (path, *path.parents[:-1]))
        if files > MAX_FILES:
            raise BrokenSubmission(f"the zip file holds more than {MAX_FILES} files")
        if len(folders) > MAX_FOLDERS:
            raise BrokenSubmission(f"the zip file holds more than {MAX_FOLDERS} folders")
        if declared > MAX_TOTAL_BYTES:
            raise BrokenSubmission(_too_big())
        if info.file_size > max(RATIO_FLOOR, MAX_RATIO * info.compress_size):
            raise BrokenSubmission(f"{name} in the zip file unpacks to {info.file_size / max(info.compress_size, 1):.0f} times "
                                   f"its packed size, more than the {MAX_RATIO} allowed (a zip bomb)")
        members.append((info, path))
    if files == 0:
        raise BrokenSubmission("the zip file is empty (it holds no files)")
    return members


def _safe_path(name: str) -> PurePosixPath:
    # Zips made on Windows may use backslashes; unpacked on Linux they would be part of a file name.
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise BrokenSubmission(f"the zip file contains an absolute path ({shown(name)}); it may only hold relative paths")
    if ".." in path.parts:
        raise BrokenSubmission(f"the zip file contains a path that leaves its folder ({shown(name)})")
    if not path.parts:
        raise BrokenSubmission(f"the zip file contains an entry with an empty name ({shown(repr(name))})")
    if len(path.parts) > MAX_PATH_DEPTH:
        raise BrokenSubmission(f"the zip file contains a path {len(path.parts)} folders deep, more than the "
                               f"{MAX_PATH_DEPTH} allowed ({shown(name)})")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise BrokenSubmission(f"the zip file contains a path longer than {MAX_PATH_BYTES} bytes ({shown(name)})")
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in path.parts):
        raise BrokenSubmission(f"the zip file contains a file or folder name longer than {MAX_NAME_BYTES} bytes "
                               f"({shown(name)})")
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
            raise BrokenSubmission(f"the zip file holds {shown(info.filename)} twice, or as both a file and a folder") from None


def _too_big() -> str:
    return (f"the zip file unpacks to more than {MAX_TOTAL_BYTES // 1024**2} MiB (a zip bomb, or files that do not "
            "belong in a submission)")
