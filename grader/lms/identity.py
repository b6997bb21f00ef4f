"""Who handed in each submission, read from the names LMS exports give them, or from a mapping file.

- Canvas's "Download submissions": `lastfirst_[LATE_]USERID_ATTACHMENTID_file` (e.g.
  `quistrita_LATE_1001_54321_rnn.py`); the first number is the Canvas user ID its gradebook import uses
  (grader.files.lms_names reads these names).
- The `Full Name_ID_assignsubmission_file_` folders (or flat files) of Moodle's download (also seen with
  `Last, First`), where ID is the participant number of Moodle's grading worksheet.
- Gradescope's "Export submissions": `submission_NNN` folders described by `submission_metadata.yml`
  beside them (submitters' names, SIDs and e-mails, and when it was submitted).
- A mapping file (CSV with a `submission` column, the entry's name or file name, and any of `student_id`,
  `name`, `sis_id`, `email`, `submitted_at`) for everything else; its non-empty cells win over what the
  name says, its empty ones leave that as it is.
A submission matched by none keeps its folder name as the student's name, with no ID.

``case_identity`` picks, of all that, what names the student for per-student cases.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from grader.errors import GraderError
from grader.files import lms_names
from grader.files.listing import printable_name
from grader.results import StudentIdentity
from grader.timestamps import aware_time

CANVAS, MOODLE = lms_names.CANVAS, lms_names.MOODLE
GRADESCOPE, MAPPING = "gradescope", "mapping file"
GRADESCOPE_METADATA = "submission_metadata.yml"
MAPPING_COLUMNS = ("student_id", "name", "sis_id", "email", "submitted_at")
MAX_MAPPING_BYTES = 16 * 1024 * 1024

_GRADESCOPE = re.compile(r"^submission_(?P<id>\d+)$")


class IdentityError(GraderError):
    """A mapping file or Gradescope's metadata cannot be read; the message says where and why."""


def identify(
    names: Iterable[tuple[str, str]],
    *,
    mapping: Mapping[str, StudentIdentity] | None = None,
    gradescope: Mapping[str, StudentIdentity] | None = None,
) -> dict[str, StudentIdentity]:
    """entry name -> identity for each (entry name, file or folder name in the class folder)."""
    mapping, gradescope = mapping or {}, gradescope or {}
    found = {}
    for name, raw in names:
        # The student's name is read from the file's: one not UTF-8 (lone surrogates) would make every class
        # file unwritable, and escapes would reach the terminal and the LMS.
        source = printable_name(raw)
        stem = source[: -len(".zip")] if source.lower().endswith(".zip") else source
        parsed = gradescope.get(stem) or parse_name(stem)
        given = mapping.get(name) or mapping.get(source)
        found[name] = parsed if given is None else _merged(parsed, given)
    return found


def case_identity(identity: StudentIdentity, entry_name: str) -> str:
    """What a class run draws a student's own cases for (grading.yaml ``cases: per_student``).

    It must stay the same when the student uploads again and when the class is regraded, or their cases
    (so their grade) would change with nothing of theirs changed. The LMS's ID does: a Canvas user ID or a
    Moodle participant number stays, while the download's file name carries the submission's own ID (and
    "late") and Gradescope's export numbers each submission afresh. So: the LMS's (or the mapping file's)
    student ID, else the SIS ID, else the e-mail, and only when none is known the entry's name as found
    in the class folder. A group's members are sorted, so the group is one identity whoever uploaded.
    """
    for value in (identity.student_id, identity.sis_id, identity.email):
        if members := sorted(filter(None, (m.strip() for m in value.split(" & ")))):
            return " & ".join(members)
    return entry_name


def _merged(parsed: StudentIdentity, given: StudentIdentity) -> StudentIdentity:
    fields = {f: getattr(given, f) or getattr(parsed, f) for f in ("name", "student_id", "sis_id", "email", "submitted_at")}
    source = given.source if parsed.source == "" else f"{parsed.source} + {given.source}"
    return dataclasses.replace(parsed, **fields, source=source)


def parse_name(name: str) -> StudentIdentity:
    """The identity an LMS export's entry name carries, or just the name."""
    upload = lms_names.read_upload_name(name, is_file=False)
    if upload is None:
        return StudentIdentity(name=name)
    return StudentIdentity(name=upload.name or upload.student_id, student_id=upload.student_id, source=upload.lms,
                           late_marked=upload.late)


def read_gradescope_metadata(class_folder: Path) -> dict[str, StudentIdentity]:
    """submission_NNN -> identity from Gradescope's submission_metadata.yml, if the class folder has one."""
    path = Path(class_folder) / GRADESCOPE_METADATA
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise IdentityError(f"{path} cannot be read as Gradescope's metadata: {exc}") from None
    if not isinstance(data, dict):
        raise IdentityError(f"{path} is not Gradescope's metadata (a mapping of submission_NNN to their submitters)")
    found = {}
    for folder, entry in data.items():
        if not _GRADESCOPE.match(str(folder)) or not isinstance(entry, dict):
            continue
        entry = {str(k).strip(":"): v for k, v in entry.items()}  # Gradescope writes Ruby symbols, ":name:"
        people = [{str(k).strip(":"): v for k, v in p.items()} for p in entry.get("submitters") or [] if isinstance(p, dict)]
        found[str(folder)] = StudentIdentity(
            name=" & ".join(str(p.get("name", "")) for p in people),
            student_id=" & ".join(str(p.get("sid") or "") for p in people).strip(" &"),
            email=" & ".join(str(p.get("email") or "") for p in people).strip(" &"),
            source=GRADESCOPE,
            submitted_at=_iso(entry.get("created_at")),
        )
    return found


def read_mapping(path: Path) -> dict[str, StudentIdentity]:
    """submission (entry name or file name) -> identity, from a mapping CSV."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_MAPPING_BYTES:
            raise IdentityError(f"{path} is larger than {MAX_MAPPING_BYTES // 1024**2} MiB; is it the mapping file?")
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise IdentityError(f"cannot read the mapping file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not rows or "submission" not in rows[0] or not set(MAPPING_COLUMNS) & set(rows[0]):
        raise IdentityError(f"{path}: a mapping file needs a 'submission' column and at least one of "
                            f"{', '.join(MAPPING_COLUMNS)}")
    found = {}
    for number, row in enumerate(rows, start=2):
        key = (row.get("submission") or "").strip()
        if not key:
            raise IdentityError(f"{path}, line {number}: the 'submission' cell is empty")
        if key in found:
            raise IdentityError(f"{path}, line {number}: {key!r} is mapped twice")
        when = (row.get("submitted_at") or "").strip()
        if when:
            try:
                when = aware_time(when).isoformat()
            except ValueError as exc:
                raise IdentityError(f"{path}, line {number}: {exc}") from None
        found[key] = StudentIdentity(
            name=(row.get("name") or "").strip(),
            student_id=(row.get("student_id") or "").strip(),
            sis_id=(row.get("sis_id") or "").strip(),
            email=(row.get("email") or "").strip(),
            source=MAPPING,
            submitted_at=when,
        )
    return found


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat() if value.tzinfo else value.replace(tzinfo=dt.UTC).isoformat()
    if isinstance(value, str) and value.strip():
        # Gradescope: "2026-03-01 12:00:00.123456789 -0800"; Python reads microseconds and "-08:00".
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())
        text = re.sub(r" ([+-]\d{2}):?(\d{2})$", r"\1:\2", text)
        try:
            return aware_time(text).isoformat()
        except ValueError:
            return ""
    return ""
