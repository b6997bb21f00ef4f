"""The packages a submission may import, and the files each tier exposes for them.

The course declares a set of distributions (``imports: allowed`` in contract.yaml: numpy, scipy,
matplotlib, pandas and tqdm in the shipped spec). Each needs its own runtime dependencies to import, so the
sandbox exposes the declared set and, transitively, what those require (extras excluded), and nothing else
that is installed: not the grader, not the reference, not the other packages of the same site-packages folder.

Exposing means putting each distribution's top-level entries (package folders, single-module files,
the bundled-library folders such as ``numpy.libs``, its dist-info) side by side in one folder the worker
puts on ``sys.path``. Extension modules find their bundled libraries through paths relative to their
own location ($ORIGIN/../numpy.libs), which side-by-side entries keep.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import importlib.metadata
import os
import re
from pathlib import Path, PurePosixPath

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclasses.dataclass(frozen=True)
class Exposed:
    """What a sandbox exposes: the declared distributions, what they need, and the files that are theirs."""

    declared: tuple[str, ...]  # as the course wrote them, for messages
    missing: tuple[str, ...]  # declared but not installed beside the grader
    entries: tuple[str, ...]  # absolute paths of top-level files and folders, no two with one name
    modules: tuple[str, ...]  # the top-level import names those entries provide

    def sentence(self) -> str:
        """The rule in words, for messages: "numpy, scipy, ... and Python's standard library"."""
        return ", ".join(self.declared) + " and Python's standard library"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(dist: importlib.metadata.Distribution) -> list[str]:
    """Names of the runtime requirements (those under an extra are optional, so left out)."""
    names = []
    for requirement in dist.requires or ():
        _, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        match = _NAME.match(requirement.strip())
        if match:
            names.append(match.group(0))
    return names


def _first_parts(dist: importlib.metadata.Distribution) -> set[str]:
    """The first part of each path the distribution lists as its own.

    RECORD (a CSV of path, hash, size) is read as it is: dist.files makes a path object of each of its
    thousands of lines (pandas, scipy), which cost every grading process and every command 0.05 s of CPU."""
    record = dist.read_text("RECORD")
    if record is None:  # no RECORD (an egg-info install): the file list importlib.metadata finds instead
        return {file.parts[0] for file in dist.files or () if file.parts}
    firsts = set()
    for row in csv.reader(record.splitlines()):
        first = row[0].partition("/")[0] if row else ""
        if first in ("", "."):  # an absolute path, ./name or a blank line: parts as a path object has them
            first = next(iter(PurePosixPath(row[0]).parts), "") if row else ""
        if first:
            firsts.add(first)
    return firsts


def _top_level(dist: importlib.metadata.Distribution) -> set[Path]:
    """The distribution's top-level entries in its site folder (never paths leaving it, like ../../bin)."""
    # Each first part located once: locating each of RECORD's lines cost every grading process 0.1 s of CPU.
    # The shared __pycache__ holds others' files.
    found = {Path(str(dist.locate_file(first))) for first in _first_parts(dist) - {"..", "__pycache__"}}
    if not found:  # installed without a RECORD (some distribution packages): top_level.txt then
        site = Path(str(dist.locate_file("")))
        for name in (dist.read_text("top_level.txt") or "").split():
            found.update(p for p in (site / name, site / f"{name}.py") if p.exists())
    return {p for p in found if p.exists()}


@functools.cache
def resolve(declared: tuple[str, ...]) -> Exposed:
    """Everything that must be visible for the declared distributions to import, and nothing more."""
    seen: set[str] = set()
    missing: list[str] = []
    entries: dict[str, str] = {}
    todo = [(name, True) for name in declared]
    while todo:
        name, is_declared = todo.pop()
        if _normal(name) in seen:
            continue
        seen.add(_normal(name))
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if is_declared:
                missing.append(name)
            continue  # an optional platform dependency (colorama on Windows): not needed here
        for entry in _top_level(dist):
            entries.setdefault(entry.name, os.path.realpath(entry))
        todo += [(requirement, False) for requirement in _requirements(dist)]
    modules = sorted({name.split(".")[0] for name in entries
                      if not name.endswith((".dist-info", ".egg-info", ".libs", ".pth"))
                      and (Path(entries[name]).is_dir() or name.endswith((".py", ".so", ".pyd")))})
    return Exposed(tuple(declared), tuple(sorted(missing)), tuple(sorted(entries.values())),
                   tuple(modules))


def link_folder(exposed: Exposed, target: Path) -> str:
    """A folder of links to the exposed entries only, for tiers without a filesystem of their own."""
    target.mkdir(mode=0o755)
    for entry in exposed.entries:
        os.symlink(entry, target / os.path.basename(entry))
    return str(target)


def site_folders_of(exposed: Exposed) -> list[str]:
    """The folders holding the exposed entries: what a tier that hides nothing puts on sys.path."""
    return sorted({os.path.dirname(entry) for entry in exposed.entries})
