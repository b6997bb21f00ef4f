"""Which file of an upload is the submission, and whether a folder is one submission or a class.

Students hand in rnn.py, RNN.py, "rnn (1).py", a notebook, a zip of the folder that holds them, or all of
these twice. The file graded is the most plausible candidate: the one defining most of the contract's
functions, then the one named most like rnn.py, then the shallowest. A folder is a class when two or more
students' submissions are in it: sub-folders or zip files that hold one, or files an LMS named for a
student (Canvas's flat download, grader.files.lms_names), several files of one student being one; with one,
that one is the submission.
"""

from __future__ import annotations

import ast
import enum
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError
from grader.files.listing import is_junk, is_zip, printable_name
from grader.files.lms_names import StudentFiles, group_by_student, read_upload_name
from grader.files.zipsafe import CORRUPT, listable
from grader.intake.extract import MAX_SOURCE_CHARS, SourceError, class_methods, decode, is_stub, normalise
from grader.intake.notebook import MAX_NOTEBOOK_BYTES, read_notebook
from grader.results import SourceKind
from grader.sandbox.scratch import is_a_link

MODULE_FILE = "rnn.py"
MAX_DEPTH = 4  # folders inside an upload looked into
MAX_ENTRIES = 2000  # files and folders looked at, at most: an upload is small
MAX_PARSED_CHARS = 2_000_000  # code parsed to count the candidates' functions; beyond it, they count none
MAX_READ_BYTES = 64 * 1024**2  # files read to find that code (notebooks carry images); beyond it, none either
ENVIRONMENTS = frozenset({"venv", "env", "site-packages"})  # a student's installed packages, never their code
# rnn (1), RNN_final, rnn-2. Possessive (*+, ++): file names are the student's, and the same pattern with
# backtracking takes exponential time on "rnn" and a run of digits (40 digits: days).
RNN_LIKE = re.compile(r"^rnn(?:[\s_.-]*+(?:\(\d++\)|copy|final|v?\d++))*+$", re.IGNORECASE)


class Reading(enum.StrEnum):
    SINGLE = "single"
    CLASS = "class"


class NotFound(GraderError):
    """No file of the upload can be the submission; the message (one line) says what was there."""


@dataclass(frozen=True)
class Candidate:
    path: Path
    relative: str  # as the student named it, relative to the upload, spelled out printable (it is quoted)
    kind: SourceKind
    defined: int  # how many of the contract's functions it defines at the top level
    name_rank: int  # 0 rnn.py, 1 another case, 2 rnn (1).py and kin, 3 an rnn notebook, 4 a notebook, 5 a .py
    broken: bool = False  # a .py file that does not parse: graded (so that its SyntaxError is reported) if
    # nothing else can be
    template: bool = False  # every contract function it defines is still a stub (grader.intake.extract.is_stub)
    imports: frozenset[str] = frozenset()  # the modules it imports at its top level (its siblings among them)

    @property
    def depth(self) -> int:
        return self.relative.count("/")


@dataclass
class Budget:
    """What is left to read and parse while ranking an upload's candidates (each read costs the grader's time)."""

    chars: int = MAX_PARSED_CHARS
    bytes: int = MAX_READ_BYTES


@dataclass(frozen=True)
class Located:
    root: Path  # the folder whose files are the submission (modules beside the graded file are importable)
    file: Path  # the graded file
    relative: str  # the graded file as the student named it (relative to the upload)
    kind: SourceKind
    notes: tuple[str, ...] = ()  # one line each: which file was chosen, when that was a choice
    alone: bool = False  # the file was named on its own: nothing beside it belongs to the submission


