"""A Jupyter notebook as one Python source: its code cells in order, magics and shell lines taken out.

Read with nbformat (any notebook format version it knows). Each code cell must parse on its own; a cell
that does not (a half-written cell, a cell magic other than %%time and %%capture, whose body is the
notebook's code) is left out whole and said so. The joined source keeps a
map from its lines back to cells, so a traceback line can name the cell and the line in it. Cells are
counted from the top of the notebook, markdown cells included, as they appear on screen.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
import warnings
from dataclasses import dataclass

from grader.intake.extract import MAX_SHOWN, MAX_SOURCE_CHARS, SourceError, normalise

# The notebook is the student's: everything here runs in the grader's own process, so each step is bounded
# before it runs: its size and the values the JSON parser would build are counted before parsing, and the
# parser refuses nesting deeper than Python's recursion limit (RecursionError).
MAX_NOTEBOOK_BYTES = 50 * 1024**2  # notebooks carry their plots' images; the code is a small part
MAX_CELLS = 3000  # a long assignment notebook has a few hundred
MAX_JSON_VALUES = 1_000_000  # json.loads builds these at up to 0.5 us each; a long notebook with outputs has 100,000
# Cell magics whose body IPython runs as a cell of the notebook, in its namespace (%%time execs it there,
# %%capture runs it with run_cell), so what the body defines exists afterwards; any other's body is left out.
BODY_RUNS_AS_PYTHON = frozenset({"time", "capture"})


@dataclass(frozen=True)
class SkippedCell:
    cell: int  # 1-based position in the notebook, markdown cells included
    why: str  # one line: what made the grader leave it out


@dataclass(frozen=True)
class NotebookSource:
    text: str  # the code cells joined, one blank line between cells
    cells: tuple[tuple[int, int], ...]  # for each line of `text` (index line - 1): (cell, line in cell), 0s between
    skipped_cells: tuple[SkippedCell, ...]  # cells left out whole before extraction
    magic_lines: tuple[tuple[int, int], ...]  # (cell, line) of each magic or shell line removed

    def where(self, line: int) -> tuple[int, int] | None:
        """(cell, line in cell) of a line of `text`, or None for a line between cells."""
        if 1 <= line <= len(self.cells) and self.cells[line - 1][0]:
            return self.cells[line - 1]
        return None


def read_notebook(data: bytes, filename: str) -> NotebookSource:
    """The notebook's code as one source; SourceError (one line) if it is not a notebook."""
    outcome = _parsed(data)
    if isinstance(outcome, str):
        raise SourceError(f"{filename} {outcome}")
    return outcome


class _Refused(Exception):
    """Why the bytes are not a notebook the grader reads: a sentence whose subject, the file's name, is left out."""


def _parsed(data: bytes) -> NotebookSource | str:
    """read_notebook's answer for `data`: the source, or the refusal without the file's name."""
    if len(data) > MAX_NOTEBOOK_BYTES:  # before hashing it
        return (f"is {len(data) / 1024**2:.0f} MiB, more than the {MAX_NOTEBOOK_BYTES // 1024**2} MiB allowed; "
                "clear its outputs and submit again")
    held = _Held(data)
    try:
        return _parsed_once(hashlib.sha256(data).digest(), held)
    finally:
        held.data = b""  # the cache keeps the key, not the notebook's bytes


