"""A submission's code as one text, for fingerprinting: its .py files and notebooks' code cells.

A submission may be a folder, a zip file (read in memory, never unpacked) or a single .py or .ipynb file
(known solutions are often single files). Everything is the student's, so it is read with bounds: a
file over MAX_FILE_BYTES or a whole over MAX_TOTAL_BYTES is cut there, and undecodable bytes are replaced.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from grader.batch.discover import is_junk, submission_files
from grader.sandbox.scratch import Refused

CODE_SUFFIXES = (".py", ".ipynb")
MAX_FILE_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 1024 * 1024


class UnreadableCode(Exception):
    """The submission's code cannot be read; the message says why."""


def read_code(path: Path) -> str:
    """Every code file of `path` in a stable order, each after a `# file: NAME` line."""
    path = Path(path)
    try:
        if path.is_dir():
            files = _folder_files(path)
        elif path.suffix.lower() == ".zip":
            files = _zip_files(path)
        elif path.suffix.lower() in CODE_SUFFIXES:
            files = iter([(path.name, _read_bounded(path))])
        else:
            raise UnreadableCode(f"{path.name} is neither a folder, a zip file nor a code file")
        parts, total = [], 0
        for name, data in files:
            text = _as_code(name, data)
            total += len(text)
            if total > MAX_TOTAL_BYTES:
                break
            parts.append(f"# file: {name}\n{text}")
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        raise UnreadableCode(f"could not be read ({type(exc).__name__}: {exc})") from None
    except Refused as exc:  # a folder beyond a submission's bounds: not graded, so not compared either
        raise UnreadableCode(str(exc)) from None
    if not parts:
        raise UnreadableCode("holds no .py or .ipynb file")
    return "\n".join(parts)


def _folder_files(folder: Path) -> Iterator[tuple[str, bytes]]:
    for relative, full in submission_files(folder):
        full_path = Path(full)
        if full_path.suffix.lower() in CODE_SUFFIXES and full_path.is_file() and not full_path.is_symlink():
            if not any(is_junk(part) for part in PurePosixPath(relative).parts):
                yield relative, _read_bounded(full_path)


def _zip_files(archive: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(archive) as zf:
        infos = sorted(zf.infolist(), key=lambda i: i.filename)
        for info in infos:
            name = info.filename.replace("\\", "/")
            if info.is_dir() or not name.lower().endswith(CODE_SUFFIXES) or info.flag_bits & 0x1:
                continue
            if any(is_junk(part) for part in PurePosixPath(name).parts):
                continue
            with zf.open(info) as f:
                yield name, f.read(MAX_FILE_BYTES)  # the header's size may lie: read at most this much


def _read_bounded(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(MAX_FILE_BYTES)


def _as_code(name: str, data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    if not name.lower().endswith(".ipynb"):
        return text
    try:
        cells = json.loads(text).get("cells", [])
        return "\n\n".join(_cell_source(c) for c in cells if isinstance(c, dict) and c.get("cell_type") == "code")
    except (ValueError, AttributeError):
        return ""  # a truncated or malformed notebook: nothing to compare


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    # Magics and shell lines are not Python; they would only confuse the tokenizer.
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
