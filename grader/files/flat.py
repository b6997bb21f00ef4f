"""A student's flat files from an LMS download, put back together as the folder the student uploaded.

Canvas names each file `lastfirst_USERID_ATTACHMENTID_name` (grader.files.lms_names); the student's code
imports `model`, not `quistrita_1001_54336_model`, so each file goes in under the name the student gave it.
A zip among the files is unpacked: at the top when it is the student's only file (the usual upload of a
zipped folder), else into a folder named after it. Every file is read as a submission's files are (regular
files only, never through a link, within a submission's bounds): a problem is the submission's
BrokenSubmission, never the class run's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.files.archive import BrokenSubmission, unpack
from grader.sandbox.scratch import (
    MAX_BYTES,
    MAX_FILES,
    Refused,
    read_regular_file,
    shown,
)

Files = Sequence[tuple[str, Path]]  # (the name the student gave it, the file in the class folder)


def stage(files: Files, target: Path) -> None:
    """Put `files` into the existing empty folder `target` under the students' names."""
    if len(files) > MAX_FILES:
        raise BrokenSubmission(f"the student has more than {MAX_FILES} files; submit your code and the files it needs only")
    total = 0
    taken = {name.casefold() for name, _ in files}
    for name, path in files:
        data = _read(path)
        total += len(data)
        if total > MAX_BYTES:
            raise BrokenSubmission(f"the student's files hold more than {MAX_BYTES // 1024**2} MiB")
        destination = target / name
        if name.lower().endswith(".zip") and len(name) > len(".zip"):
            if len(files) > 1:
                destination = target / _unzipped_folder(name, taken)
                try:
                    destination.mkdir()
                except OSError as exc:
                    raise BrokenSubmission(f"{shown(name)} could not be unpacked ({exc.strerror or exc})") from None
            else:
                destination = target
            archive = target.parent / f".{target.name}-upload.zip"
            archive.write_bytes(data)
            try:
                unpack(archive, destination)
            finally:
                archive.unlink()
        else:
            try:
                with open(destination, "xb") as f:
                    f.write(data)
            except OSError as exc:
                raise BrokenSubmission(f"{shown(name)} could not be copied ({exc.strerror or exc})") from None


def _unzipped_folder(name: str, taken: set[str]) -> str:
    """The folder a zip among the student's files goes into: its stem, unless another of the files has that
    name (rnn beside rnn.zip) or it is . or .. (..zip); then the zip's own name, which no file takes, the
    student's names being all different (lms_names.original_names)."""
    stem = name[: -len(".zip")]
    return name if stem in (".", "..") or stem.casefold() in taken else stem


def _read(path: Path) -> bytes:
    try:
        return read_regular_file(path)
    except Refused as exc:
        raise BrokenSubmission(str(exc)) from None
