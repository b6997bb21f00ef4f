"""The command line: ``python -m grader PATH [--out DIR] [--jobs N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader import __version__

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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    raise NotImplementedError
