"""Class folders built as Canvas and Moodle build their downloads, file name by file name.

Canvas ("Download Submissions", lib/content_zipper.rb): the student's sortable name ("Quist, Rita"; in a group
assignment the group's name, "Group 3", Assignment#representatives) with
`_digits_` runs joined and lower-cased, "LATE" when Canvas marked the submission late, the user ID (or
`anon_` and the anonymous ID), joined by "_" and stripped of every non-word character (Unicode's word
characters stay); then the attachment's own ID and its display name, in which / \\ : * ? " < > | became "_".
Every file of every student lies flat in one folder. A name the student had already used in Canvas gets
"-1" (then "-2" ...) before its extension (Attachment.make_unique_filename).

Moodle ("Download all submissions", mod/assign): `Full Name_PARTICIPANT_assignsubmission_file_/` per
student and plugin (no trailing "_" since Moodle 4.2; `Participant_N` under blind marking), or flat
`Full Name_N_assignsubmission_file_name` files when "download submissions in folders" is off. A team
assignment's download (mod/assign/classes/downloader.php, get_student_prefix) has one folder per team, named
after the group and its group ID, `Team 7_4242_assignsubmission_file`, or `Default group_assignsubmission_file`
for those in no group; before that class, each member's own folder had the group's name and "-" before the
member's name. Moodle's "Download grading worksheet" (mod/assign/gradingtable.php) lists every participant,
with a Group column in a team assignment.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

_UNSAFE = re.compile(r'[\x00/\\:*?"<>|]+')


def _ruby_word_characters(text: str) -> str:
    """What Ruby's gsub(/[^[[:word:]]]/, "") keeps: letters, combining marks, numbers and connector punctuation
    (Python's \\w leaves out the marks, as in Thai or Devanagari names)."""
    return "".join(c for c in text if c.isalnum() or unicodedata.category(c)[0] == "M" or unicodedata.category(c) == "Pc")


def canvas_file_name(sortable_name: str, user_id: int | str, attachment_id: int, display_name: str, *,
                     late: bool = False, anonymous_id: str = "") -> str:
    name = None if anonymous_id else re.sub(r"_(\d+)_", r"\1", sortable_name).lower()
    who = f"anon_{anonymous_id}" if anonymous_id else str(user_id)
    prefix = _ruby_word_characters("_".join(part for part in (name, "LATE" if late else None, who) if part is not None))
    return f"{prefix}_{attachment_id}_{_UNSAFE.sub('_', display_name)}"


@dataclass
class CanvasStudent:
    sortable_name: str
    user_id: int
    files: dict[str, str | bytes]  # display name -> content
    late: bool = False
    anonymous_id: str = ""
    first_attachment: int = field(default=0)


def canvas_download(folder: Path, students: list[CanvasStudent]) -> dict[str, list[str]]:
    """Write the students' files into `folder` as Canvas names them; return user ID -> the file names."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    attachment = 54320
    for student in students:
        names = []
        for display, content in student.files.items():
            attachment += 1
            name = canvas_file_name(student.sortable_name, student.user_id, attachment, display, late=student.late,
                                    anonymous_id=student.anonymous_id)
            data = content.encode() if isinstance(content, str) else content
            (folder / name).write_bytes(data)
            names.append(name)
        written[str(student.user_id)] = names
    return written


def moodle_folder_name(full_name: str, participant: int, plugin: str = "file", *, moodle4: bool = False) -> str:
    return f"{full_name.replace('_', ' ')}_{participant}_assignsubmission_{plugin}" + ("" if moodle4 else "_")


def moodle_team_folder_name(group: str, group_id: int | None, plugin: str = "file", *, moodle4: bool = True) -> str:
    """downloader.php's name: format_string escapes "&", "_" becomes " ", clean_filename drops what PARAM_FILE
    drops; the default team (group_id None) has no ID."""
    name = re.sub(r"&(?![a-zA-Z0-9#]{1,8};)", "&amp;", group).replace("_", " ")
    prefix = re.sub(r"[\x00-\x1f\x7f&<>\"`|':\\/]", "", name + ("" if group_id is None else f"_{group_id}"))
    return f"{prefix}_assignsubmission_{plugin}" + ("" if moodle4 else "_")


def moodle_worksheet(participants: list[tuple[int, str, str, str | None]]) -> str:
    """The grading worksheet's CSV for (participant, full name, e-mail, group or None in an individual
    assignment): gradingtable.php's columns when downloading, as its CSV export writes them."""
    team = any(group is not None for *_, group in participants)
    header = ["Identifier", "Full name", "Email address", "Status", *(["Group"] if team else []), "Grade",
              "Maximum Grade", "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
              "Feedback comments"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for number, name, email, group in participants:
        writer.writerow([f"Participant {number}", name, email, "Submitted for grading", *([group] if team else []), "",
                         "10.00", "Yes", "Monday, 2 March 2026, 10:15 AM", "-", ""])
    return "\ufeff" + buffer.getvalue()


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def notebook(*cells: str) -> str:
    import json

    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                  "source": cell} for cell in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
