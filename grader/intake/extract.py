"""A clean module from a submission's source: the definitions that make up the contract, without top-level work.

Students load the book, train and plot at the top level of rnn.py or in notebook cells. What defines the
contract is kept: imports, functions, classes, and constants (assignments computed from literals, from
other kept names and from calls into imported modules that neither read, write nor plot). Everything else
is left out and listed, so the grader can import the functions without running the work. Kept lines keep
their line numbers, so tracebacks point at the student's own lines.

The source is the student's: it is parsed, never run, under a size limit, and a syntax error becomes one
message with the file and line.
"""

from __future__ import annotations

import ast
import builtins
import codecs
import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass

MAX_SOURCE_CHARS = 500_000  # ten thousand lines: far more than any submission; parsing it takes a second
# A coding line names the codec the grader decodes the file with: punycode's decoder takes time quadratic in
# the input (500 KB: about 15 s of the grader's CPU, once per read). No one writes Python in it.
QUADRATIC_CODECS = frozenset({"punycode"})
MAX_SHOWN = 70  # characters of a skipped statement quoted in a message

WORK = "runs at import"  # loading, training, plotting, printing: work, not a definition
UNUSED = "imports a module the functions do not use"

# Builtins that only build values; any other builtin call at the top level (open, print, input, exec...) is work.
PURE_BUILTINS = frozenset({
    "abs", "bool", "complex", "dict", "divmod", "enumerate", "float", "frozenset", "int", "len", "list", "max",
    "min", "pow", "range", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip",
})
# Calls into imported modules whose name says they touch files, the screen or the network.
SIDE_EFFECT = re.compile(
    r"^_*+(load|read|open|save|write|genfrom|fromfile|tofile|download|fetch|urlopen|request|show|plot|savefig|"
    r"fig|subplot|imshow|hist|scatter|bar|legend|title|xlabel|ylabel|pause|draw|system|popen|run|call|check_|"
    r"remove|unlink|rmtree|mkdir|makedirs|chdir|exit|sleep|input|seed|tqdm|trange|display)",
    re.IGNORECASE,
)


# Expressions with a scope of their own: the names they set are not the module's.
SCOPES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)


class SourceError(Exception):
    """The source cannot be read as Python; the message is one line naming the file and the line."""


@dataclass(frozen=True)
class Skipped:
    """A top-level statement left out of the clean module."""

    line: int  # first line (decorators included), in the parsed text's numbering
    end_line: int
    code: str  # the statement's first line, shortened
    reason: str  # WORK or UNUSED
    binds: frozenset[str] = frozenset()  # the names it would have set (a function using one fails: NameError)


@dataclass(frozen=True)
class Extraction:
    text: str  # the clean module: kept lines where they were, skipped lines blank
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...] = ()  # how its functions are bound, where that differs from the module as it is

    @property
    def work(self) -> tuple[Skipped, ...]:
        """The skipped statements that would have run something (unused imports aside)."""
        return tuple(s for s in self.skipped if s.reason == WORK)


def decode(data: bytes) -> tuple[str, str]:
    """A module's text and the encoding Python reads it in (its coding line or BOM, else UTF-8); SyntaxError,
    LookupError or UnicodeDecodeError where Python could not read it either."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    if codecs.lookup(encoding).name in QUADRATIC_CODECS:
        raise LookupError(f"{encoding} takes time quadratic in the file's size to decode")
    return data.decode(encoding), encoding


def normalise(source: str) -> str:
    """One newline convention, so line numbers mean the same to the parser and to us."""
    return source.replace("\r\n", "\n").replace("\r", "\n")


def parse(source: str, filename: str) -> ast.Module:
    """The module's syntax tree; SourceError with the file and line for anything that is not Python."""
    if len(source) > MAX_SOURCE_CHARS:
        raise SourceError(f"{filename} holds {len(source):,} characters, more than the {MAX_SOURCE_CHARS:,} "
                          "allowed; submit only your code")
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as exc:
        where = f"{filename}, line {exc.lineno}" if exc.lineno else filename
        raise SourceError(f"{where}: {exc.msg}; fix the syntax error (run the file once with python) "
                          "and submit again") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        raise SourceError(f"{filename} could not be parsed as Python ({type(exc).__name__}); "
                          "submit a plain Python file") from None


Offers = Callable[[str | None, int], bool]  # whether `import module` (relative: level > 0) works in the sandbox