def locate(folder: Path, functions: tuple[str, ...]) -> Located:
    """The submission in `folder` (rnn.py at its top, or the most plausible candidate inside it)."""
    folder = Path(folder)
    top = folder / MODULE_FILE
    candidates = find_candidates(folder, functions)
    if top.is_file() and not top.is_symlink() and not _template_beside_work(candidates):
        # rnn.py is graded whatever else is there, but students upload their whole folder: the notebook they
        # worked in beside the rnn.py they also edited would be passed over with nothing saying so. Helpers
        # that define none of the functions are not worth a word, nor are the modules rnn.py imports: graded
        # with it (`from model import *`).
        imported = next((c.imports for c in candidates if c.relative == MODULE_FILE), frozenset())
        beside = [c.relative for c in candidates if c.defined and c.relative != MODULE_FILE
                  and not ("/" not in c.relative and c.path.stem in imported)]
        told = (f"graded rnn.py; {_shorten_list(', '.join(beside))} also define"
                f"{'s' if len(beside) == 1 else ''} some of the assignment's functions but only rnn.py (and "
                "what it imports) was graded; upload only the file you want graded",) if beside else ()
        return Located(folder, top, MODULE_FILE, SourceKind.MODULE, told)
    # A file that does not parse, when nothing else can be graded: its SyntaxError, whatever its name, is
    # what the student needs to hear (grading it reports it, with the file and the line).
    plausible = [c for c in candidates if _plausible(c)] or [c for c in candidates if c.broken]
    if not plausible:
        raise NotFound(_nothing_found(folder, candidates))

    def rank(c: Candidate) -> tuple[int, int, int, str]:
        return -c.defined, c.name_rank, c.depth, c.relative

    # The course's template, untouched, scores nothing: a file with work in it is what the student meant.
    best = min(plausible, key=lambda c: (c.template, *rank(c)))
    passed_over = min(plausible, key=rank)
    notes = []
    if best.kind is SourceKind.MODULE and best.path.name != MODULE_FILE:
        notes.append(f"graded {best.relative} as the submission (the grader looks for rnn.py); "
                     "name your file rnn.py to be sure the right one is graded")
    if passed_over is not best:
        notes.append(f"{passed_over.relative} only holds the template's unfilled functions (each only raises "
                     f"NotImplementedError or passes), so {best.relative} was graded instead; upload only the file "
                     "you want graded")
    others = [c.relative for c in plausible if c is not best and c is not passed_over]
    if others:
        notes.append(f"found {len(others) + 1 + (passed_over is not best)} candidates, chose {best.relative} "
                     f"(defines {best.defined} of the {len(functions)} functions) over {_shorten_list(', '.join(others))}"
                     "; upload only one")
    return Located(best.path.parent, best.path, best.relative, best.kind, tuple(notes))


def _template_beside_work(candidates: list[Candidate]) -> bool:
    """Whether rnn.py at the top is the untouched template and another file defines some functions for real."""
    top = next((c for c in candidates if c.relative == MODULE_FILE), None)
    return top is not None and top.template and any(c.defined and not c.template for c in candidates)


def locate_file(path: Path, functions: tuple[str, ...]) -> Located:
    """The submission given as the path of its rnn.py (or another .py) or of its notebook: that file alone.

    Alone, because the folder it sits in may be anything (a download folder, a class of flat LMS files):
    copying it into the sandbox could hand a student's code other students' files.
    """
    path = Path(path)
    kind = SourceKind.NOTEBOOK if path.suffix.lower() == ".ipynb" else SourceKind.MODULE
    if kind is SourceKind.MODULE and path.suffix.lower() != ".py":
        raise NotFound(f"{path.name} is neither a Python file nor a notebook; give rnn.py, a notebook, "
                       "a zip file or a folder")
    name = printable_name(path.name)  # quoted, as a candidate's is
    notes = [] if name == MODULE_FILE else [f"graded {name} as the submission's rnn.py"]
    if any(p.suffix == ".py" and p != path for p in path.parent.iterdir()):
        notes.append(f"graded {name} alone, without the files beside it; give its folder instead if it "
                     "imports modules from there")
    return Located(path.parent, path, name, kind, tuple(notes), alone=True)


