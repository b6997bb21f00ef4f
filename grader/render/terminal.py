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

from grader.render.summary import by_function, intake_summary, points, shared_reason
from grader.results import (
    GRADER_FAILED_TEXT,
    NOT_WRITTEN,
    WEAK_SANDBOX,
    ClassResult,
    Status,
    SubmissionResult,
    student_copy,
)

OUTPUT_LABELS = (("results", "Results"), ("report", "Report"), ("instructor", "Instructor's report"),
                 ("instructor_results", "Instructor's results"))


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
    if result.weak_isolation:
        console.print(Text(WEAK_SANDBOX, style="bold red"))
    if result.self_check:
        console.print(
            Text(
                f"self-check: public checks only; {result.hidden_checks_not_run} hidden checks not run", style="yellow"
            )
        )
    _print_intake(result, console)
    if result.load_failure:
        console.print(Text("No function could be checked:", style="bold red"))
        console.print(Text(result.load_failure.message, style="red"))
    if result.banner:
        console.print(Text("Some functions could not be checked:", style="bold red"))
        console.print(Text(result.banner, style="red"))
    if result.checks:
        shared = shared_reason(result)
        console.print(_table(result, shared))
        if shared:
            console.print(Text(f"Each failed check: {shared}", style="red"))
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


def _print_intake(result: SubmissionResult, console: Console) -> None:
    reading = intake_summary(result)
    for line in reading.notes:
        console.print(Text(line, style="dim"))
    for line in reading.warnings:
        console.print(Text(f"warning: {line}", style="yellow"))
    if reading.skipped:
        console.print(Text(reading.skipped_title, style="dim"))
        for line in reading.skipped:
            console.print(Padding(Text(line, style="dim"), (0, 0, 0, 2)))


def _table(result: SubmissionResult, shared: str) -> Table:
    """The checks by function; `shared` is the reason every failed check gives, printed once after the table."""
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
        unwritten = NOT_WRITTEN.format(fn.name)
        if fn.checks and all(c.status is Status.FAILED and c.reason == unwritten for c in fn.checks):
            table.add_row(Text("FAIL", style="bold red"), Padding(Text(f"{unwritten}: its {len(fn.checks)} checks "
                                                                       "fail", style="red"), (0, 0, 0, 2)), Text(""))
            continue
        for check in fn.checks:
            ok = check.status is Status.PASSED
            name: Padding | Group = Padding(Text(check.name), (0, 0, 0, 2))
            if not ok and check.reason and check.reason != shared:  # indented under the name, also where it wraps
                name = Group(name, Padding(Text(check.reason, style="red"), (0, 0, 0, 4)))
            elif check.carried_from:
                name = Group(name, Padding(Text(f"forgiven: it differs only because of your {check.carried_from}",
                                                style="yellow"), (0, 0, 0, 4)))
            table.add_row(
                Text("PASS", style="green") if ok else Text("FAIL", style="bold red"),
                name,
                Text(f"{points(check.score)} / {points(check.max_score)}"),
            )
    return table


def render_class_terminal(result: ClassResult, console: Console, out_dir: Path, fail_under: float | None = None) -> None:
    """One line per submission (score, final score, what went wrong), what a regrade changes, the warnings,
    then the class in numbers and where the files are."""
    ledger = any(r.adjustments for r in result.submissions)
    if result.weak_isolation:
        console.print(Text(f"{WEAK_SANDBOX} ({len(result.weak_isolation)} submissions)", style="bold red"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("submission")
    table.add_column("points", justify="right", no_wrap=True)
    if ledger:
        table.add_column("final", justify="right", no_wrap=True)
    table.add_column("")
    for row in result.submissions:
        status = Text(f"{row.problem}: {row.problem_detail}", style="red") if row.problem else Text("")
        if row.reused:
            status.append(" (unchanged since the last run)" if status else "unchanged since the last run", style="dim")
        if row.note:
            status.append((" " if status else "") + row.note, style="yellow")
        final = [Text(points(row.final) if row.has_grade else "-")] if ledger else []
        score = f"{points(row.score)} / {points(row.max_score)}" if row.has_grade else "no grade"
        table.add_row(Text(row.name), Text(score), *final, status)
    console.print(table)
    if result.regrade:
        held = [c for c in result.regrade if not c.applied]
        console.print(Text(f"Regrading ({result.regrade[0].cause}) changes {len(result.regrade)} grades:", style="bold"))
        for c in result.regrade:
            checks = "; ".join(f"{k.name} {_opt(k.before)} -> {_opt(k.after)}" for k in c.checks)
            console.print(Text(f"  {c.name}: {points(c.before)} -> {points(c.after)} ({c.after - c.before:+g})"
                               f"{'  ' + checks if checks else ''}{'' if c.applied else '  [held back]'}"))
        if held:
            console.print(Text(f"{len(held)} held back: their earlier results stand. Run again with --accept-regrade "
                               "to apply them (nothing is graded again).", style="yellow"))
    for warning in result.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))
    gradable = len(result.submissions) - len(result.ungradable)
    graded = "" if not result.grader_failed else f" of the {len(result.submissions) - len(result.grader_failed)} with a grade"
    final_mean = f" (final, after the ledger: {result.mean_final:.1f})" if result.mean_final != result.mean_score else ""
    console.print(
        Text(
            f"{len(result.submissions)} submissions: {result.graded_now} graded now, {result.reused} unchanged; "
            f"mean{graded} {result.mean_score:.1f}{final_mean}, median {result.median_score:.1f} of {points(result.max_score)}; "
            f"{len(result.troubled)} crashed, timed out or could not be graded; pass rates over the {gradable} gradable.",
            style="bold",
        )
    )
    if result.grader_failed:
        console.print(Text(GRADER_FAILED_TEXT.format(count=len(result.grader_failed),
                                                     names=", ".join(result.grader_failed)), style="bold red"))
    if result.similarity is not None:
        console.print(Text(f"Similarity: {result.similarity.flagged} pairs flagged of {result.similarity.pairs_compared} "
                           f"(threshold {100 * result.similarity.threshold:.0f}%)."))
    elif result.similarity_note:
        console.print(Text(f"Similarity report not made: {result.similarity_note}", style="dim"))
    if fail_under is not None:
        below = [r.name for r in result.submissions if r.has_grade and r.final < fail_under]
        if below:
            console.print(Text(f"{len(below)} below --fail-under {fail_under:g}: {', '.join(below)}", style="bold red"))
    files = [("Overview", "index.html"), ("Gradebook", "grades.csv"), ("Canvas", "canvas.csv"), ("Moodle", "moodle.csv"),
             ("Summary", "summary.json")] + ([("Similarity", result.similarity.page)] if result.similarity else [])
    for label, name in files:
        console.print(Text.assemble((f"{label}: ", "dim"), str(out_dir / name)), soft_wrap=True)


def _opt(value: float | None) -> str:
    return "-" if value is None else points(value)
