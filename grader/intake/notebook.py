"""A Jupyter notebook as one Python source: its code cells in order, magics and shell lines taken out.

Read with nbformat (any notebook format version it knows). Each code cell must parse on its own; a cell
that does not (a half-written cell, a cell magic other than %%time and %%capture, whose body is the
notebook's code) is left out whole and said so. The joined source keeps a
map from its lines back to cells, so a traceback line can name the cell and the line in it. Cells are
counted from the top of the notebook, markdown cells included, as they appear on screen.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass

from grader.intake.extract import MAX_SHOWN, MAX_SOURCE_CHARS, SourceError, normalise

# The notebook is the student's: everything here runs in the grader's own process, so each step is bounded
# before it runs. The JSON parser refuses nesting deeper than Python's recursion limit (RecursionError).
MAX_NOTEBOOK_BYTES = 50 * 1024**2  # notebooks carry their plots' images; the code is a small part
MAX_CELLS = 3000  # a long assignment notebook has a few hundred
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
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SourceError(f"{filename} is {len(data) / 1024**2:.0f} MiB, more than the "
                          f"{MAX_NOTEBOOK_BYTES // 1024**2} MiB allowed; clear its outputs and submit again")
    # Imported on the first notebook only: nbformat and its JSON-schema validator cost about 0.07 s of CPU,
    # which grading a plain rnn.py (most submissions, every grading process of a class run) never needs.
    import nbformat

    try:
        raw = json.loads(data.decode("utf-8"))
        _check_cell_count(raw, filename)
        _drop_outputs(raw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing cell ids and the like: harmless here
            # Read and upgraded to version 4, not validated against the schema: the verdict was never used
            # (only the code cells are), compiling the validator cost the first notebook 0.04 s of CPU, and its
            # error reporting crashed on some off-schema values (refusing a notebook whose code reads fine).
            notebook = nbformat.convert(nbformat.reader.reads(json.dumps(raw)), 4)
        cells = [(cell.get("cell_type"), cell.get("source", "")) for cell in notebook.cells]
    except SourceError:
        raise
    except UnicodeDecodeError:
        raise SourceError(f"{filename} is not UTF-8 text, so it is not a notebook; save it from Jupyter "
                          "and submit again") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for many broken files
        raise SourceError(f"{filename} could not be read as a Jupyter notebook ({type(exc).__name__}); "
                          "save it from Jupyter and submit again") from None
    code = [(number, source) for number, (kind, source) in enumerate(cells, start=1)
            if kind == "code" and isinstance(source, str)]
    size = sum(len(source) for _, source in code)
    if size > MAX_SOURCE_CHARS:
        raise SourceError(f"{filename} holds {size:,} characters of code, more than the {MAX_SOURCE_CHARS:,} "
                          "allowed; submit only your code")
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


def _cell_lists(raw: object) -> list[list]:
    """The parsed JSON's lists of cells: nbformat 4's one, or 3's one per worksheet."""
    if not isinstance(raw, dict):
        return []  # nbformat says what is wrong with it
    lists, worksheets = [raw.get("cells")], raw.get("worksheets")
    if isinstance(worksheets, list):
        lists += [w.get("cells") for w in worksheets if isinstance(w, dict)]
    return [cells for cells in lists if isinstance(cells, list)]


def _drop_outputs(raw: object) -> None:
    """Empty what the grader never reads before nbformat validates it: outputs (a notebook with hundreds of
    thousands of empty ones cost nbformat 14.6 s of CPU) and attachments."""
    for cells in _cell_lists(raw):
        for cell in cells:
            if isinstance(cell, dict):
                if "outputs" in cell:
                    cell["outputs"] = []  # a code cell must have the key (and v3's upgrade reads it)
                cell.pop("attachments", None)


def _check_cell_count(raw: object, filename: str) -> None:
    """SourceError if the parsed JSON holds more than MAX_CELLS cells (nbformat 4's list or 3's worksheets)."""
    count = sum(len(cells) for cells in _cell_lists(raw))
    if count > MAX_CELLS:
        raise SourceError(f"{filename} holds {count:,} cells, more than the {MAX_CELLS:,} allowed; "
                          "submit only your notebook")


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
