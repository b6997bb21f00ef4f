"""The command line: ``python -m grader PATH [--out DIR] [--jobs N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader import __version__
from grader.contract import SpecError
from grader.grading import grade_submission
from grader.outputs import OutputError, default_out_dir, write_outputs
from grader.render.terminal import make_console, progress, render_terminal
from grader.texts import TextError

USAGE_ERROR = 2

DESCRIPTION = """\
Grade character-level vanilla RNN submissions against the reference.

PATH is a submission (a folder with rnn.py). Each submission runs in a sandbox; its results go to
--out as results.json (Gradescope's format) and report.html, and a summary is printed.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, help="a submission folder (containing rnn.py)")
    parser.add_argument("--out", type=Path, help="where results go (default: grading-output/<name>/)")
    parser.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the cores)")
    parser.add_argument("--spec", type=Path, help="a folder with contract.yaml and grading.yaml (default: the shipped spec)")
    parser.add_argument("--fail-under", type=float, metavar="SCORE", help="exit with status 1 when the score is lower")
    parser.add_argument("--version", action="version", version=f"rnn-grader {__version__}")
    return parser


class UsageError(Exception):
    """The command line names something the grader cannot grade."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = make_console()
    try:
        return _grade_one(args, console)
    except (UsageError, OutputError, SpecError, TextError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False)
        return USAGE_ERROR


def _grade_one(args: argparse.Namespace, console) -> int:
    path = _submission_folder(args.path)
    out = args.out or default_out_dir(path)
    with progress(console, f"Grading {path.name}"):
        result = grade_submission(path, spec_dir=args.spec)
    outputs = write_outputs(result, out)
    render_terminal(result, console, outputs)
    if args.fail_under is not None and result.score < args.fail_under:
        return 1
    return 0


def _submission_folder(path: Path) -> Path:
    if not path.exists():
        raise UsageError(f"no such folder: {path}")
    if not path.is_dir():
        raise UsageError(f"{path} is a file; give the submission's folder (the one that holds rnn.py)")
    if not (path / "rnn.py").is_file():
        raise UsageError(f"no rnn.py in {path} (looked for {path / 'rnn.py'})")
    return path
