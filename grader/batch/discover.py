"""Finding the submissions in a class folder, and naming each one.

A class folder holds one entry per student, as an LMS exports them: a sub-folder or a zip file. Each is
named by its folder name or the zip's stem; the name is also the folder its results go to, so two entries
that would share a name (alice/ and alice.zip, or Alice.zip and alice.ZIP on a case-insensitive disk) are
told apart by a suffix, deterministically, and the renamed entry carries a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.files.listing import is_junk, is_zip, printable_name

FOLDER, ZIP = "folder", "zip"
# The class-level outputs sit beside the per-submission folders; no submission may take their names.
RESERVED_NAMES = frozenset({"grades.csv", "summary.json", "index.html", "canvas.csv", "moodle.csv", "similarity.html",
                            "overrides.yaml", "late-policy.yaml", "students.csv"})


@dataclass(frozen=True)
class Entry:
    name: str  # the submission's name: also its output folder's name
    path: Path  # the folder or zip file in the class folder
    kind: str  # FOLDER or ZIP
    note: str = ""  # why the name differs from the folder name or zip stem, if it does


@dataclass(frozen=True)
class Discovery:
    entries: tuple[Entry, ...]
    ignored: tuple[str, ...]  # names of other files in the class folder, neither folder nor zip


def discover(folder: Path, exclude: Path | None = None) -> Discovery:
    """The entries of `folder`, in a stable order (folders, then zips, each by name).

    `exclude` is a path to leave out: the output folder, when it was put inside the class folder.
    """
    folder = Path(folder)
    skip = exclude.resolve() if exclude is not None else None
    found: list[tuple[str, Path, str]] = []
    ignored = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if is_junk(path.name) or (skip is not None and path.resolve() == skip):
            continue
        if path.is_dir():
            found.append((printable_name(path.name), path, FOLDER))
        elif is_zip(path):
            found.append((printable_name(path.name[: -len(".zip")]), path, ZIP))
        else:
            ignored.append(printable_name(path.name))
    found.sort(key=lambda item: (item[2] != FOLDER, item[1].name))
    return Discovery(_name_uniquely(found), tuple(ignored))


def _name_uniquely(found: list[tuple[str, Path, str]]) -> tuple[Entry, ...]:
    # Compared case-insensitively: the output folder may be on a case-insensitive file system.
    reserved = {n.casefold(): "a class-level output" for n in RESERVED_NAMES}
    wanted = {name.casefold() for name, _, _ in found}
    taken = dict(reserved)  # casefolded name -> what holds it, for the note
    entries = []
    for name, path, kind in found:
        given, number = name, 2
        # A suffixed name must not take the plain name of another entry either.
        while given.casefold() in taken or (given != name and given.casefold() in wanted):
            given, number = f"{name}-{number}", number + 1
        note = ""
        if given != name:
            note = f"{printable_name(path.name)} was graded as {given!r} because {name!r} is already {taken[name.casefold()]}"
        taken[given.casefold()] = f"the name of {printable_name(path.name)}"
        entries.append(Entry(given, path, kind, note))
    return tuple(entries)