class _Held:
    """The bytes beside their digest in the cache's key: equal to any other, so the digest alone decides."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Held)

    def __hash__(self) -> int:
        return 0


# One grading reads the same notebook three times (the command line tells one submission from a class, locate
# ranks the candidates, prepare extracts the graded one), each through a different caller; the bytes' digest
# makes the parse, or the refusal, happen once. A digest, not a path: prepare reads a copy, and a file can change.
@functools.lru_cache(maxsize=4)
def _parsed_once(digest: bytes, held: _Held) -> NotebookSource | str:
    try:
        return _read(held.data)
    except _Refused as exc:
        return str(exc)


def _read(data: bytes) -> NotebookSource:
    # Every value but the first follows a comma, a colon or an opening bracket: counting them (in C, linear)
    # bounds what json.loads would build before it builds it. Padding (cell metadata, outputs) is refused here.
    values = data.count(b",") + data.count(b":") + data.count(b"[")
    if values > MAX_JSON_VALUES:
        raise _Refused(f"holds up to {values:,} JSON values (outputs, metadata), more than the {MAX_JSON_VALUES:,} "
                       "allowed; clear its outputs and submit again")
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Refused("is not UTF-8 text, so it is not a notebook; save it from Jupyter and submit again") from None
    except RecursionError:  # the C parser counts its nesting against the recursion limit
        raise _Refused("nests its JSON deeper than a notebook does, so it is not one; save it from Jupyter and "
                       "submit again") from None
    except ValueError as exc:
        raise _Refused(f"is not JSON ({_shorten(str(exc))}), so it is not a notebook; save it from Jupyter and "
                       "submit again") from None
    if not isinstance(raw, dict):
        raise _Refused("is JSON but not a notebook (an object holding cells); save it from Jupyter and submit again")
    _check_cell_count(raw)
    # Imported on the first notebook only: nbformat costs about 0.07 s of CPU, which grading a plain rnn.py
    # (most submissions, every grading process of a class run) never needs.
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing cell ids and the like: harmless here
            # Read and upgraded to version 4 from the cells' kinds and code alone, not validated against the
            # schema: only the code is used; nbformat built a node of every value of the rest (a 30 MB notebook
            # of cell metadata cost it 4.8 s of CPU), and its validator crashed on some off-schema values.
            major, minor = nbformat.reader.get_version(raw)
            notebook = nbformat.convert(nbformat.versions[major].to_notebook_json(_code_only(raw), minor=minor), 4)
        cells = [(cell.get("cell_type"), cell.get("source", "")) for cell in notebook.cells]
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for many broken files
        raise _Refused(f"could not be read as a Jupyter notebook ({type(exc).__name__}); save it from Jupyter "
                       "and submit again") from None
    code = [(number, source) for number, (kind, source) in enumerate(cells, start=1)
            if kind == "code" and isinstance(source, str)]
    size = sum(len(source) for _, source in code)
    if size > MAX_SOURCE_CHARS:
        raise _Refused(f"holds {size:,} characters of code, more than the {MAX_SOURCE_CHARS:,} allowed; "
                       "submit only your code")
    lines_out: list[str] = []
    where: list[tuple[int, int]] = []
    skipped, magics = [], []
    for number, source in code:
        if not source.strip():
            continue
        lines = normalise(source).split("\n")
        magic = lines[0].lstrip()
        if magic.startswith("%%") and (magic[2:].split(None, 1) or [""])[0] in BODY_RUNS_AS_PYTHON:
            lines[0] = ""
            magics.append((number, 1))
        elif magic.startswith("%%"):
            skipped.append(SkippedCell(number, f"a cell magic ({_shorten(lines[0].strip())})"))
            continue
        cleaned, removed = _without_magics(lines)
        magics += [(number, line_number) for line_number in removed]
        try:
            ast.parse("\n".join(cleaned))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            at_line = getattr(exc, "lineno", None)
            at = f" at line {at_line}" if at_line else ""
            skipped.append(SkippedCell(number, f"it is not valid Python{at} ({getattr(exc, 'msg', type(exc).__name__)})"))
            continue
        lines_out += cleaned + [""]
        where += [(number, n) for n in range(1, len(cleaned) + 1)] + [(0, 0)]
    return NotebookSource("\n".join(lines_out), tuple(where), tuple(skipped), tuple(magics))


def _cell_lists(raw: dict) -> list[list]:
    """The parsed JSON's lists of cells: nbformat 4's one, or 3's one per worksheet."""
    lists, worksheets = [raw.get("cells")], raw.get("worksheets")
    if isinstance(worksheets, list):
        lists += [w.get("cells") for w in worksheets if isinstance(w, dict)]
    return [cells for cells in lists if isinstance(cells, list)]


def _code_only(raw: dict) -> dict:
    """The parsed JSON with only what tells a cell's kind and code, in every format version nbformat reads: no
    metadata, outputs or attachments, and no key nbformat would act on otherwise (a v3 heading's level is a
    count of '#' it writes out)."""
    kept = {key: raw[key] for key in ("nbformat", "nbformat_minor") if key in raw}
    kept["metadata"] = {}
    if isinstance(raw.get("cells"), list):
        kept["cells"] = [_cell(cell) for cell in raw["cells"]]
    if isinstance(raw.get("worksheets"), list):
        kept["worksheets"] = [{"cells": [_cell(cell) for cell in sheet["cells"]], "metadata": {}}
                              for sheet in raw["worksheets"] if isinstance(sheet, dict)
                              and isinstance(sheet.get("cells"), list)]
    return kept


