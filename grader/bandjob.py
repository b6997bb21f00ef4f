"""The reference band's own process: ``python -m grader.bandjob JOB`` (grader.diagnostics.band.BandRun starts it).

It loads the spec folder its parent named, at its own edge, computes the band the job file asks for and
writes it where the job says; the parent reads it when the submission's run is done.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from grader.assignment import load_assignment
from grader.diagnostics.band import BandSettings, compute_band, write_band
from grader.oracle import LiveOracle
from grader.sandbox.processes import die_with_parent


def main(job_file: str) -> None:
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    die_with_parent(job["parent"])  # a grader killed mid-report takes its band's run with it
    settings = BandSettings(**job["settings"])
    start = {k: np.array(v, dtype=np.float64) for k, v in job["start"].items()}
    oracle = LiveOracle(load_assignment(job["spec_dir"]))
    write_band(Path(job["out"]), compute_band(oracle, job["text"], start, settings), settings)


if __name__ == "__main__":
    main(sys.argv[1])