def find_candidates(folder: Path, functions: tuple[str, ...]) -> list[Candidate]:
    """Every .py file and notebook in `folder`, down to MAX_DEPTH folders, with what makes it plausible."""
    found = []
    seen = 0
    budget = Budget()
    for root, dirs, files in os.walk(folder):
        depth = len(Path(root).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if not is_junk(d) and d not in ENVIRONMENTS and depth < MAX_DEPTH
                         and not os.path.islink(os.path.join(root, d)))
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            break
        for name in sorted(files):
            path = Path(root) / name
            if candidate := _candidate(path, path.relative_to(folder).as_posix(), functions, budget):
                found.append(candidate)
    return found


def _candidate(path: Path, relative: str, functions: tuple[str, ...], budget: Budget) -> Candidate | None:
    """`path` as a candidate, or None if it cannot be one; `budget` is the code left to parse for all of them."""
    suffix = path.suffix.lower()
    if is_junk(path.name) or suffix not in (".py", ".ipynb") or path.is_symlink() or not path.is_file():
        return None
    kind = SourceKind.NOTEBOOK if suffix == ".ipynb" else SourceKind.MODULE
    found = _defined(path, kind, functions, budget)
    # Its name is quoted in notes, messages and on the terminal: bytes not UTF-8 would make the results
    # unwritable, and escapes would steer the terminal.
    return Candidate(path, printable_name(relative), kind, found.defined, _name_rank(path, kind), found.broken,
                     found.template, found.imports)


def _plausible(candidate: Candidate | None) -> bool:
    return candidate is not None and (candidate.defined > 0 or candidate.name_rank <= 3)


def holds_submission(path: Path, functions: tuple[str, ...]) -> bool:
    """Whether a class folder's entry (a folder or a zip file) holds something that can be graded."""
    if path.is_dir():
        try:
            locate(path, functions)
        except NotFound:
            return False
        return True
    if not is_zip(path):
        return False
    # A broken or oversized zip is still a student's entry: class grading reports why it cannot be graded.
    try:
        if not listable(path):
            return True
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()[:MAX_ENTRIES]
    except (*CORRUPT, OSError):
        return True
    return any(n.lower().endswith((".py", ".ipynb")) for n in names)


def entries_holding_submissions(folder: Path, functions: tuple[str, ...]) -> list[Path]:
    """The sub-folders and zip files of `folder` that hold a submission."""
    entries = sorted((p for p in folder.iterdir() if not is_junk(p.name)), key=lambda p: p.name)
    # A link is not counted: it may be a student's (a repository commits links), and counting it would grade a
    # student's folder as a class of what it points to. Under --class, a class folder's links are the staff's
    # and are followed (grader.batch.discover).
    return [p for p in entries if (p.is_dir() or is_zip(p)) and not p.is_symlink() if holds_submission(p, functions)]


@dataclass(frozen=True)
class _Contents:
    """What locating reads in a file: see Candidate."""

    defined: int = 0
    broken: bool = False
    template: bool = False
    imports: frozenset[str] = frozenset()