_CELL_KEYS = ("cell_type", "source", "input", "code")  # v4 and v3's source, v3 and v2's input, v1's code


def _cell(cell: object) -> dict:
    if not isinstance(cell, dict):
        return {"metadata": {}}
    kept: dict[str, object] = {key: value for key in _CELL_KEYS if isinstance(value := cell.get(key), str)
            or isinstance(value, list) and all(isinstance(line, str) for line in value)}  # a source's lines
    kept["metadata"] = {}
    if kept.get("cell_type") == "code":
        kept["outputs"] = []  # a code cell must have the key (and v3's upgrade reads it)
    return kept


def _check_cell_count(raw: dict) -> None:
    """_Refused if the parsed JSON holds more than MAX_CELLS cells (nbformat 4's list or 3's worksheets)."""
    count = sum(len(cells) for cells in _cell_lists(raw))
    if count > MAX_CELLS:
        raise _Refused(f"holds {count:,} cells, more than the {MAX_CELLS:,} allowed; submit only your notebook")


def _without_magics(lines: list[str]) -> tuple[list[str], list[int]]:
    """`lines` with IPython's magic and shell lines blanked, and their numbers (1-based).

    IPython reads % and ! as its own only where a logical line starts, so a cell that parses as Python
    holds none: `!= "unused"` or `% step, 1)` on a continuation line inside brackets stays (Black puts
    operators there). Otherwise each line is scanned once, bracket depth, strings and backslash
    continuations tracked, to test only the lines that start a logical line.
    """
    try:
        ast.parse("\n".join(lines))
        return lines, []
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    cleaned, removed = [], []
    logical = _LogicalLines()
    for line_number, line in enumerate(lines, start=1):
        if logical.at_start and is_magic(line):
            removed.append(line_number)
            line = ""
        else:
            logical.feed(line)
        cleaned.append(line)
    return cleaned, removed


# What decides where a logical line ends: a backslash (with the character it escapes), a string's quotes, a
# comment, a bracket. A literal or a character class each: nothing to backtrack over.
_SIGNIFICANT = re.compile(r"""\\.?|'''|\"\"\"|['"#()\[\]{}]""")


class _LogicalLines:
    """Whether the next line starts a logical line, fed one physical line at a time (each character once)."""

    def __init__(self) -> None:
        self.depth = 0  # open brackets
        self.quote = ""  # the open string's quote, "" outside one
        self.continued = False  # the last line ended in a backslash

    @property
    def at_start(self) -> bool:
        return not (self.depth or self.quote or self.continued)

    def feed(self, line: str) -> None:
        self.continued = False
        position = 0
        while match := _SIGNIFICANT.search(line, position):
            token, position = match.group(), match.end()
            if token[0] == "\\":
                self.continued = len(token) == 1  # the line's end escaped; else a character in a string
            elif self.quote:
                if token[0] == self.quote[0] and len(token) >= len(self.quote):
                    self.quote = ""  # ''' closing a ' string opens and closes an empty one: closed all the same
            elif token == "#":
                break
            elif token[0] in "'\"":
                self.quote = token
            elif token in "([{":
                self.depth += 1
            else:
                self.depth = max(0, self.depth - 1)
        if len(self.quote) == 1 and not self.continued:
            self.quote = ""  # a one-quote string ends with its line (left open, the cell does not parse anyway)


def is_magic(line: str) -> bool:
    """Whether `line` is IPython's, not Python's: `%matplotlib inline`, `!pip install`, `files = !ls`.

    One pass over the line, by hand: the regular expression this replaces backtracked quadratically on a
    line of spaces (64k spaces cost 31 s of the grader's CPU).
    """
    stripped = line.lstrip()
    if stripped[:1] in ("%", "!"):
        return True
    targets, equals, value = stripped.partition("=")
    return (bool(equals) and bool(targets) and value.lstrip()[:1] in ("%", "!")
            and all(c.isalnum() or c == "_" or c == "," or c.isspace() for c in targets))


def _shorten(code: str) -> str:
    return code if len(code) <= MAX_SHOWN else code[: MAX_SHOWN - 3] + "..."
