"""The terminal summary: functions and checks with points, why each failure failed, the total.

rich decides from the stream whether it is a terminal: colours and the progress spinner only appear
there, and output piped to a file is plain text. Everything from the submission (reasons quoting its
exceptions) goes in as rich Text, never as markup, so a "[bold]" in an error message prints as is.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.render.summary import by_function, points
from grader.results import ClassResult, Status, SubmissionResult, student_copy

OUTPUT_LABELS = (("results", "Results"), ("report", "Report"), ("instructor", "Instructor's report"))


def make_console(file: TextIO | None = None) -> Console:
    return Console(file=file or sys.stdout, highlight=False, emoji=False)


@contextlib.contextmanager
def progress(console: Console, message: str) -> Iterator[None]:
    """A spinner with `message` while the block runs, on a terminal; nothing otherwise."""
    if not console.is_terminal:
        yield
        return
    with console.status(Text(message), spinner="dots"):
        yield


def render_terminal(result: SubmissionResult, console: Console, outputs: dict[str, Path] | None = None) -> None:
    """Print the summary of the visible checks (whoever reads a terminal may be a student); `outputs` is
    write_outputs' answer, so the reader learns where the reports are."""
    not_shown = len(result.checks) - len(student_copy(result).checks)
    result = student_copy(result)
    console.print(Text.assemble(("RNN assignment: ", "bold"), (result.name, "bold")))
    if result.self_check:
        console.print(
            Text(
                f"self-check: public checks only; {result.hidden_checks_not_run} hidden checks not run", style="yellow"
            )
        )
    if result.load_failure:
        console.print(Text("rnn.py could not be loaded, so no function could be checked:", style="bold red"))
        console.print(Text(result.load_failure.message, style="red"))
    if result.checks:
        console.print(_table(result))
    total_style = "bold green" if result.score >= result.max_score else "bold"
    label = "Visible checks" if not_shown else "Total"
    console.print(Text(f"{label}: {points(result.score)} / {points(result.max_score)}", style=total_style))
    if not_shown:
        console.print(Text(f"{not_shown} hidden checks were graded too: their results are in the instructor's report only.",
                           style="yellow"))
    diagnostics = result.diagnostics
    if diagnostics and (diagnostics.gradients.failure or diagnostics.training.failure):
        console.print(Text("The report's diagnostics could not all run; see the report for why.", style="yellow"))
    if real := diagnostics and diagnostics.real_text:
        best = "" if real.best_smooth_loss is None else (
            f"; lowest smooth loss {real.best_smooth_loss:.2f} after update {real.best_update}")
        console.print(Text(f"On {real.text_name}: {real.updates_done} of {real.n_updates} updates in {real.seconds:.0f} s{best}, "
                           f"{len(real.samples)} samples."))
        for line in (*real.notes, real.failure):
            if line:
                console.print(Text(line, style="yellow" if line == real.failure else ""))
    for label, path in (outputs or {}).items():
        # soft_wrap: a path stays on one line, so it can be copied or clicked whole
        console.print(Text.assemble((f"{dict(OUTPUT_LABELS).get(label, label)}: ", "dim"), str(path)), soft_wrap=True)


def _table(result: SubmissionResult) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("", no_wrap=True)
    table.add_column("function / check")
    table.add_column("points", justify="right", no_wrap=True)
    for fn in by_function(result):
        table.add_row(
            Text(""),
            Text.assemble((fn.name, "bold"), (f"  {fn.passed}/{len(fn.checks)} passed", "dim")),
            Text(f"{points(fn.score)} / {points(fn.max_score)}", style="bold"),
        )
        for check in fn.checks:
            ok = check.status is Status.PASSED
            name = Padding(Text(check.name), (0, 0, 0, 2))
            if not ok and check.reason:  # indented under the name, also where it wraps
                name = Group(name, Padding(Text(check.reason, style="red"), (0, 0, 0, 4)))
            table.add_row(
                Text("PASS", style="green") if ok else Text("FAIL", style="bold red"),
                name,
                Text(f"{points(check.score)} / {points(check.max_score)}"),
            )
    return table


def render_class_terminal(result: ClassResult, console: Console, out_dir: Path) -> None:
    """One line per submission (score, and what went wrong if anything), then the class in numbers."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("submission")
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("")
    for row in result.submissions:
        status = Text(f"{row.problem}: {row.problem_detail}", style="red") if row.problem else Text("")
        if row.reused:
            status.append(" (unchanged since the last run)" if status else "unchanged since the last run", style="dim")
        table.add_row(Text(row.name), Text(f"{points(row.score)} / {points(row.max_score)}"), status)
    console.print(table)
    console.print(
        Text(
            f"{len(result.submissions)} submissions: {result.graded_now} graded now, {result.reused} unchanged; "
            f"mean {result.mean_score:.1f}, median {result.median_score:.1f} of {points(result.max_score)}; "
            f"{len(result.troubled)} crashed, timed out or could not be graded.",
            style="bold",
        )
    )
    for label, name in (("Overview", "index.html"), ("Gradebook", "grades.csv"), ("Summary", "summary.json")):
        console.print(Text.assemble((f"{label}: ", "dim"), str(out_dir / name)), soft_wrap=True)
