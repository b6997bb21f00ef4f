"""Remove the hidden checks' code from the check modules that go into the kit."""

from __future__ import annotations

import ast


def strip_checks(source: str, names: set[str]) -> tuple[str, set[str]]:
    """Drop every top-level function registered with ``@check(NAME, ...)`` for NAME in ``names``.

    Returns the new source and the names removed. Only whole decorated functions are removed (from the
    first decorator to the function's last line), so the rest of the module is untouched.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    removed, spans = set(), []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            name = _check_name(decorator)
            if name in names:
                removed.add(name)
                spans.append((node.decorator_list[0].lineno - 1, node.end_lineno or node.lineno))
    for start, end in sorted(spans, reverse=True):
        while end < len(lines) and not lines[end].strip():
            end += 1  # the blank lines that separated it from the next definition
        del lines[start:end]
    return "".join(lines), removed


def _check_name(decorator: ast.expr) -> str | None:
    if (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Name)
        and decorator.func.id == "check"
        and decorator.args
        and isinstance(decorator.args[0], ast.Constant)
        and isinstance(decorator.args[0].value, str)
    ):
        return decorator.args[0].value
    return None
