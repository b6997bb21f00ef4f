"""The grader's import graph has no cycle: neither between its top-level modules and packages (grader.batch,
grader.intake, grader.assignment...) nor between modules. Every import counts, those inside functions too,
since one there usually only hides a cycle from the interpreter; only ``if TYPE_CHECKING:`` blocks do not."""

import ast
from pathlib import Path

GRADER = Path(__file__).resolve().parents[2] / "grader"


def _modules() -> dict[str, Path]:
    found = {}
    for path in GRADER.rglob("*.py"):
        parts = path.relative_to(GRADER.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The grader's modules `name` imports; a name imported from a package is its sub-module when it is one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    # A module's own packages are being imported already when it runs: not an edge.
    return {m for m in found if m in modules and m != name and not name.startswith(m + ".")}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _top_level(name: str) -> str:
    return ".".join(name.split(".")[:2])


def test_no_module_of_the_grader_imports_itself_back():
    assert _cycles(_graph()) == []


def test_the_grader_s_packages_are_layers_no_two_import_each_other():
    layers: dict[str, set[str]] = {}
    for source, targets in _graph().items():
        layers.setdefault(_top_level(source), set()).update(
            _top_level(t) for t in targets if _top_level(t) != _top_level(source))
    assert _cycles(layers) == []


def test_the_check_finds_a_cycle_hidden_in_a_function(tmp_path):
    """The detector itself, on the shape of a cycle the grader had: intake unpacked zips with batch's code,
    imported inside a function because batch imports grading, which imports intake."""
    probe = tmp_path / "prepare.py"
    probe.write_text("def find():\n    from grader.batch.archive import unpack\n")
    modules = {"grader.intake.prepare": probe, "grader.batch.archive": probe, "grader.batch": probe}
    assert _imports("grader.intake.prepare", probe, modules) == {"grader.batch.archive"}
    graph = {"grader.intake.prepare": {"grader.batch.archive"}, "grader.batch.archive": {"grader.batch"},
             "grader.batch": {"grader.grading"}, "grader.grading": {"grader.intake.prepare"}}
    assert _cycles(graph) == [["grader.batch", "grader.batch.archive", "grader.grading", "grader.intake.prepare"]]