def extract(source: str, filename: str, drop_unused_imports: bool = True, offers: Offers | None = None) -> Extraction:
    """Keep the definitions of `source`, blank out the rest; raise SourceError if it is not Python.

    `drop_unused_imports` also leaves out imports nothing kept refers to (a plotting or progress-bar
    import used only by the skipped work), so a module the grader does not offer cannot stop the import.
    A call into a module that `offers` says the sandbox lacks (`grader = otter.Notebook(...)`) is work,
    not a constant: it could only fail.
    """
    source = normalise(source)
    tree = parse(source, filename)
    kept, skipped, instances = _classify(tree.body, offers or _everything)
    # `model = RNN()` is kept for what binds the functions through it (`forward = model.forward`), and only
    # then: its __init__ runs on import, and may load the book the definitions alone are meant to do without.
    used = _names_used([s for s in kept if not any(s is i for i in instances)])
    unneeded = [s for s in instances if not {t.id for t in s.targets if isinstance(t, ast.Name)} & used]
    kept = [s for s in kept if not any(s is u for u in unneeded)]
    skipped += [(s, WORK) for s in unneeded]
    if drop_unused_imports:
        used = _names_used(kept)
        unused = [s for s in kept if isinstance(s, (ast.Import, ast.ImportFrom)) and not _import_used(s, used)]
        kept = [s for s in kept if not any(s is u for u in unused)]
        skipped += [(s, UNUSED) for s in unused]
    lines = _Lines(source.split("\n"))
    described = tuple(sorted((_skipped(s, reason, lines) for s, reason in skipped), key=lambda s: s.line))
    return Extraction(_render(lines, tree.body, kept), described)


def _everything(module: str | None, level: int) -> bool:
    return True


def _classify(body: list[ast.stmt], offers: Offers) -> tuple[list[ast.stmt], list[tuple[ast.stmt, str]],
                                                          list[ast.Assign]]:
    """Which top-level statements define something (kept) and which do work (skipped), in order, and which of
    the kept make an instance of a class of the module's (grader.intake.extract._instance)."""
    bound: set[str] = set()
    modules: set[str] = set()  # names bound by imports: calls into them may build constants
    classes = {s.name for s in body if isinstance(s, ast.ClassDef)}
    kept, skipped, instances = [], [], []
    for stmt in body:
        if _is_main_guard(stmt):
            continue  # guarded already: it would not run on import, so it is no concern of the grader's
        if isinstance(stmt, ast.Assign) and _instance(stmt, classes, bound, modules):
            instances.append(stmt)
        if _defines(stmt, bound, modules, offers) or any(stmt is i for i in instances):
            kept.append(stmt)
            _bind(stmt, bound, modules, offers)
        else:
            skipped.append((stmt, WORK))
    return kept, skipped, instances


def _defines(stmt: ast.stmt, bound: set[str], modules: set[str], offers: Offers) -> bool:
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant)  # a docstring
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if not all(_plain_target(t) for t in targets):
            return False
        return stmt.value is None or _pure(stmt.value, bound, modules)
    if isinstance(stmt, ast.AugAssign):
        return isinstance(stmt.target, ast.Name) and stmt.target.id in bound and _pure(stmt.value, bound, modules)
    if isinstance(stmt, (ast.If, ast.Try)):
        # `try: from tqdm import tqdm / except ImportError: ...`: definitions in every branch.
        inner_bound, inner_modules = set(bound), set(modules)
        tests = [stmt.test] if isinstance(stmt, ast.If) else [h.type for h in stmt.handlers if h.type]
        if not all(_pure(t, bound, modules) for t in tests):
            return False
        branches = [stmt.body, stmt.orelse] + ([h.body for h in stmt.handlers] + [stmt.finalbody]
                                               if isinstance(stmt, ast.Try) else [])
        for branch in branches:
            for inner in branch:
                if _is_main_guard(inner) or not _defines(inner, inner_bound, inner_modules, offers):
                    return False
                _bind(inner, inner_bound, inner_modules, offers)
        return True
    return False


def _instance(stmt: ast.Assign, classes: set[str], bound: set[str], modules: set[str]) -> bool:
    """Whether `stmt` is `name = Class(...)` of a class defined (and kept) at the top level of the module, from
    kept names and literals (`model = RNN(m=100)`): what students bind the functions through."""
    call = stmt.value
    if not (len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)):
        return False
    return (call.func.id in classes and call.func.id in bound
            and all(_pure(a, bound, modules) for a in [*call.args, *(k.value for k in call.keywords)]))


