"""Finding the submissions in a class folder, and naming each one.

A class folder holds one entry per student, as an LMS exports them: a sub-folder, a zip file, or the flat
files an LMS named for one student (Canvas's download: `lastfirst_USERID_ATTACHMENTID_name`, every file of
every student in one folder; Moodle's without folders), grouped by the LMS's ID (grader.files.lms_names).
Folders and zips are named by their folder name or the zip's stem, a student's flat files by the student
(`quistrita_1001`, so a resubmission keeps its results folder); the name is also the folder its results go
to, so two entries that would share a name (alice/ and alice.zip, or Alice.zip and alice.ZIP on a
case-insensitive disk) are told apart by a suffix, deterministically, and the renamed entry carries a note
saying so. Moodle gives a student one folder per submission plugin: the files' folder is the entry, and
an online text's folder beside it is named in its note.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from grader.files.listing import is_junk, is_zip, printable_name
from grader.files.lms_names import (
    MOODLE,
    StudentFiles,
    group_by_student,
    read_upload_name,
)

FOLDER, ZIP, FILES = "folder", "zip", "files"
# The class-level outputs sit beside the per-submission folders; no submission may take their names.
# A submission's name is its results folder's, which file systems hold to 255 bytes; spelled out printable, a
# name can be four times its folder's (\xNN for each byte not UTF-8), and a suffix may follow.
MAX_ENTRY_NAME_BYTES = 200
RESERVED_NAMES = frozenset({"grades.csv", "summary.json", "index.html", "canvas.csv", "moodle.csv", "similarity.html",
                            "overrides.yaml", "late-policy.yaml", "students.csv"})


@dataclass(frozen=True)
class Entry:
    name: str  # the submission's name: also its output folder's name
    path: Path  # the folder or zip file in the class folder (FILES: the student's first file)
    kind: str  # FOLDER, ZIP or FILES
    note: str = ""  # why the name differs from the folder name or zip stem, if it does
    files: tuple[tuple[str, Path], ...] = ()  # FILES: (the name the student gave it, the file in the class folder)

    @property
    def sources(self) -> Path | tuple[Path, ...]:
        """What in the class folder this submission is: its folder or zip file, or the student's flat files."""
        return tuple(path for _, path in self.files) if self.kind == FILES else self.path


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
    paths = [p for p in sorted(folder.iterdir(), key=lambda p: p.name)
             if not is_junk(p.name) and (skip is None or p.resolve() != skip)]
    found = _folders([p for p in paths if p.is_dir()])
    groups, others = group_by_student(p for p in paths if not p.is_dir())
    found += [Entry(printable_name(g.name), g.files[0][1], FILES, _renamed(g), g.files) for g in groups]
    found += [Entry(printable_name(p.name[: -len(".zip")]), p, ZIP) for p in others if is_zip(p)]
    ignored = [printable_name(p.name) for p in others if not is_zip(p)]
    found.sort(key=lambda e: ((FOLDER, FILES, ZIP).index(e.kind), e.path.name))
    return Discovery(tuple(_followed(entry) for entry in _name_uniquely(found)), tuple(ignored))


def _followed(entry: Entry) -> Entry:
    """`entry` read from what it points to where it is a link at the class folder's top, named as the link.

    The class folder is the course staff's (students make no entries in it), so a link there is theirs: a
    student's folder, zip or file linked in from elsewhere on purpose. It is followed here, once, and what
    grading reads is the target itself; nothing inside a student's submission is ever followed
    (grader.sandbox.scratch refuses it in words).
    """
    return dataclasses.replace(entry, path=_target(entry.path), files=tuple((n, _target(p)) for n, p in entry.files))


def _target(path: Path) -> Path:
    # realpath, not resolve(): a loop of links is left as it is (reading it then fails as that entry's), not raised.
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _renamed(student: StudentFiles) -> str:
    """The note on a student's files put in under another name than the LMS's for the file (its resubmission
    suffix taken off, or a number added so that two names do not coincide)."""
    renamed = [f"{printable_name(u.original)} as {printable_name(name)}"
               for u, (name, _) in zip(student.uploads, student.files) if u.original != name]
    return f"graded {', '.join(renamed)}" if renamed else ""


def _folders(folders: list[Path]) -> list[Entry]:
    """An entry per folder, but one per Moodle participant (or team): the files' folder, with the others in its
    note."""
    by_participant: dict[str, list[tuple[str, Path]]] = {}  # participant -> (submission plugin, folder)
    entries = []
    for path in folders:
        upload = read_upload_name(path.name, is_file=False)
        if upload is not None and upload.lms == MOODLE:
            by_participant.setdefault(upload.student_id, []).append((upload.plugin, path))
        else:
            entries.append(Entry(printable_name(path.name), path, FOLDER))
    for plugins in by_participant.values():
        chosen = min(plugins, key=lambda item: (item[0] != "file", item[1].name))[1]
        paths = [path for _, path in plugins]
        others = [printable_name(p.name) for p in paths if p != chosen]
        note = f"also downloaded for this student, not graded: {', '.join(others)}" if others else ""
        entries.append(Entry(printable_name(chosen.name), chosen, FOLDER, note))
    return entries


def _name_uniquely(found: list[Entry]) -> tuple[Entry, ...]:
    # Compared case-insensitively: the output folder may be on a case-insensitive file system.
    reserved = {n.casefold(): "a class-level output" for n in RESERVED_NAMES}
    wanted = {_fitting(entry.name).casefold() for entry in found}
    taken = dict(reserved)  # casefolded name -> what holds it, for the note
    entries = []
    for entry in found:
        name = _fitting(entry.name)
        given, number = name, 2
        # A suffixed name must not take the plain name of another entry either.
        while given.casefold() in taken or (given != name and given.casefold() in wanted):
            given, number = _fitting(name, f"-{number}"), number + 1
        note = entry.note
        if given != entry.name:
            why = (f"{name!r} is already {taken[name.casefold()]}" if given != name
                   else f"a results folder's name may be at most {MAX_ENTRY_NAME_BYTES} bytes")
            renamed = f"{printable_name(entry.path.name)} was graded as {given!r} because {why}"
            note = "; ".join(filter(None, [renamed, note]))
        taken[given.casefold()] = f"the name of {printable_name(entry.path.name)}"
        entries.append(dataclasses.replace(entry, name=given, note=note))
    return tuple(entries)


def _fitting(name: str, suffix: str = "") -> str:
    """`name` cut short enough that, with `suffix` after it, it takes at most MAX_ENTRY_NAME_BYTES in UTF-8."""
    room = MAX_ENTRY_NAME_BYTES - len(suffix.encode())
    return name.encode()[:room].decode("utf-8", "ignore") + suffix
