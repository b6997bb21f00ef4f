"""The folder the sandbox loads: the submission's files, with an rnn.py made from the file that is graded.

- rnn.py (or RNN.py, "rnn (1).py", any .py the locator chose): copied as it is. If it does work at its top
  level (loading the book, training, plotting), its definitions alone are prepared as well, to be used
  if importing the file as it is fails or runs too long (`use_definitions_only`).
- a notebook: always its definitions alone (notebooks are made of top-level work), with the cells and
  statements left out listed, and line numbers in feedback mapped back to cells.
- in each of them and in every other module of the submission, an import of a package the grader does not
  offer becomes a stand-in that fails only where it is used (grader.intake.imports), and a note says so.

Everything here reads the student's files without running them; what runs, runs later in the sandbox.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError
from grader.files.archive import BrokenSubmission, unpack
from grader.files.flat import stage
from grader.files.listing import is_junk, is_zip, printable_name
from grader.intake.extract import (
    WORK,
    Extraction,
    Skipped,
    SourceError,
    class_methods,
    decode,
    extract,
    normalise,
    parse,
)
from grader.intake.imports import (
    STAND_IN_FILE,
    STAND_IN_MODULE,
    Offered,
    StoodIn,
    absolute_siblings,
    rewrite_imports,
    stand_in,
)
from grader.intake.locate import (
    MODULE_FILE,
    Located,
    NotFound,
    lms_students,
    locate,
    locate_file,
)
from grader.intake.notebook import NotebookSource, read_notebook
from grader.results import SourceKind
from grader.sandbox.claims import claimed_scratch
from grader.sandbox.scratch import Refused, copy_tree_safely, is_a_link, read_regular_file

MAX_LISTED = 12  # statements or cells listed one per line; the rest are counted
MAX_HELPER_CHARS = 2_000_000  # code of the helper modules read for imports to stand in for; the rest as it is
# PEP 263's coding line, as Python (grader.intake.extract.decode) reads it on line 1 or 2.
CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.ASCII)
BLANK = re.compile(r"^[ \t\f]*(?:#|$)")
FRAME = re.compile(r'File "rnn\.py", line (\d+)')
MODULE_NAME = re.compile(r"\brnn\.py\b")
NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")


class NotGradable(GraderError):
    """Nothing in the upload can be graded; the message (one line) says why and what to do."""


@dataclass
class Prepared:
    """A submission ready for the sandbox. `folder` holds rnn.py; `located` says where it came from."""

    folder: Path
    located: Located
    name: str  # the submission's name: its folder, zip or file's folder, as the user gave it
    skipped: tuple[str, ...] = ()  # one line each: a cell or statement left out (notebooks)
    fallback: Extraction | None = None  # rnn.py with more than definitions: the module of its definitions alone
    notebook: NotebookSource | None = None
    encoding: str = "utf-8"
    notes: tuple[str, ...] = field(default=())  # one line each: how the upload was read
    left_out: tuple[Skipped, ...] = ()  # the statements of the module graded that were left out
    # The modules beside rnn.py that do work at their top level (the book loaded in data.py), each with its
    # definitions alone and its encoding: what the definitions-only import uses instead of them.
    helpers: dict[str, tuple[Extraction, str]] = field(default_factory=dict)

    @property
    def graded_file(self) -> str:
        return self.located.relative

    @property
    def work_left_out(self) -> bool:
        """Whether the definitions-only form leaves out work: rnn.py's own, or a helper module's it imports."""
        return self.fallback is not None and bool(self.fallback.work or any(
            alone.work for alone, _ in self.helpers.values()))

    def use_definitions_only(self) -> tuple[str, ...]:
        """Replace rnn.py by its definitions alone; return the lines that say what was left out."""
        assert self.fallback is not None, "only a module with top-level work has a definitions-only form"
        (self.folder / MODULE_FILE).write_bytes(rewritten(self.fallback.text, self.encoding))
        helpers = []
        for name, (alone, encoding) in sorted(self.helpers.items()):
            (self.folder / name).write_bytes(rewritten(alone.text, encoding))
            helpers += [f"{name}, line {s.line}: {s.code} ({s.reason})" for s in alone.skipped]
        self.notes += self.fallback.notes
        self.skipped = _capped([*describe_statements(self.fallback.skipped), *helpers])
        self.left_out = self.fallback.skipped
        return self.skipped

    def relabel(self, text: str) -> str:
        """`text` from the sandbox with rnn.py's lines named as the student knows them (file, cell), and a
        NameError of a name that left-out work sets explained: in Jupyter that name was there."""
        if not text:
            return text
        if self.graded_file != MODULE_FILE:
            text = FRAME.sub(lambda m: f'File "{self.graded_file}", {self.where(int(m.group(1)))}', text)
            text = MODULE_NAME.sub(lambda _: self.graded_file, text)  # a name, not a template (it may hold a backslash)
        return NAME_ERROR.sub(self._left_out_name, text) if self.left_out else text

    def _left_out_name(self, match: re.Match[str]) -> str:
        name = match.group(1)
        setter = next((s for s in self.left_out if s.reason == WORK and name in s.binds), None)
        if setter is None:
            return match.group(0)
        return (f"{match.group(0)} ({name} is set by {self.graded_file}, {self.where(setter.line)}, which was left "
                f"out as it {WORK}: a function must not use what top-level work makes)")

    def where(self, line: int) -> str:
        """"line N", or "cell C, line L" in a notebook."""
        if self.notebook is None:
            return f"line {line}"
        cell = self.notebook.where(line)
        return f"cell {cell[0]}, line {cell[1]}" if cell else f"line {line}"


@contextlib.contextmanager
def prepare(path: Path, functions: tuple[str, ...], offered: Offered | None = None) -> Iterator[Prepared]:
    """The submission at `path` (a folder, a zip file, rnn.py's or a notebook's path), ready for the sandbox.

    With `offered` (what the sandbox lets a submission import), imports of anything else become stand-ins.
    Raises NotGradable when there is nothing to grade. The temporary folders are removed on exit.
    """
    path = Path(path)
    # A file given as a link may be the student's (a Classroom repository's rnn.py): not followed. A folder given
    # as one is whoever runs the grader's (a course's shared folder, Gradescope's upload folder): read through
    # it, and nothing inside it is followed.
    if path.is_symlink() and not path.is_dir():
        raise NotGradable(is_a_link(printable_name(path.name), path))
    with claimed_scratch("intake-") as temp:  # swept by a later run if this process is killed meanwhile
        located, name = _find(path, temp, functions)
        folder = temp / "prepared"
        folder.mkdir()
        try:
            if located.alone:
                data = read_regular_file(located.file)
            else:
                copy_tree_safely(located.root, folder)
                data = (folder / located.file.relative_to(located.root)).read_bytes()  # the copy that was checked
        except Refused as exc:
            raise NotGradable(str(exc)) from None
        prepared = Prepared(folder, located, name, notes=located.notes)
        (folder / MODULE_FILE).write_bytes(data)  # as it is, until made otherwise below
        offered = offered.with_own(_own_modules(folder)) if offered is not None else None
        if located.kind is SourceKind.NOTEBOOK:
            _prepare_notebook(prepared, data, offered)
        else:
            _prepare_module(prepared, data, offered)
        _bind_class_methods(prepared, functions)
        _rewrite_modules(prepared, offered)
        if prepared.helpers and prepared.fallback is None:  # rnn.py does no work, a module beside it does
            _fall_back_as_it_is(prepared)
        yield prepared


def _find(path: Path, temp: Path, functions: tuple[str, ...]) -> tuple[Located, str]:
    """The graded file and the submission's name; a zip (or a folder holding only a zip) is unpacked in `temp`."""
    try:
        if is_zip(path):
            (temp / "unpacked").mkdir()
            unpack(path, temp / "unpacked")
            return locate(temp / "unpacked", functions), path.name[: -len(".zip")]
        if path.is_dir():
            if (staged := _lms_files(path, temp)) is not None:
                return locate(staged, functions), path.name
            try:
                located = locate(path, functions)
            except NotFound:
                inside = [p for p in path.iterdir() if not is_junk(p.name)]
                if len(inside) == 1 and is_zip(inside[0]) and not inside[0].is_symlink():  # an upload of the zip itself
                    return _find(inside[0], temp, functions)
                raise
            return located, located.root.resolve().name  # the student's folder, when inside the one given
        if path.is_file():
            return locate_file(path, functions), path.resolve().parent.name
    except (NotFound, BrokenSubmission) as exc:
        raise NotGradable(str(exc)) from None
    raise NotGradable(f"no such file or folder: {path}")


