"""The grader's own CPU time to take in hostile submissions (issue 22), beside what it cost before.

    python bench/bench_intake.py

Each input is read as the grader reads a submission, in its own process (prepare(): locate, unpack,
read the notebook, extract the definitions), before any sandbox runs. Baseline: the same inputs on commit
d5eb3c9 (before the bounds), measured on this 2-core machine while other work ran; the cases marked
"~" are extrapolated from the sizes measured there (the old cost grew as the square, or doubled per digit).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment
from grader.intake import NotGradable, Offered, prepare

ALICE = (ROOT / "submissions" / "alice" / "rnn.py").read_text()


def notebook_with_spaces(folder: Path) -> None:
    """The red team's notebook: alice's code and a cell holding a line of 64k spaces (68 KiB in all)."""
    cells = [new_code_cell(ALICE), new_code_cell("seed = 1\n" + " " * 65536)]
    nbformat.write(new_notebook(cells=cells), folder / "rnn.ipynb")


def notebook_of_empty_outputs(folder: Path) -> None:
    """alice's code, then 2,989 cells of 230 empty stream outputs each (34 MiB): nbformat validated each one."""
    empty = {"output_type": "stream", "name": "stdout", "text": ""}
    cells = [new_code_cell(ALICE)] + [new_code_cell("x = 1", outputs=[empty] * 230) for _ in range(2989)]
    (folder / "rnn.ipynb").write_text(json.dumps(new_notebook(cells=cells)))  # nbformat.write would validate it


def statements_on_one_line(folder: Path) -> None:
    """alice, then 14,000 statements on one line, every other one top-level work (240 KB)."""
    (folder / "rnn.py").write_text(ALICE + "a = 1; print(a); " * 14_000 + "\n")


def rnn_and_digits(folder: Path) -> None:
    """alice's rnn (1).py beside a file named rnn, 40 digits and x."""
    (folder / "rnn (1).py").write_text(ALICE)
    (folder / ("rnn" + "1" * 40 + "x.py")).write_text("x = 1\n")


def broken_deflate(folder: Path) -> None:
    """A zip whose member's deflate stream starts with the reserved block type."""
    path = folder / "s.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("rnn.py", ALICE)
    data = bytearray(path.read_bytes())
    data[30 + len("rnn.py")] = 0x07
    path.write_bytes(bytes(data))


def many_entries(folder: Path) -> None:
    """A 17 MB zip of 200,000 empty entries (a 10 MB central directory)."""
    with zipfile.ZipFile(folder / "s.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("rnn.py", ALICE)
        for i in range(200_000):
            zf.writestr(zipfile.ZipInfo(str(i)), b"")


CASES = [  # (what, build, baseline on d5eb3c9)
    ("notebook, 64k spaces on a line (68 KiB)", notebook_with_spaces, "69.8 s"),
    ("notebook, 2,989 cells x 230 empty outputs", notebook_of_empty_outputs, "29.7 s (on ec54e77)"),
    ("rnn.py, 14,000 statements on one line", statements_on_one_line, "~390 s (4,000: 31.9 s)"),
    ("file named rnn + 40 digits + x", rnn_and_digits, "~1.6 days (22 digits: 0.53 s)"),
    ("zip, corrupt deflate stream", broken_deflate, "crash (zlib.error)"),
    ("zip, 200,000 entries", many_entries, "1.3 s to list, then refused"),
]


def main() -> None:
    assignment = load_assignment()
    offered = Offered.of(assignment.allowed_imports)
    print(f"{'input':45} {'grader CPU now':>15}   before (d5eb3c9)   outcome")
    for what, build, before in CASES:
        with tempfile.TemporaryDirectory() as temp:
            folder = Path(temp) / "s"
            folder.mkdir()
            build(folder)
            path = folder / "s.zip" if (folder / "s.zip").exists() else folder
            start = time.process_time()
            try:
                with prepare(path, assignment.functions, offered) as prepared:
                    outcome = f"graded {prepared.graded_file}"
            except NotGradable as exc:
                outcome = str(exc)[:60]
            seconds = time.process_time() - start
        print(f"{what:45} {seconds:13.3f} s   {before:18} {outcome}")


if __name__ == "__main__":
    main()
