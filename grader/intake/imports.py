"""Imports the grader cannot offer, bound to a stand-in that fails only where it is used, saying which import.

A submission may import the course's packages (with what they need), Python's standard library and its own
modules: the sandbox's rule. Importing anything else would stop the whole module from loading, and with it
every function, for a package used by one function, by a helper nobody calls, or by a notebook's set-up
cell (`import otter`). So, in every module of the submission, such an import is rewritten into an
assignment of a stand-in to the same names: the module loads, and whatever uses the name (a call, an
attribute's call, arithmetic, `isinstance`) raises ModuleNotFoundError with the sandbox's own message,
naming the file, the line and the module. Only the functions that need the package fail.

A decorator from such a module is left out (numba's `@jit` would fail as the function is defined).
A module offered that works only in a Jupyter front end is imported as its plain equivalent: tqdm.notebook's
bar is a widget, and outside Jupyter creating one raises ImportError (IProgress not found), so a train()
that runs in Colab would fail here; it becomes tqdm.auto, the same bar as text.
Left as written: imports inside a `try` whose handlers catch ImportError (the student planned for a
missing package), relative imports and imports of the submission's own modules. The rewritten text keeps
every line where it was, so tracebacks keep pointing at the student's lines.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import MappingProxyType

from grader.sandbox.packages import resolve

STAND_IN_MODULE = "_rnn_grader_absent"  # the worker's import rule lets names starting _rnn_grader through
# The stand-in, compiled under a file name that is not a path, so the sandbox's tracebacks (which show
# frames of the submission's own files only) show where the student used it, not its insides.
STAND_IN_SOURCE = '''
class Absent:
    """A module the grader does not offer, in place of its import: using it raises ModuleNotFoundError."""

    __slots__ = ("_name", "_message")

    def __init__(self, name, message):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_message", message)

    def _fail(self, *args, **kwargs):
        raise ModuleNotFoundError(self._message, name=self._name.partition(".")[0])

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # probes such as __array__ or __wrapped__: not there
        return Absent(self._name + "." + attr, self._message)  # torch.Tensor in an annotation is harmless

    def __mro_entries__(self, bases):
        return ()  # class Net(nn.Module) is defined; its methods that use nn fail

    def __repr__(self):
        return "<" + self._name + ": not offered by the grader>"

    __call__ = __getitem__ = __setitem__ = __delitem__ = __iter__ = __len__ = __bool__ = __contains__ = _fail
    __enter__ = __exit__ = __setattr__ = __delattr__ = __instancecheck__ = __subclasscheck__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __matmul__ = __rmatmul__ = _fail
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __pow__ = __rpow__ = _fail
    __neg__ = __pos__ = __abs__ = __lt__ = __le__ = __gt__ = __ge__ = __int__ = __float__ = __index__ = _fail


def absent(name, message):
    return Absent(name, message)
'''
STAND_IN_FILE = f'exec(compile({STAND_IN_SOURCE!r}, "<rnn-grader: an import the grader does not offer>", "exec"))\n'
MAX_SHOWN = 40  # characters of a decorator quoted in a note
# module -> the equivalent that works outside Jupyter
FRONT_END_ONLY = MappingProxyType({"tqdm.notebook": "tqdm.auto"})
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class Offered:
    """What a submission may import: the sandbox exposes these top-level names, and its own modules."""

    modules: frozenset[str]
    sentence: str  # "numpy, scipy, ... and Python's standard library", as the sandbox says it
    own: frozenset[str] = frozenset()  # the submission's own top-level modules and packages

    @classmethod
    def of(cls, declared: tuple[str, ...]) -> Offered:
        exposed = resolve(tuple(declared))
        standard = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
        return cls(frozenset(exposed.modules) | frozenset(standard), exposed.sentence())

    def with_own(self, names: set[str]) -> Offered:
        return Offered(self.modules, self.sentence, frozenset(names))

    def offers(self, module: str | None, level: int = 0) -> bool:
        """Whether `import module` (or a relative import, level > 0) can work in the sandbox."""
        if level > 0 or not module:
            return True
        top = module.partition(".")[0]
        return top in self.modules or top in self.own or top == STAND_IN_MODULE


@dataclass(frozen=True)
class StoodIn:
    """An import rewritten into a stand-in, or a decorator from such an import left out."""

    line: int
    module: str  # the top-level module the grader does not offer
    where: str  # "rnn.py, line 3", "hw.ipynb, cell 2, line 1"
    decorator: str = ""  # "@jit": a decorator from that module, left out (the function is kept without it)
    instead: str = ""  # the module imported instead of `module`, offered but working only in Jupyter

    def note(self) -> str:
        if self.instead:
            return (f"{self.where}: {self.module} works only in Jupyter (its progress bar is a widget), so "
                    f"{self.instead} was imported instead: the same progress bar, as text")
        if self.decorator:
            return (f"{self.where}: the grader does not offer {self.module}, so the decorator {self.decorator} "
                    "was left out; the function is graded without it")
        return (f"{self.where}: the grader does not offer {self.module}, so its import was left out; "
                "what uses it fails, saying so")


def stand_in(source: str, tree: ast.Module, offered: Offered, where: Callable[[int], str]) -> tuple[str, tuple[StoodIn, ...]]:
    """`source` (whose syntax tree is `tree`) with every import of a module not offered made a stand-in.

    A decorator taken from such a module (numba's `@jit`, `@torch.no_grad()`) would fail as the function is
    defined, taking the whole module with it; it is left out instead, so the function is graded as written.
    `where(line)` names a line for the student ("rnn.py, line 3"). Returns the new text and what changed.
    """
    edits, changed = _stand_in_edits(tree, offered, where)
    return (_edited(source, edits) if edits else source), changed


Edit = tuple[ast.stmt | ast.expr, str]  # a node, and the text that replaces it


def _stand_in_edits(tree: ast.Module, offered: Offered, where: Callable[[int], str]) -> tuple[list[Edit], tuple[StoodIn, ...]]:
    edits: list[Edit] = []
    changed = []
    names: dict[str, str] = {}  # name bound to a stand-in -> its module
    for stmt in _unguarded_imports(tree.body, guarded=False):
        if (instead := _front_end_only(stmt, offered)) is not None:
            module, text = instead
            edits.append((stmt, text))
            changed.append(StoodIn(stmt.lineno, module, where(stmt.lineno), instead=FRONT_END_ONLY[module]))
            continue
        absent = _absent_names(stmt, offered)
        if not absent:
            continue
        place = where(stmt.lineno)
        module = absent[0][1].partition(".")[0]
        message = (f"{place} imports {module}, which the grader does not offer; a submission may import "
                   f"{offered.sentence}")
        edits.append((stmt, _rewritten(stmt, offered, absent, message)))
        changed.append(StoodIn(stmt.lineno, module, place))
        names.update((name, module) for name, _ in absent if name != "*")
    for node in ast.walk(tree) if names else ():
        for decorator in getattr(node, "decorator_list", ()):
            root = _root_name(decorator)
            if root in names:
                newlines = "\n" * ((decorator.end_lineno or decorator.lineno) - decorator.lineno)
                edits.append((decorator, f"(lambda function: function{newlines})"))
                shown = ast.unparse(decorator)
                shown = shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 3] + "..."
                changed.append(StoodIn(decorator.lineno, names[root], where(decorator.lineno), f"@{shown}"))
    changed.sort(key=lambda stood_in: stood_in.line)
    return edits, tuple(changed)


def _front_end_only(stmt: ast.Import | ast.ImportFrom, offered: Offered) -> tuple[str, str] | None:
    """(the module, the statement importing its plain equivalent instead) for `from tqdm.notebook import tqdm`
    and `import tqdm.notebook as tn`; None for any other import. `import tqdm.notebook` alone binds tqdm, whose
    attribute is then used: left as it is."""
    if isinstance(stmt, ast.ImportFrom):
        module = stmt.module or ""
        if stmt.level or module not in FRONT_END_ONLY or not offered.offers(module):
            return None
        names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in stmt.names)
        text = f"from {FRONT_END_ONLY[module]} import ({names})"
    else:
        if len(stmt.names) != 1 or stmt.names[0].name not in FRONT_END_ONLY or not stmt.names[0].asname:
            return None
        module = stmt.names[0].name
        if not offered.offers(module):
            return None
        text = f"import {FRONT_END_ONLY[module]} as {stmt.names[0].asname}"
    newlines = "\n" * ((stmt.end_lineno or stmt.lineno) - stmt.lineno)
    return module, text + (f"; ({newlines})" if newlines else "")


def _root_name(expr: ast.expr) -> str | None:
    """`jit` for `jit`, `jit(nopython=True)`, `numba.jit` or `torch.no_grad()`'s `torch`."""
    while isinstance(expr, (ast.Call, ast.Attribute, ast.Subscript)):
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _edited(source: str, edits: list[Edit]) -> str:
    """`source` with each node's text replaced, in one pass (ast's columns count UTF-8 bytes)."""
    data = source.encode("utf-8")
    starts = [0]
    for line in source.split("\n"):
        starts.append(starts[-1] + len(line.encode("utf-8")) + 1)
    pieces, done = [], 0
    for stmt, text in sorted(edits, key=lambda edit: (edit[0].lineno, edit[0].col_offset)):
        begin = starts[stmt.lineno - 1] + stmt.col_offset
        end = starts[(stmt.end_lineno or stmt.lineno) - 1] + (stmt.end_col_offset or 0)
        pieces += [data[done:begin], text.encode("utf-8")]
        done = end
    pieces.append(data[done:])
    return b"".join(pieces).decode("utf-8")


def _unguarded_imports(body: list[ast.stmt], guarded: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements in `body` and below, in order, but those a surrounding `try` expects to fail."""
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if not guarded:
                yield stmt
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # A function's body runs when it is called, outside any try around its definition.
            inside = guarded and isinstance(stmt, ast.ClassDef)
            yield from _unguarded_imports(stmt.body, inside)
        elif isinstance(stmt, (ast.Try, ast.TryStar)):
            yield from _unguarded_imports(stmt.body, guarded or _catches_import_errors(stmt))
            for handler in stmt.handlers:
                yield from _unguarded_imports(handler.body, guarded)
            yield from _unguarded_imports(stmt.orelse, guarded)
            yield from _unguarded_imports(stmt.finalbody, guarded)
        else:
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    yield from _unguarded_imports(inner, guarded)
            for case in getattr(stmt, "cases", ()):  # match statements
                yield from _unguarded_imports(case.body, guarded)


def _catches_import_errors(stmt: ast.Try | ast.TryStar) -> bool:
    for handler in stmt.handlers:
        if handler.type is None:
            return True
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(k, (ast.Name, ast.Attribute)) and (k.id if isinstance(k, ast.Name) else k.attr)
               in IMPORT_ERRORS for k in kinds):
            return True
    return False


def _absent_names(stmt: ast.Import | ast.ImportFrom, offered: Offered) -> list[tuple[str, str]]:
    """(name bound, module it stands for) for each name `stmt` binds from a module not offered."""
    if isinstance(stmt, ast.ImportFrom):
        if offered.offers(stmt.module, stmt.level):
            return []
        return [(a.asname or a.name, f"{stmt.module}.{a.name}") for a in stmt.names]
    return [(a.asname or a.name.partition(".")[0], a.name if a.asname else a.name.partition(".")[0])
            for a in stmt.names if not offered.offers(a.name)]


def _rewritten(stmt: ast.Import | ast.ImportFrom, offered: Offered, absent: list[tuple[str, str]],
               message: str) -> str:
    """The statement's replacement, on as many lines as the statement took (the newlines in brackets)."""
    newlines = "\n" * ((stmt.end_lineno or stmt.lineno) - stmt.lineno)
    parts = []
    if isinstance(stmt, ast.Import):
        kept = [a for a in stmt.names if offered.offers(a.name)]
        if kept:
            parts.append("import " + ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept))
    bound = [(name, module) for name, module in absent if name != "*"]  # `from torch import *` binds nothing known
    targets = "".join(f"{name}, " for name, _ in bound)
    values = "".join(f"__import__({STAND_IN_MODULE!r}).absent({module!a}, {message!a}), " for _, module in bound)
    parts.append(f"({targets}) = ({values}{newlines})" if bound else f"({newlines})")
    return "; ".join(parts)


def absolute_siblings(source: str, tree: ast.Module, own: frozenset[str]) -> tuple[str, tuple[tuple[int, str], ...]]:
    """`source` (whose syntax tree is `tree`) with its relative imports of the modules beside it made absolute
    (`from .utils import softmax` -> `from utils import softmax`, `from . import utils` -> `import utils`), and
    for each (its line, what was read as what).

    A file at the top of the submission was part of the student's package (src/rnn.py, run from main.py
    beside src/), where such an import names its sibling; the sandbox imports it as a module of its own,
    where the same import fails. Only modules in `own` (the submission's top-level names) are rewritten, and
    only one level up: `from ..x` leaves the folder. Every statement keeps its lines.
    """
    edits, changed = _sibling_edits(tree, own)
    return (_edited(source, edits) if edits else source), changed


def _sibling_edits(tree: ast.Module, own: frozenset[str]) -> tuple[list[Edit], tuple[tuple[int, str], ...]]:
    edits: list[Edit] = []
    changed = []
    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.ImportFrom) or stmt.level != 1:
            continue
        if stmt.module is not None and stmt.module.partition(".")[0] in own:
            head, was = f"from {stmt.module} import ", f"from .{stmt.module} import"
        elif stmt.module is None and all(a.name in own for a in stmt.names):
            head, was = "import ", "from . import"
        else:
            continue
        newlines = "\n" * ((stmt.end_lineno or stmt.lineno) - stmt.lineno)
        names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in stmt.names)
        edits.append((stmt, head + names + (f"; ({newlines})" if newlines else "")))
        changed.append((stmt.lineno, f"`{was}` read as `{head.strip()}`"))
    return edits, tuple(sorted(changed))


def rewrite_imports(source: str, tree: ast.Module, offered: Offered | None, own: frozenset[str],
                    where: Callable[[int], str]) -> tuple[str, tuple[StoodIn, ...], tuple[tuple[int, str], ...]]:
    """`source` (whose syntax tree is `tree`) with both rewrites in one pass: stand-ins for what `offered` lacks
    (none without it; `stand_in`) and relative imports of the modules in `own` made absolute
    (`absolute_siblings`). Returns the new text, the stand-ins, and the imports made absolute.

    One tree serves both, as they never edit one node: a relative import is offered, so never stood in.
    """
    edits, stood_in = _stand_in_edits(tree, offered, where) if offered is not None else ([], ())
    sibling_edits, siblings = _sibling_edits(tree, own)
    edits += sibling_edits
    return (_edited(source, edits) if edits else source), stood_in, siblings