def _lms_files(folder: Path, temp: Path) -> Path | None:
    """One student's flat files from an LMS download (Canvas: `quistrita_1001_54336_model.py`), put together
    in `temp` under the names the student gave them, so that `import model` finds model.py; None when
    `folder` is not that."""
    students = lms_students(folder)
    # Only when every file is that student's: a folder of the student's own may hold one named like Canvas's.
    if len(students) != 1 or len([p for p in folder.iterdir() if not is_junk(p.name)]) != len(students[0].files):
        return None
    (temp / "files").mkdir()
    stage(students[0].files, temp / "files")
    return temp / "files"


def _prepare_module(prepared: Prepared, data: bytes, offered: Offered | None) -> None:
    try:
        source, encoding = decode(data)
        extraction = extract(source, prepared.graded_file, offers=offered.offers if offered else None)
    except (SyntaxError, LookupError, UnicodeDecodeError, SourceError):
        return  # importing it as it is will say what is wrong, with the file and the line
    if offered is not None:
        def where(line: int) -> str:
            return f"{prepared.graded_file}, line {line}"

        text, stood_in = _stood_in(normalise(source), offered, where)
        if stood_in:
            (prepared.folder / MODULE_FILE).write_bytes(rewritten(text, encoding))
            _note(prepared, stood_in)
        extraction = dataclasses.replace(extraction, text=_stood_in(extraction.text, offered, where)[0])
    if extraction.skipped:  # top-level work, or imports the functions do not use (a module the grader may lack)
        prepared.fallback = extraction
        prepared.encoding = encoding


