"""Importing a prepared submission in its sandbox, with the definitions-only fallback for top-level work.

rnn.py is first imported as it is, so top-level code that works (a seed, a constant computed by a call)
keeps working. Only when that import fails or runs too long, and the file does work at its top level, is it
imported again from its definitions alone; the result then carries a warning naming what was left out.
If the definitions alone cannot be imported either, or define none of the contract's functions, the first
failure stands: it is the one the student sees when running the file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from grader.intake.extract import Extraction
from grader.intake.prepare import Prepared, listed
from grader.sandbox import FailureKind, Sandbox

GUARD = 'if __name__ == "__main__":'


@contextlib.contextmanager
def load(prepared: Prepared, open_sandbox: Callable[[Path], Sandbox]) -> Iterator[tuple[Sandbox, str]]:
    """(the sandbox to grade with, the top-level warning or "") for `prepared`."""
    with contextlib.ExitStack() as stack:
        box = stack.enter_context(open_sandbox(prepared.folder))
        failure = box.load_failure
        if failure is None or prepared.fallback is None or failure.kind is FailureKind.refused:
            yield box, ""
            return
        box.close()  # its load failure stays readable: the answer if the definitions fail too
        notes = prepared.notes
        prepared.use_definitions_only()
        retry = stack.enter_context(open_sandbox(prepared.folder))
        if retry.load_failure is not None or not any(f.is_callable for f in retry.functions.values()):
            prepared.skipped = prepared.left_out = ()
            if retry.load_failure is not None:  # else its notes say why it defines none (methods it cannot call)
                prepared.notes = notes
            yield box, ""
            return
        yield retry, warning(prepared, prepared.fallback, failure.message)


def warning(prepared: Prepared, fallback: Extraction, failure: str) -> str:
    """One line: what stopped the import, what was graded instead (``fallback``, and the definitions alone of
    the modules beside it that do work: prepared.helpers), and how to fix it."""
    failure = prepared.relabel(failure[:1].lower() + failure[1:]).rstrip(".")
    work = fallback.work
    helpers = [f"{name} ({_span(alone.work)})" for name, (alone, _) in sorted(prepared.helpers.items())]
    if not work and not helpers:
        unused = ", ".join(str(s.line) for s in fallback.skipped)
        return (f"{prepared.graded_file} imports modules your functions do not use (line {unused}), and "
                f"{failure}. It was graded without those imports; remove them.")
    if not work:
        where = (f"{listed(helpers)}, which {prepared.graded_file} imports, "
                 + ("runs code at its top level" if len(helpers) == 1 else "run code at their top level"))
    else:
        where = f"{prepared.graded_file} runs code at its top level ({_span(work)})"
        where += f", as does {listed(helpers)} beside it" if helpers else ""
    files = "the file" if len(helpers) + bool(work) == 1 else "each file"
    return (f"{where}, and {failure}. Your functions were graded from their definitions alone; put the top-level "
            f"code under `{GUARD}` so that importing {files} only defines them.")


def _span(work) -> str:
    start, end = min(s.line for s in work), max(s.end_line for s in work)
    return f"line {start}" if start == end else f"lines {start}-{end}"
