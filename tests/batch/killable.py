"""A class run for the tests to kill: python -m tests.batch.killable CLASS OUT CONTROL [--jobs N] [--dask ADDRESS].

It grades with fakes.held_grade (which waits for the test's go-ahead in CONTROL) and holds the similarity
report the same way (similarity-started, then release-similarity or release-all), so that a test can
SIGKILL it at a moment it chose.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from grader.assignment import load_assignment
from grader.batch.run import grade_class
from grader.similarity import collect

from .fakes import held_grade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("control", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dask")
    args = parser.parse_args()
    real = collect.class_similarity

    def held(*pieces, **options):
        (args.control / "similarity-started").write_text(str(os.getpid()))
        while not any((args.control / name).exists() for name in ("release-similarity", "release-all")):
            time.sleep(0.02)
        return real(*pieces, **options)

    collect.class_similarity = held
    grade_class(args.folder, args.out, load_assignment(), jobs=args.jobs, dask_address=args.dask, grade=held_grade,
                progress=False)


if __name__ == "__main__":
    main()
