"""The files of an LMS download, read as the LMS names them: whose each one is, and what the student called it.

Canvas's "Download Submissions" puts every file of every student flat in one folder, each named
`lastfirst[_LATE]_USERID_ATTACHMENTID_original` (Canvas's ContentZipper: the sortable name, or a group
assignment's group name, squashed to its word characters and lower-cased, "late" or "LATE" when Canvas marked the submission late, the Canvas user
ID, the file's own attachment ID, then the name the student gave it). A multi-file upload is several such
files with one user ID and different attachment IDs; an anonymous assignment has `anon_XXXXX` for name and
ID; a text entry is `lastfirst_USERID_text.html`. A file uploaded again under a name the student already
used in Canvas gets a suffix before its extension: rnn.py, then rnn-1.py.

Moodle's "Download all submissions" gives one folder per student and plugin,
`Full Name_PARTICIPANT_assignsubmission_file_` (also `Participant_N_...` under blind marking, a group's
name before the full name, and no trailing underscore since Moodle 4.2), or, with "download submissions in
folders" off, flat files `Full Name_PARTICIPANT_assignsubmission_file_original`. A team assignment's folders
are the teams' (`Team 7_GROUPID_assignsubmission_file`, read as the above: only the grading worksheet tells
the two apart, grader.lms.moodle), and those in no group share `Default group_assignsubmission_file`.

Everything here reads names only (bounded: a file name is at most 255 bytes) and never a file's bytes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CANVAS, MOODLE = "canvas", "moodle"

# The name is the sortable name's word characters (Ruby's [[:word:]]: letters, combining marks, digits; "Öberg,
# Åsa" is "öbergåsa", a group assignment's "Group 3" is "group3"), lower-cased, told apart here without "_";
# "late" in one case or the other; the IDs are numbers as Ruby prints them, no leading zero.
_CANVAS_AFTER_NAME = (r"(?:(?P<late>late|LATE)_)?(?P<id>[1-9]\d*|anon_[0-9A-Za-z]+)"
                      r"(?:_(?P<attachment>[1-9]\d*)_(?P<file>.+)|_(?P<entry>text|link)\.html|_(?P<rest>[1-9]\d*))$")
_CANVAS = re.compile(r"^(?:(?P<name>[^_]+)_)??" + _CANVAS_AFTER_NAME)
_CANVAS_NAMED = re.compile(r"^(?P<name>[^_]+)_" + _CANVAS_AFTER_NAME)
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<file>.*))?$",
                     re.IGNORECASE)
DEFAULT_TEAM = "Default group"  # Moodle's get_string('defaultteam', 'assign'): a team assignment's, with no group ID
_MOODLE_DEFAULT_TEAM = re.compile(rf"^(?P<name>{DEFAULT_TEAM})_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<file>.*))?$",
                                  re.IGNORECASE | re.DOTALL)
# Canvas's suffix for a name already used: -1 to -7, then a random UUID.
_RESUBMITTED = re.compile(r"^(?P<stem>.+)-(?:[1-9]|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
CODE_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class UploadName:
    """What an LMS download's file or folder name says."""

    lms: str  # CANVAS or MOODLE
    name: str  # Canvas's lastfirst or Moodle's full name; "" when anonymous
    student_id: str  # the Canvas user ID (or anon_XXXXX), or the Moodle participant number ("" for a default team)
    late: bool = False  # Canvas marked the submission late
    original: str = ""  # the file's name as the student uploaded it ("" for a folder)
    plugin: str = ""  # Moodle's submission plugin: file, onlinetext, ...
    attachment: str = ""  # Canvas's attachment ID of the file: a later upload has a higher one

    @property
    def student(self) -> str:
        """The submission's name in a class: the student's, whatever they uploaded and whenever."""
        return "_".join(filter(None, (self.name, self.student_id)))