def _fall_back_as_it_is(prepared: Prepared) -> None:
    """rnn.py, as prepared, as its own definitions-only form: only its helpers' are different."""
    try:
        text, encoding = decode((prepared.folder / MODULE_FILE).read_bytes())
    except (OSError, SyntaxError, LookupError, UnicodeDecodeError):
        prepared.helpers = {}
        return
    prepared.fallback = Extraction(normalise(text), ())
    prepared.encoding = encoding


def _prepare_notebook(prepared: Prepared, data: bytes, offered: Offered | None) -> None:
    try:
        notebook = read_notebook(data, prepared.graded_file)
        extraction = extract(notebook.text, prepared.graded_file, offers=offered.offers if offered else None)
    except SourceError as exc:
        raise NotGradable(str(exc)) from None
    prepared.notebook = notebook
    prepared.left_out = extraction.skipped
    text = extraction.text
    if offered is not None:
        text, stood_in = _stood_in(text, offered, lambda line: f"{prepared.graded_file}, {prepared.where(line)}")
        _note(prepared, stood_in)
    (prepared.folder / MODULE_FILE).write_text(text, encoding="utf-8")
    cells = [(c.cell, f"cell {c.cell}: left out, {c.why}") for c in notebook.skipped_cells]
    cells += _describe_cells(extraction.skipped, notebook, extraction.text)
    lines = [line for _, line in sorted(cells, key=lambda item: item[0])]
    magics = sorted({cell for cell, _ in notebook.magic_lines})
    if magics:
        lines.append(f"magic and shell lines (% and !) left out in cell{'s' if len(magics) > 1 else ''} "
                     + ", ".join(map(str, magics)))
    prepared.skipped = _capped(lines)


def _bind_class_methods(prepared: Prepared, functions: tuple[str, ...]) -> None:
    """Bind at rnn.py's end the contract's functions it defines only as methods of one class: static or class
    methods from the class (`forward = RNN.forward`), methods of a class whose methods read no instance's own
    state from an instance made without its __init__, in the file as it is and in its definitions alone (where
    what the file bound through an instance made from top-level work is gone); a note says so, and another
    names those that need an instance the grader cannot make, with what they read of it."""
    path = prepared.folder / MODULE_FILE
    try:
        source, encoding = decode(path.read_bytes())
        lines, notes = _class_bindings(normalise(source), prepared.graded_file, functions)
    except (OSError, SyntaxError, LookupError, UnicodeDecodeError, SourceError):
        return  # importing it will say what is wrong
    if lines:
        # Appended after the last line, so every line of the student's keeps its number in tracebacks.
        path.write_bytes(rewritten(source + lines, encoding))
    prepared.notes += notes
    if prepared.fallback is not None:
        try:
            lines, notes = _class_bindings(prepared.fallback.text, prepared.graded_file, functions)
        except SourceError:
            return
        prepared.fallback = dataclasses.replace(prepared.fallback, text=prepared.fallback.text + lines,
                                                notes=tuple(n for n in notes if n not in prepared.notes))