def _defined(path: Path, kind: SourceKind, functions: tuple[str, ...], budget: Budget) -> _Contents:
    """How many contract functions the file binds at its top level or defines as methods of a top-level class
    that prepare binds (grader.intake.extract.class_methods), whether it is Python that does not parse (its
    `def` lines are counted then), whether every one of them is a template's stub, and what it imports.
    Nothing if it cannot be read, or the budget is spent."""
    limit = MAX_NOTEBOOK_BYTES if kind is SourceKind.NOTEBOOK else MAX_SOURCE_CHARS
    text = ""
    try:
        size = path.stat().st_size
        if size > min(limit, budget.bytes):
            return _Contents()
        budget.bytes -= size
        data = path.read_bytes()
        # Read as Python reads it (a latin-1 coding line, a BOM): a file it cannot read does not parse.
        text = read_notebook(data, path.name).text if kind is SourceKind.NOTEBOOK else decode(data)[0]
        if len(text) > min(budget.chars, MAX_SOURCE_CHARS):
            return _Contents()
        budget.chars -= len(text)
        text = normalise(text)
        tree = ast.parse(text)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        if not text:
            text = normalise(data.decode("utf-8", "replace"))[:MAX_SOURCE_CHARS]
        return _Contents(_defined_by_lines(text, functions), broken=kind is SourceKind.MODULE)
    except (OSError, SourceError, ValueError, RecursionError, MemoryError):
        return _Contents()
    definitions: dict[str, ast.stmt] = {}
    imports: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[stmt.name] = stmt
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            definitions.update((a.asname or a.name, stmt) for a in stmt.names)
            imports |= ({stmt.module.partition(".")[0]} if stmt.module else {a.name for a in stmt.names}) \
                if isinstance(stmt, ast.ImportFrom) else {a.name.partition(".")[0] for a in stmt.names}
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            definitions.update((t.id, stmt) for t in targets if isinstance(t, ast.Name))
    # A class RNN holding them: what prepare binds. Methods taking self count in a notebook only: in a module
    # they may be a helper's (class Net, forward(self, x)), whose file is no candidate; a notebook is no helper.
    methods = class_methods(tree, functions)
    bindable = methods.bindable | (methods.through_instance if kind is SourceKind.NOTEBOOK else {})
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            definitions.update((m.name, m) for m in stmt.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                               and bindable.get(m.name) == stmt.name)
    defined = {name: stmt for name, stmt in definitions.items() if name in functions}
    template = bool(defined) and all(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_stub(s)
                                     for s in defined.values())
    return _Contents(len(defined), template=template, imports=frozenset(imports))


def _defined_by_lines(text: str, functions: tuple[str, ...]) -> int:
    """How many contract functions a file that does not parse starts a `def` of at the start of a line."""
    names = set()
    for line in text.split("\n"):
        for keyword in ("def ", "async def "):
            if line.startswith(keyword):
                names.add(line[len(keyword):].partition("(")[0].strip())
    return len(names & set(functions))


def _name_rank(path: Path, kind: SourceKind) -> int:
    if kind is SourceKind.NOTEBOOK:
        return 3 if RNN_LIKE.match(path.stem) else 4
    if path.name == MODULE_FILE:
        return 0
    if path.name.lower() == MODULE_FILE:
        return 1
    return 2 if RNN_LIKE.match(path.stem) else 5