def read_upload_name(name: str, *, is_file: bool = True) -> UploadName | None:
    """The LMS's reading of a name in its download, or None if no LMS names things so."""
    name = unicodedata.normalize("NFC", name)  # macOS's unzip may hand over decomposed letters
    if match := _MOODLE.match(name) or _MOODLE_DEFAULT_TEAM.match(name):
        original = match["file"] or ""
        if is_file and not original:
            return None
        number = match.groupdict().get("id") or ""  # the default team's has none
        return UploadName(MOODLE, match["name"].strip(), number, original=original if is_file else "",
                          plugin=match["plugin"].lower())
    if match := _canvas_match(name):
        student, late, student_id = match["name"] or "", bool(match["late"]), match["id"]
        if not student and not late and not student_id.startswith("anon_"):
            return None  # Canvas always names the student, unless the assignment is anonymous
        if student != student.lower() or not all(map(_is_word_character, student)):
            return None  # Canvas lower-cases the name: Rnn_1001_54321_x.py is someone's own file
        if match["rest"] is not None and is_file:
            return None  # lastfirst_ID_ATTACHMENT with no file name: a folder's name, not a file's
        original = match["file"] or (f"{match['entry']}.html" if match["entry"] else "")
        return UploadName(CANVAS, student.lower(), student_id, late, original if is_file else "",
                          attachment=(match["attachment"] or "") if is_file else "")
    return None


def _canvas_match(name: str) -> re.Match[str] | None:
    """The reading of a Canvas name that names someone: a name of digits alone (a group "2023") also reads as
    the user ID, and Canvas names every student but an anonymous assignment's (anon_ IDs)."""
    match = _CANVAS.match(name)
    if match and not match["name"] and not match["late"] and not match["id"].startswith("anon_"):
        return _CANVAS_NAMED.match(name) or match
    return match


def _is_word_character(character: str) -> bool:
    """What Ruby's [[:word:]] keeps, but "_": Python's \\w leaves out combining marks (Thai, Devanagari names)."""
    return character.isalnum() or unicodedata.category(character)[0] == "M"


@dataclass(frozen=True)
class StudentFiles:
    """One student's flat files in an LMS download: one submission."""

    uploads: tuple[UploadName, ...]  # what each file's name says (of the student, every file says the same)
    files: tuple[tuple[str, Path], ...]  # (the name the student gave it, the file in the download)

    @property
    def upload(self) -> UploadName:
        return self.uploads[0]

    @property
    def name(self) -> str:
        return self.upload.student


def group_by_student(paths: Iterable[Path]) -> tuple[list[StudentFiles], list[Path]]:
    """The files among `paths` that an LMS named for a student, one group per student (by the LMS's ID, so a
    renamed student or a resubmission stays one), and the files no LMS named."""
    by_student: dict[tuple[str, str], list[tuple[UploadName, Path]]] = {}
    others = []
    for path in sorted(paths, key=lambda p: p.name):
        upload = read_upload_name(path.name)
        if upload is None:
            others.append(path)
        else:
            by_student.setdefault((upload.lms, upload.student_id.lower()), []).append((upload, path))
    groups = []
    for files in by_student.values():
        names = original_names([u.original for u, _ in files], [u.attachment for u, _ in files])
        groups.append(StudentFiles(tuple(u for u, _ in files), tuple(zip(names, (p for _, p in files)))))
    return sorted(groups, key=lambda g: g.name), others


def original_names(uploaded: list[str], attachments: Sequence[str] = ()) -> list[str]:
    """The names a student's files had when the student uploaded them: Canvas's resubmission suffix taken
    off a code file (rnn-1.py is rnn.py: `import model` must find model-1.py, and a module name holds no
    "-"). Of the files that had one name, the latest upload takes it (the highest of `attachments`, Canvas's
    attachment IDs: a download unzipped over an earlier one holds the earlier rnn.py beside rnn-1.py), else
    the file uploaded under that very name; the others keep the name Canvas gave them, with a number where
    that too is taken, so no file hides another."""
    wanted = []
    for name in uploaded:
        path = PurePosixPath(name)
        match = _RESUBMITTED.match(path.stem) if path.suffix.lower() in CODE_SUFFIXES else None
        wanted.append(match["stem"] + path.suffix if match else name)

    def precedence(i: int) -> tuple[int, bool]:
        attachment = attachments[i] if i < len(attachments) else ""
        return (int(attachment) if attachment.isdigit() else -1, uploaded[i] == wanted[i])

    owner: dict[str, int] = {}  # casefolded name -> the file that takes it
    for i, name in enumerate(wanted):
        if name.casefold() not in owner or precedence(i) > precedence(owner[name.casefold()]):
            owner[name.casefold()] = i
    names = [wanted[i] if owner[wanted[i].casefold()] == i else "" for i in range(len(uploaded))]
    taken = set(owner)
    for i, given in enumerate(uploaded):
        if names[i]:
            continue
        name, number = given, 2
        while name.casefold() in taken:
            path = PurePosixPath(given)
            name, number = f"{path.stem} ({number}){path.suffix}", number + 1
        taken.add(name.casefold())
        names[i] = name
    return names