def _class_bindings(source: str, graded_file: str, functions: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The lines binding what `source` defines only as methods (grader.intake.extract.class_methods), and the
    notes saying how."""
    methods = class_methods(parse(source, MODULE_FILE), functions)
    lines, notes = "", []
    if methods.bindable:
        names = [f for f in functions if f in methods.bindable]
        lines += "".join(f"{f} = {methods.bindable[f]}.{f}\n" for f in names)
        notes.append(f"{graded_file} defines {listed(names)} as static or class methods of "
                     f"{_classes(names, methods.bindable)}, not at its top level: graded as the contract's "
                     "functions; define them at the top level of the file")
    if methods.through_instance:
        names = [f for f in functions if f in methods.through_instance]
        # object.__new__: the student's __init__ may need what only top-level work makes (the book's K); the
        # methods read nothing an instance holds, so every instance computes as the student's own.
        lines += "".join(f"{f} = object.__new__({methods.through_instance[f]}).{f}\n" for f in names)
        notes.append(f"{graded_file} defines {listed(names)} only as methods of "
                     f"{_classes(names, methods.through_instance)}, which read nothing an instance holds: graded "
                     "through an instance the grader made without calling __init__; define the contract's "
                     "functions at the top level of the file")
    if methods.need_instance:
        names = [f for f in functions if f in methods.need_instance]
        reads = "; ".join(f"{f}: {methods.state[f]}" for f in names)
        notes.append(f"{graded_file} defines {listed(names)} only as methods of {_classes(names, methods.need_instance)}"
                     f", which read what an instance holds ({reads}), so the grader cannot make an instance that "
                     "computes as yours: define the contract's functions at the top level of the file, taking what "
                     "they need as arguments")
    return ("\n\n" + lines if lines else ""), tuple(notes)


def _classes(names: list[str], owners: dict[str, str]) -> str:
    return listed(sorted({owners[f] for f in names}))


def _rewrite_modules(prepared: Prepared, offered: Offered | None) -> None:
    """The submission's modules, each read and parsed once within one budget, rewritten as they need
    (grader.intake.imports.rewrite_imports), with a note for each change:

    - with `offered`, stand-ins in every module but rnn.py (whose own were made with its definitions alone);
    - in the files at the top of the prepared folder, relative imports of sibling modules made absolute, in
      rnn.py's definitions alone too; not in a notebook's code, where, as in Jupyter, a relative import fails.

    The graded file's copy under its own name, beside the rnn.py made from it (A4.py), is never imported.
    """
    own = frozenset(_own_modules(prepared.folder))
    budget = MAX_HELPER_CHARS
    graded = prepared.located.file.relative_to(prepared.located.root).as_posix()
    at = Path(prepared.graded_file).parent  # the folder as the student named it: src/ of src/rnn.py
    notes: list[str] = []
    any_stood_in = False
    imported: dict[str, set[str]] = {}  # for each module at the top of the folder, the modules it imports
    for path in sorted(prepared.folder.rglob("*.py")):
        relative = path.relative_to(prepared.folder).as_posix()
        if (relative == f"{STAND_IN_MODULE}.py" or (relative == graded and graded != MODULE_FILE)
                or path.is_symlink() or not path.is_file()):
            continue
        siblings = path.parent == prepared.folder and not (relative == MODULE_FILE and prepared.notebook is not None)
        stand_ins = offered if relative != MODULE_FILE else None
        if not siblings and stand_ins is None:
            continue
        try:
            source, encoding = decode(path.read_bytes())
            source = normalise(source)
        except (OSError, SyntaxError, LookupError, UnicodeDecodeError):
            continue  # importing it will say what is wrong
        budget -= len(source)
        if budget < 0:
            break
        try:
            tree = parse(source, path.name)
        except SourceError:
            continue  # importing it will say what is wrong

        def where(line: int, name: str = relative) -> str:
            return f"{name}, line {line}"

        text, stood_in, changed = rewrite_imports(source, tree, stand_ins, own if siblings else frozenset(), where)
        if siblings and prepared.located.kind is SourceKind.MODULE:
            imported[relative] = _imported_names(tree)
            if relative != MODULE_FILE:
                _helper_alone(prepared, relative, text, encoding)
        if not stood_in and not changed:
            continue
        path.write_bytes(rewritten(text, encoding))
        notes += [s.note() for s in stood_in]
        any_stood_in = any_stood_in or bool(stood_in)
        if changed and path.name == MODULE_FILE and prepared.fallback is not None:
            fallback = prepared.fallback.text
            fallback = absolute_siblings(fallback, parse(fallback, MODULE_FILE), own)[0]
            prepared.fallback = dataclasses.replace(prepared.fallback, text=fallback)
        name = prepared.graded_file if path.name == MODULE_FILE else (at / path.name).as_posix()
        why = "(the grader imports your files as modules of their own, not as a package)"
        notes += [f"{name}, line {line}: {what} {why}" for line, what in changed]
    prepared.notes += _capped(notes)  # per submission: a class of files each noted would flood the report
    if any_stood_in:
        _write_stand_in_module(prepared)
    reached, todo = {MODULE_FILE}, [MODULE_FILE]
    while todo:  # the helpers rnn.py imports, itself or through another of them: the others never run
        for helper in (f"{name}.py" for name in imported.get(todo.pop(), ())):
            if helper in prepared.helpers and helper not in reached:
                reached.add(helper)
                todo.append(helper)
    prepared.helpers = {name: alone for name, alone in prepared.helpers.items() if name in reached}


def _imported_names(tree: ast.Module) -> set[str]:
    """The top-level names of the modules `tree` imports anywhere (a relative import's as an absolute one's)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {node.module.partition(".")[0]} if node.module else {a.name for a in node.names}
    return names


def _helper_alone(prepared: Prepared, name: str, text: str, encoding: str) -> None:
    """Keep `name`'s definitions alone (prepared.helpers) if it does work at its top level: rnn.py importing it
    runs that work, and a failure there would cost every function, as rnn.py's own work would. Not in a
    notebook's submission: what is left out of it is listed by cell, and a helper's work is not in a cell."""
    try:
        alone = extract(text, name, drop_unused_imports=False)
    except SourceError:
        return  # importing it will say what is wrong
    if alone.work:
        prepared.helpers[name] = (alone, encoding)


def rewritten(text: str, encoding: str) -> bytes:
    """A module's rewritten `text` (read from a file in `encoding`) as the file to write: UTF-8, its coding line
    (if it declares another encoding) left blank, so that the line numbers stay.

    Not in the declared encoding: what the grader writes comes from the syntax tree, whose names Python has
    normalised (NFKC: a micro sign µ is read as Greek mu, which latin-1 cannot encode). UTF-8 encodes any text
    that parses (the parser refuses lone surrogates).
    """
    text = normalise(text)  # Python reads \r and \r\n as line ends too: the same lines
    if encoding not in ("utf-8", "utf-8-sig"):
        lines = text.split("\n", 2)
        for number, line in enumerate(lines[:2]):
            if CODING.match(line):
                lines[number] = ""
                break
            if not BLANK.match(line):
                break  # code on line 1: Python reads no coding line after it
        text = "\n".join(lines)
    return text.encode("utf-8")


def listed(names: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _stood_in(source: str, offered: Offered, where) -> tuple[str, tuple[StoodIn, ...]]:
    """`source` with stand-ins for the imports the grader does not offer (as it is if it does not parse)."""
    try:
        return stand_in(source, parse(source, "rnn.py"), offered, where)
    except SourceError:
        return source, ()


def _note(prepared: Prepared, stood_in: tuple[StoodIn, ...]) -> None:
    if stood_in:
        prepared.notes += _capped([s.note() for s in stood_in])
        _write_stand_in_module(prepared)


def _write_stand_in_module(prepared: Prepared) -> None:
    (prepared.folder / f"{STAND_IN_MODULE}.py").write_text(STAND_IN_FILE, encoding="utf-8")


def _own_modules(folder: Path) -> set[str]:
    """The top-level names the submission's own files and folders can be imported by."""
    return {p.stem if p.suffix == ".py" else p.name for p in folder.iterdir() if p.suffix == ".py" or p.is_dir()}


def describe_statements(skipped: tuple[Skipped, ...]) -> tuple[str, ...]:
    """One line per top-level statement of rnn.py left out."""
    return _capped([f"line {s.line}: {s.code} ({s.reason})" for s in skipped])


def _describe_cells(skipped: tuple[Skipped, ...], notebook: NotebookSource, text: str) -> list[tuple[int, str]]:
    """One line per cell left out whole, or per statement left out of a cell that keeps some code."""
    keeps_code = set()
    for number, code in enumerate(text.split("\n"), start=1):
        if (where := notebook.where(number)) and _is_code(code):
            keeps_code.add(where[0])
    by_cell: dict[int, list[tuple[int, Skipped]]] = {}
    for s in skipped:
        cell, line = notebook.where(s.line) or (0, s.line)
        by_cell.setdefault(cell, []).append((line, s))
    described: list[tuple[int, str]] = []
    for cell, items in sorted(by_cell.items()):
        if cell not in keeps_code and all(s.reason == WORK for _, s in items):
            described.append((cell, f"cell {cell}: left out, it {WORK} ({items[0][1].code})"))
        else:
            described += [(cell, f"cell {cell}, line {line}: {s.code} ({s.reason})") for line, s in items]
    return described


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= MAX_LISTED:
        return tuple(lines)
    return tuple(lines[:MAX_LISTED]) + (f"... and {len(lines) - MAX_LISTED} more",)