def _nothing_found(folder: Path, candidates: list[Candidate]) -> str:
    try:
        # Quoted to the student and the teacher: a name not UTF-8 would make the results unwritable.
        present = sorted(printable_name(p.name) + ("/" if p.is_dir() else "") for p in folder.iterdir()
                         if not is_junk(p.name))
    except OSError:
        present = []
    if not present:
        return "the upload is empty; upload rnn.py (or a notebook, or a zip of your folder)"
    # A link is never a candidate: "found: rnn.py" would leave the student wondering why rnn.py was not graded.
    links = [p for p in folder.iterdir() if p.is_symlink() and p.suffix.lower() in (".py", ".ipynb", ".zip")]
    if links:
        return is_a_link(printable_name(links[0].name), links[0])
    # A notebook past the limit is never read, so it defines nothing; its outputs (plots, printed losses)
    # are what made it so large, and clearing them is what the student can do.
    for candidate in candidates:
        if candidate.kind is SourceKind.NOTEBOOK and (size := _size(candidate.path)) > MAX_NOTEBOOK_BYTES:
            return (f"{candidate.relative} is {size / 1024**2:.0f} MiB, more than the {MAX_NOTEBOOK_BYTES // 1024**2} "
                    "MiB allowed; clear its outputs and submit again")
    return (f"no rnn.py or notebook defining the assignment's functions was found (found: "
            f"{_shorten_list(', '.join(present))}); upload rnn.py")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _shorten_list(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class PathReading:
    reading: Reading
    summary: str  # one line for the terminal: which reading was used, and why
    notes: tuple[str, ...] = ()  # one line each: what that reading leaves out


def read_path(path: Path, functions: tuple[str, ...], force: Reading | None = None) -> PathReading:
    """Whether `path` is one submission or a class folder (`force`: --single or --class)."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"no such file or folder: {path}")
    if not path.is_dir():
        if force is Reading.CLASS:
            raise NotFound(f"{path} is a file, so it cannot be a class; --class needs a folder of submissions")
        if is_zip(path) and len(students := _lms_students_in_zip(path)) >= 2:
            raise NotFound(f"{path.name} is {students[0].upload.lms.capitalize()}'s download of {len(students)} "
                           "students' submissions: unzip it and give the folder (python -m grader FOLDER/)")
        what = "a zip file" if is_zip(path) else "a notebook" if path.suffix.lower() == ".ipynb" else "a file"
        return PathReading(Reading.SINGLE, f"Grading {path.name} ({what}) as one submission.")
    students = lms_students(path)
    entries = [e for e in entries_holding_submissions(path, functions) if e.is_dir() or read_upload_name(e.name) is None]
    own = [c.relative for c in find_candidates_at_top(path, functions) if read_upload_name(c.relative) is None]
    if force is Reading.SINGLE:
        return PathReading(Reading.SINGLE, f"Grading {path.name}/ as one submission (--single).")
    if force is Reading.CLASS or len(entries) + len(students) >= 2:
        parts = [f"{len(entries)} sub-folders or zip files hold submissions" if entries else "",
                 f"{len(students)} students' files named by {students[0].upload.lms.capitalize()}" if students else ""]
        why = "--class" if force is Reading.CLASS and len(entries) + len(students) < 2 else ", ".join(filter(None, parts))
        notes = tuple(f"{name} at the top of the class folder is not graded: it is in no student's folder "
                      "(use --single to grade the folder as one submission)" for name in own)
        return PathReading(Reading.CLASS, f"Grading {path.name}/ as a class ({why}; --single reads it as one "
                           "submission).", notes)
    if students and not entries:
        who = students[0]
        return PathReading(Reading.SINGLE, f"Grading {path.name}/ as one submission: the {len(who.files)} file(s) "
                           f"{who.upload.lms.capitalize()} named for {printable_name(who.name)} (--class reads it as a "
                           "class).")
    if entries and not own:
        if entries[0].is_dir() and len(inner := lms_students(entries[0])) >= 2:
            raise NotFound(f"{path.name}/ holds only {printable_name(entries[0].name)}/, {inner[0].upload.lms.capitalize()}'s download "
                           f"of {len(inner)} students' submissions: give that folder")
        return PathReading(Reading.SINGLE, f"Grading {path.name}/ as one submission, the one in "
                           f"{printable_name(entries[0].name)} (--class reads it as a class).")
    return PathReading(Reading.SINGLE, f"Grading {path.name}/ as one submission.")


def lms_students(folder: Path) -> list[StudentFiles]:
    """The students whose files an LMS download put flat at the top of `folder` (at most MAX_ENTRIES looked at)."""
    files = []
    for count, path in enumerate(sorted(folder.iterdir(), key=lambda p: p.name)):
        if count >= MAX_ENTRIES:
            break
        if not is_junk(path.name) and path.is_file():  # a link is staged, so refused in words, if a student's
            files.append(path)
    return group_by_student(files)[0]


def _lms_students_in_zip(path: Path) -> list[StudentFiles]:
    """The students whose files an LMS download zip holds at its top (names only; none if it cannot be listed)."""
    try:
        if not listable(path):
            return []
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()[:MAX_ENTRIES]
    except (*CORRUPT, OSError):
        return []
    return group_by_student(Path(n) for n in names if "/" not in n.rstrip("/") and not is_junk(n))[0]


def find_candidates_at_top(folder: Path, functions: tuple[str, ...]) -> list[Candidate]:
    """The plausible submission files directly in `folder` (not in its sub-folders)."""
    budget = Budget()
    found = (_candidate(p, p.name, functions, budget) for p in sorted(folder.iterdir(), key=lambda p: p.name))
    return [c for c in found if c is not None and _plausible(c)]
