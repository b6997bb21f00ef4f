"""What grader processes killed on this machine left behind, and its removal.

A grader killed by SIGKILL (a time limit, the out-of-memory killer, a lost Dask worker) cannot clean up:
its sandboxes' processes die with it (the parent-death signal, bubblewrap's --die-with-parent), but their
folders, size-limited spaces and control groups stay. `sweep` removes what no live grader process holds
(grader.sandbox.claims, grader.sandbox.space); a class run calls it before it starts, and so does every
grading process it starts, locally or on a Dask worker's machine.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from . import cgroups, claims, space
from .processes import kill_until_gone, processes_with_marker
from .scratch import sandboxes_folder


def sweep(bases: list[Path] | None = None) -> list[Path]:
    """Remove what killed grader processes left on this machine (in `bases`: by default the temporary folder
    and the sandboxes' folder); return the folders removed."""
    removed = []
    for base in bases if bases is not None else [Path(tempfile.gettempdir()), sandboxes_folder()]:
        space.sweep(base)  # the spaces mounted on dead sandboxes' folders
        removed += claims.sweep(base, functools.partial(_stop, base))
    return removed


def _stop(base: Path, noted: dict) -> None:
    """Kill what a dead sandbox may have left running: its control groups' processes (then remove the groups),
    and processes carrying its marker (tiers without a control group); then unmount its space, whose owner may
    have died only after the first look at `base` (its folder cannot go while the space is mounted on it)."""
    if isinstance(noted.get("group"), str):
        group = cgroups.existing(noted["group"])
        if group is not None:
            kill_until_gone(group.pids)
            group.close()
    if isinstance(noted.get("marker"), str):
        marker = noted["marker"].encode()
        kill_until_gone(lambda: processes_with_marker(marker))
    space.sweep(base)