def _plain_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_plain_target(t) for t in target.elts)


def _pure(expr: ast.expr, bound: set[str], modules: set[str]) -> bool:
    """Whether `expr` only builds a value from kept names, literals and harmless calls."""
    local = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    local |= {a.arg for n in ast.walk(expr) if isinstance(n, ast.Lambda) for a in ast.walk(n.args)
              if isinstance(a, ast.arg)}
    for node in ast.walk(expr):
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in bound and node.id not in local and not hasattr(builtins, node.id):
                return False  # comes from skipped work (or nowhere)
        if isinstance(node, ast.Call) and not _harmless_call(node.func, modules):
            return False
    return True


def _harmless_call(func: ast.expr, modules: set[str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id in PURE_BUILTINS
    chain = []
    while isinstance(func, ast.Attribute):
        chain.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in modules:
        return False  # a call into the student's own code (training, loading) or a method of a value
    return not any(SIDE_EFFECT.match(part) for part in chain)


def _bind(stmt: ast.stmt, bound: set[str], modules: set[str], offers: Offers) -> None:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        names = {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
        bound |= names
        if isinstance(stmt, ast.ImportFrom):
            modules |= names if offers(stmt.module, stmt.level) else set()
        else:
            modules |= {(a.asname or a.name).split(".")[0] for a in stmt.names if offers(a.name, 0)}
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bound.add(stmt.name)
    elif isinstance(stmt, (ast.If, ast.Try)):
        for field in ("body", "orelse", "finalbody"):
            for inner in getattr(stmt, field, ()):
                _bind(inner, bound, modules, offers)
        for handler in getattr(stmt, "handlers", ()):
            for inner in handler.body:
                _bind(inner, bound, modules, offers)
    else:
        bound |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    test = stmt.test
    sides = [test.left, *test.comparators]
    return (len(sides) == 2 and isinstance(test.ops[0], ast.Eq)
            and any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def _names_used(kept: list[ast.stmt]) -> set[str]:
    used = set()
    for stmt in kept:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.add(node.value)  # __all__ = ["tqdm"], globals()["np"]
    return used


def _import_used(stmt: ast.Import | ast.ImportFrom, used: set[str]) -> bool:
    if isinstance(stmt, ast.ImportFrom) and (stmt.module == "__future__" or any(a.name == "*" for a in stmt.names)):
        return True
    return any((a.asname or a.name).split(".")[0] in used for a in stmt.names)


def _span(stmt: ast.stmt) -> tuple[int, int]:
    start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", ())])
    return start, stmt.end_lineno or stmt.lineno


class _Lines:
    """The source's lines, each stripped or encoded at most once.

    Thousands of statements may share one long line; working on the whole line once per statement (as
    ast.get_source_segment does with the whole source) would cost the grader quadratic time.
    """

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._shown: dict[int, str] = {}
        self._encoded: dict[int, bytes] = {}

    def shown(self, number: int) -> str:
        """Line `number` (1-based), stripped and shortened for a message."""
        if number not in self._shown:
            code = self.lines[number - 1].strip()
            self._shown[number] = code if len(code) <= MAX_SHOWN else code[: MAX_SHOWN - 3] + "..."
        return self._shown[number]

    def segment(self, node: ast.stmt) -> str:
        """The source text of `node` (ast's column offsets count UTF-8 bytes)."""
        first, last = node.lineno, node.end_lineno or node.lineno
        start, end = node.col_offset, node.end_col_offset
        if first == last:
            return self._bytes(first)[start:end].decode("utf-8")
        middle = self.lines[first : last - 1]
        return "\n".join([self._bytes(first)[start:].decode("utf-8"), *middle,
                          self._bytes(last)[:end].decode("utf-8")])

    def _bytes(self, number: int) -> bytes:
        if number not in self._encoded:
            self._encoded[number] = self.lines[number - 1].encode("utf-8")
        return self._encoded[number]


def _skipped(stmt: ast.stmt, reason: str, lines: _Lines) -> Skipped:
    start, end = _span(stmt)
    binds = bound_names(stmt)
    return Skipped(start, end, lines.shown(stmt.lineno), reason, binds)


def bound_names(stmt: ast.stmt) -> frozenset[str]:
    """The global names a top-level statement sets (assignments, loops, `with ... as`, imports, definitions),
    not those of the scopes inside it (a comprehension's `for c in chars`, a lambda's, a function's)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bound: set[str] = set()
        _bind(stmt, bound, set(), _everything)
        return frozenset(bound)
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not stmt:
            names.add(node.name)
        elif not isinstance(node, SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def _render(lines: _Lines, body: list[ast.stmt], kept: list[ast.stmt]) -> str:
    """The source with the lines of every top-level statement not in `kept` blanked.

    Simple statements can share a line (`import numpy as np; book = open(...)`): where kept and skipped
    statements share lines, that run of lines is rebuilt from the kept statements' own text.
    """
    out = list(lines.lines)
    keep = {id(s) for s in kept}
    for group in _line_groups(body):
        first, last = _span(group[0])[0], _span(group[-1])[1]
        if all(id(s) in keep for s in group):
            continue
        kept_text = "; ".join(lines.segment(s) for s in group if id(s) in keep)
        rebuilt = kept_text.split("\n")
        out[first - 1 : last] = rebuilt + [""] * (last - first + 1 - len(rebuilt))
    return "\n".join(out)


def _line_groups(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """Top-level statements in runs that share lines (most runs are one statement)."""
    groups: list[list[ast.stmt]] = []
    for stmt in body:
        if groups and _span(stmt)[0] <= _span(groups[-1][-1])[1]:
            groups[-1].append(stmt)
        else:
            groups.append([stmt])
    return groups


@dataclass(frozen=True)
class ClassMethods:
    """The contract's functions a module defines only as methods of one of its top-level classes, each with its
    class, by how the grader can call them."""

    bindable: dict[str, str]  # callable from the class: `forward = RNN.forward`
    through_instance: dict[str, str]  # need an instance, but the class's methods read no instance's own state
    need_instance: dict[str, str]  # need an instance the grader cannot make: they read what one holds
    state: dict[str, str]  # for each of need_instance: what it reads of an instance, or why the grader cannot tell


def class_methods(tree: ast.Module, functions: tuple[str, ...]) -> ClassMethods:
    """The contract's functions `tree` defines only as methods of one of its top-level classes.

    A function the module binds at its top level in any way is not one of them, nor is any when a star import
    may bind it; a function that two classes define is left alone, as the grader cannot tell which is meant.
    Of two definitions in one class the last counts, as in Python. Locating the submission counts the bindable
    ones too (grader.intake.locate).
    """
    bound: set[str] = set()
    rebound: set[str] = set()  # names bound other than by a class statement: `RNN = RNN()` leaves no class RNN
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            return ClassMethods({}, {}, {}, {})
        _bind(stmt, bound, set(), _everything)
        if not isinstance(stmt, ast.ClassDef):
            _bind(stmt, rebound, set(), _everything)
    found: dict[str, list[tuple[str, bool]]] = {}
    classes: dict[str, ast.ClassDef] = {}
    for stmt in tree.body:
        if not isinstance(stmt, ast.ClassDef) or stmt.name in rebound:
            continue
        classes[stmt.name] = stmt  # the last definition of a name is the class, as in Python
        methods = {m.name: m for m in stmt.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for name, method in methods.items():
            if name in functions and name not in bound:
                found.setdefault(name, []).append((stmt.name, bindable(method)))
    made = ClassMethods({}, {}, {}, {})
    for name, owners in found.items():
        if len(owners) != 1:
            continue
        owner, from_class = owners[0]
        if from_class:
            made.bindable[name] = owner
            continue
        state = instance_state(classes[owner])[name]
        if state is None:
            made.through_instance[name] = owner
        else:
            made.need_instance[name] = owner
            made.state[name] = state
    return made


# What a class may define that changes how its instances are made or read: an instance made by object.__new__
# would not be the student's.
INSTANCE_HOOKS = frozenset({"__new__", "__getattr__", "__getattribute__", "__setattr__", "__slots__", "__set_name__",
                            "__init_subclass__", "__class_getitem__", "__dict__", "__class__"})


def instance_state(cls: ast.ClassDef) -> dict[str, str | None]:
    """For each method of `cls`, None when calling it through an instance reads none of the instance's own state,
    so that it computes alike through every instance, however made: it, and each method it calls through `self`,
    uses `self` only to reach what the class body defines and no method sets on an instance. Else what it reads,
    with its line, or why the grader cannot tell; the grader then cannot make an instance that computes as the
    student's would."""
    members: set[str] = set()
    methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods[stmt.name] = stmt
        _bind(stmt, members, set(), _everything)
    hooks = sorted(members & INSTANCE_HOOKS)
    # A method setting a global (__init__'s `global K`) makes state of its own that the others may read.
    sets = next((n for m in methods.values() for n in ast.walk(m) if isinstance(n, (ast.Global, ast.Nonlocal))), None)
    if cls.bases or cls.keywords or cls.decorator_list or hooks or sets:
        why = (f"class {cls.name} defines {hooks[0]}" if hooks
               else f"a method of class {cls.name} declares {', '.join(sets.names)} global (line {sets.lineno})" if sets
               else f"class {cls.name} has a base class or a decorator (line {cls.lineno})")
        return dict.fromkeys(methods, why)
    selves = {name: _self_name(m) for name, m in methods.items()}
    stored: set[str] = set()
    for name, method in methods.items():
        for node in ast.walk(method):
            if (isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load)
                    and isinstance(node.value, ast.Name) and node.value.id == selves[name]):
                stored.add(node.attr)
    own: dict[str, str | None] = {}
    calls: dict[str, set[str]] = {}
    for name, method in methods.items():
        own[name], calls[name] = _own_state(method, selves[name], members - stored)
    state: dict[str, str | None] = {}
    for name in methods:
        reached, todo = {name}, [name]
        while todo:  # the methods it may call through self, each once
            for callee in calls[todo.pop()] & methods.keys() - reached:
                reached.add(callee)
                todo.append(callee)
        state[name] = next((own[r] for r in sorted(reached, key=list(methods).index) if own[r]), None)
    return state


def _own_state(method: ast.FunctionDef | ast.AsyncFunctionDef, me: str | None,
               shared: set[str]) -> tuple[str | None, set[str]]:
    """What `method` itself reads of its instance (None: nothing but `shared`, what every instance sees alike),
    and the names it reaches through `me`. __init__ reads nothing: the grader's instance is made without it."""
    if method.name == "__init__":
        return None, set()
    if me is None:
        if method.args.vararg is not None and not _static(method):
            return f"{method.name} takes its instance in *{method.args.vararg.arg}, line {method.lineno}", set()
        return None, set()
    reached: set[int] = set()
    names: set[str] = set()
    for node in ast.walk(method):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == me:
            if node.attr not in shared:
                return f"{me}.{node.attr}, line {node.lineno}", names
            reached.add(id(node.value))
            names.add(node.attr)
    for node in ast.walk(method):
        if isinstance(node, ast.Name) and node.id == me and id(node) not in reached:
            return f"{me} itself, line {node.lineno}", names
    return None, names


def _static(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in method.decorator_list)


def _self_name(method: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The name a method's instance (or class) goes by in it; None for what is called as a plain function (a
    static method, a method without self: grader.intake.extract.bindable)."""
    if bindable(method) and not any(isinstance(d, ast.Name) and d.id == "classmethod" for d in method.decorator_list):
        return None
    parameters = method.args.posonlyargs + method.args.args
    return parameters[0].arg if parameters else None


def bindable(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether `Class.method` can be called as the contract's function, with no instance: a static or class method,
    or a method with no decorator whose first parameter is not named self or cls (in Python 3 a plain
    function in the class body; students who leave out @staticmethod write it so). Named self (or cls
    without @classmethod), it is meant for an instance; another decorator may make it anything."""
    if any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in method.decorator_list):
        return True
    parameters = method.args.posonlyargs + method.args.args
    return not method.decorator_list and not (parameters and parameters[0].arg in ("self", "cls"))


def is_stub(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether `function` is a template's unfilled stub: past its docstring, nothing but `raise
    NotImplementedError`, `pass`, `...` or a bare `return` / `return None` (a course template's placeholders)."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return all(_placeholder(stmt) for stmt in body)


def _placeholder(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis
    if isinstance(stmt, ast.Return):
        return stmt.value is None or (isinstance(stmt.value, ast.Constant) and stmt.value.value is None)
    if isinstance(stmt, ast.Raise) and stmt.exc is not None and stmt.cause is None:
        raised = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False
