"""What the grader reads from Moodle: an assignment's grading worksheet, and whose a team's folder is.

Moodle's "Download grading worksheet" (mod/assign/gradingtable.php, downloading) has one row per participant:
Identifier ("Participant N", N the number in the download's folder names), Full name, the identity fields the
site shows (Email address...), Status, then, in a team assignment, Group (the name of the participant's
group, "Default group" for one in none), Grade... The column titles are Moodle's English strings.

In a team assignment, "Download all submissions" (mod/assign/classes/downloader.php) names each folder after
the team, not a member: the group's name with its "_" made spaces, and the group's ID
(`Team 7_4242_assignsubmission_file`), or the default team's name alone for those in no group
(`Default group_assignsubmission_file`). A group ID is no participant number, and may well be another
participant's, so the name alone cannot tell a team's folder from a student's: only the worksheet (its Group
column) can, and it lists each team's members, who each get the team's grade (Moodle's upload sets grades
participant by participant). Moodle before the downloader class prefixed each member's own folder with the
group's name (`Team 7-Bo Ek_1002_assignsubmission_file_`), a real participant number, which still reads so.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError
from grader.files.lms_names import MOODLE, read_upload_name

IDENTIFIER, FULL_NAME, EMAIL, GROUP = "Identifier", "Full name", "Email address", "Group"
MAX_WORKSHEET_BYTES = 64 * 1024 * 1024

_PARTICIPANT = re.compile(r"^Participant (\d+)$")
# What clean_filename (clean_param PARAM_FILE) takes out of a name, and an "&" format_string escapes first.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f&<>\"`|':\\/]")
_LONE_AMPERSAND = re.compile(r"&(?![a-zA-Z0-9#]{1,8};)")


class MoodleError(GraderError):
    """The grading worksheet cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Participant:
    number: str  # the N of "Participant N"
    name: str
    email: str
    group: str  # the Group cell; "" when the assignment is no team assignment


@dataclass(frozen=True)
class MoodleWorksheet:
    participants: tuple[Participant, ...]
    team: bool  # it has a Group column: a team assignment, whose download names folders after groups

    def participant(self, number: str) -> Participant | None:
        return next((p for p in self.participants if p.number == number), None)

    def members(self, folder_name: str, number: str) -> tuple[Participant, ...]:
        """Who a team assignment's folder (its name before the number; `number` "" for the default team's) is:
        the members of the group the download named it after, else, in an older Moodle's download, the one
        member whose own folder it is."""
        wanted = _squeezed(folder_name)
        members = tuple(p for p in self.participants if _squeezed(as_downloaded(p.group)) == wanted)
        if members or not number:
            return members
        own = self.participant(number)
        older = own is not None and _squeezed(as_downloaded(f"{own.group}-{own.name}")) == wanted
        return (own,) if older and own is not None else ()


def downloaded_as(source: str) -> tuple[str, str] | None:
    """(the name, the number) Moodle's download gave a submission's folder or files (`source`), if it named them:
    in a team assignment a group's name and ID, or the default team's name and ""."""
    upload = read_upload_name(source, is_file=False)
    return (upload.name, upload.student_id) if upload is not None and upload.lms == MOODLE else None


def read_moodle_worksheet(path: Path) -> MoodleWorksheet:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_WORKSHEET_BYTES:
            raise MoodleError(f"{path} is larger than {MAX_WORKSHEET_BYTES // 1024**2} MiB; is it Moodle's grading worksheet?")
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MoodleError(f"cannot read the Moodle grading worksheet {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not rows or IDENTIFIER not in rows[0]:
        raise MoodleError(f"{path} is not Moodle's grading worksheet (no {IDENTIFIER!r} column; download it in English "
                          "from the assignment's submissions page: Download grading worksheet)")
    team = GROUP in rows[0]
    participants, seen = [], set()
    for line, row in enumerate(rows, start=2):
        match = _PARTICIPANT.match((row.get(IDENTIFIER) or "").strip())
        if match is None:
            raise MoodleError(f"{path}, line {line}: {row.get(IDENTIFIER)!r} is not a participant's identifier "
                              "('Participant N')")
        if match[1] in seen:
            raise MoodleError(f"{path}, line {line}: Participant {match[1]} is listed twice")
        seen.add(match[1])
        participants.append(Participant(match[1], (row.get(FULL_NAME) or "").strip(), (row.get(EMAIL) or "").strip(),
                                        (row.get(GROUP) or "").strip() if team else ""))
    return MoodleWorksheet(tuple(participants), team)


def as_downloaded(group: str) -> str:
    """A group's name as the download's folder names give it: "_" made a space, then what Moodle's
    clean_filename takes out taken out (an "&" after format_string made it "&amp;")."""
    return _UNSAFE.sub("", _LONE_AMPERSAND.sub("&amp;", group).replace("_", " "))


def _squeezed(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()
