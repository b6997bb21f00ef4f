"""A submission's code as one text, for fingerprinting: its .py files and notebooks' code cells.

A submission may be a folder, a zip file (read in memory, never unpacked), a single .py or .ipynb file
(known solutions are often single files) or a student's flat files from an LMS download (grader.files.lms_names:
their code files and the code in their zip files). Everything is the student's, so it is read with bounds: a file
whose code is over MAX_CODE_BYTES, or would take the whole past it, is left out (and named), files after
MAX_READ_BYTES read are left out, undecodable bytes are replaced, a zip is opened only once its declared
central directory is known to be small (grader.files.zipsafe), and notebooks go through the grader's one
notebook reader (grader.intake.notebook: its size, cell and code caps, a JSON parser whose nesting is
bounded by Python's recursion guard, each cell parsed on its own). A file that
cannot be read (a notebook that is not one, a zip member whose data is corrupt) is left out and named in
``Code.skipped``; the submission is compared on the rest, or left out of the report when nothing is left.
"""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.files.listing import is_junk, printable_name, submission_files
from grader.files.zipsafe import CORRUPT, MAX_DIRECTORY_BYTES, listable
from grader.intake.extract import SourceError
from grader.intake.notebook import MAX_NOTEBOOK_BYTES, read_notebook
from grader.sandbox.scratch import Refused

CODE_SUFFIXES = (".py", ".ipynb")
# Fingerprinting runs in the grader's process, one pygments token at a time: 64 KiB of brackets (a token a
# byte) took 2.1-2.5 s on a two-core machine at load 23, a real rnn.py (about 4 KiB) 0.06 s.
MAX_CODE_BYTES = 64 * 1024
MAX_READ_BYTES = 64 * 1024**2  # files read (notebooks carry images); the rest of a submission is left out


class UnreadableCode(Exception):
    """The submission's code cannot be read; the message says why."""


@dataclass(frozen=True)
class Code:
    text: str  # every readable code file, each after a `# file: NAME` line
    skipped: tuple[str, ...] = ()  # "NAME: why" for each code file left out


class _Unreadable(Exception):
    """One file cannot be read; the message says why."""


def read_code(path: Path | Sequence[Path]) -> Code:
    """Every code file of `path` (or of a student's flat files) in a stable order; UnreadableCode when none
    can be read."""
    parts, skipped, total, read_bytes = [], [], 0, 0
    try:
        if not isinstance(path, (str, Path)):
            files = _flat_files(path)
        elif (path := Path(path)).is_dir():
            files = _folder_files(path)
        elif path.suffix.lower() == ".zip":
            files = _zip_files(path)
        elif path.suffix.lower() in CODE_SUFFIXES:
            files = iter([(path.name, functools.partial(_read_bounded, path, _limit(path.name)))])
        else:
            raise UnreadableCode(f"{path.name} is neither a folder, a zip file nor a code file")
        for raw_name, read in files:
            # Quoted in the report and its notes: a name not UTF-8 (lone surrogates) or holding terminal escapes
            # would stop the class's similarity.html being written, or steer the terminal it is printed on.
            name = printable_name(raw_name)
            if read_bytes > MAX_READ_BYTES:
                skipped.append(f"{name} and the files after it: past the {MAX_READ_BYTES // 1024**2} MiB read")
                break
            try:
                data = read()
                read_bytes += len(data)
                text = _as_code(name, data)
            except _Unreadable as exc:
                skipped.append(f"{name}: {exc}")
                continue
            if total + len(text) > MAX_CODE_BYTES:
                skipped.append(f"{name}: its code would take the submission past the {MAX_CODE_BYTES // 1024} KiB "
                               "compared")
                continue
            total += len(text)
            parts.append(f"# file: {name}\n{text}")
    except (OSError, *CORRUPT) as exc:
        raise UnreadableCode(f"could not be read ({type(exc).__name__}: {exc})") from None
    except Refused as exc:  # a folder beyond a submission's bounds: not graded, so not compared either
        raise UnreadableCode(str(exc)) from None
    if not parts:
        why = "; ".join(skipped) if skipped else "holds no .py or .ipynb file"
        raise UnreadableCode(why)
    return Code("\n".join(parts), tuple(skipped))


def _limit(name: str) -> int:
    # A notebook carries its plots' images, so it may be far larger than the code in it.
    return MAX_NOTEBOOK_BYTES if name.lower().endswith(".ipynb") else MAX_CODE_BYTES


def _folder_files(folder: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    for relative, full in submission_files(folder):
        full_path = Path(full)
        if (full_path.suffix.lower() in CODE_SUFFIXES and full_path.is_file() and not full_path.is_symlink()
                and not any(is_junk(part) for part in PurePosixPath(relative).parts)):
            yield relative, functools.partial(_read_bounded, full_path, _limit(relative))


def _flat_files(paths: Sequence[Path]) -> Iterator[tuple[str, Callable[[], bytes]]]:
    for path in sorted(paths, key=lambda p: p.name):
        if path.suffix.lower() == ".zip":
            yield from _zip_files(path)
        elif path.suffix.lower() in CODE_SUFFIXES and path.is_file() and not path.is_symlink():
            yield path.name, functools.partial(_read_bounded, path, _limit(path.name))


def _zip_files(archive: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    if not listable(archive):  # zipfile would read a directory of any size into memory
        raise zipfile.BadZipFile(f"no end record, or a central directory over {MAX_DIRECTORY_BYTES // 1024**2} MiB")
    with zipfile.ZipFile(archive) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            name = info.filename.replace("\\", "/")
            if info.is_dir() or not name.lower().endswith(CODE_SUFFIXES) or info.flag_bits & 0x1:
                continue
            if any(is_junk(part) for part in PurePosixPath(name).parts):
                continue
            yield name, functools.partial(_read_member, zf, info)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zf.open(info) as f:
            return f.read(_limit(info.filename) + 1)  # the header's size may lie: read at most this much
    except (*CORRUPT, OSError) as exc:
        raise _Unreadable(f"its data in the zip file is corrupt ({type(exc).__name__}: {exc})") from None


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(limit + 1)
    except OSError as exc:
        raise _Unreadable(f"could not be read ({type(exc).__name__}: {exc.strerror or exc})") from None


def _as_code(name: str, data: bytes) -> str:
    if not name.lower().endswith(".ipynb"):
        if len(data) > MAX_CODE_BYTES:
            raise _Unreadable(f"larger than the {MAX_CODE_BYTES // 1024} KiB of code compared")
        return data.decode("utf-8", errors="replace")
    try:
        return read_notebook(data, PurePosixPath(name).name).text
    except SourceError as exc:  # its message names the file and ends with advice for the student
        raise _Unreadable(str(exc).split("; ")[0].removeprefix(PurePosixPath(name).name + " ")) from None
