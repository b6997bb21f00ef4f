"""Writing one graded submission's files (results.json, report.html, report-instructor.html,
results-instructor.json) into a folder.

results.json (Gradescope's) and report.html are the student's: visible checks only (results.json gives the
hidden checks' points, never their feedback). report-instructor.html has every check, what the submission
printed while the hidden ones ran and how it was run; results-instructor.json is the whole result as data,
which a class run reads back instead of grading again. The student kit runs no hidden check, so it writes
no instructor's copies.

Each file is written whole or not at all (grader.atomic: a temporary file beside it, fsync, os.replace), so a reader
never sees half a file. A file may be replaced only if the grader wrote it for the same submission
(each file says so: results.json in extra_data, report.html in its <meta> tags); anything else in the
way is reported and left untouched, and then nothing is written at all.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from grader.atomic import write_whole
from grader.errors import GraderError
from grader.render import GENERATOR
from grader.render.gradescope import finite, render_gradescope_json, results_owner
from grader.render.html import render_html, report_owner
from grader.results import SubmissionResult
from grader.sandbox.protocol import UNPRINTABLE, escape

RESULTS, REPORT, INSTRUCTOR_REPORT = "results.json", "report.html", "report-instructor.html"
INSTRUCTOR_RESULTS = "results-instructor.json"
# Our files are small; anything bigger in their place is not ours, and need not be read to know it.
OWNED_FILE_LIMIT = 32 * 1024 * 1024
REPORT_HEAD = 4096  # the <meta> tags that identify a report sit in the first few hundred bytes


# What protocol.printable spells out, but a CSV's own line ends (the csv module ends each row with CR LF).
_RAW = re.compile(f"(?!\r\n)[{UNPRINTABLE}]")


class OutputError(GraderError):
    """The outputs cannot be written where asked; the message says what is in the way."""


def default_out_dir(submission: Path, base: Path = Path("grading-output")) -> Path:
    """grading-output/<submission directory name>/ under the current directory."""
    return base / Path(submission).resolve().name


def write_outputs(result: SubmissionResult, out_dir: Path) -> dict[str, Path]:
    """Write results.json, report.html and (unless a self-check) report-instructor.html and
    results-instructor.json for `result` into out_dir; return {"results": path, "report": path,
    "instructor": path, "instructor_results": path}."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a directory; choose another output directory.")
    targets = {"results": out_dir / RESULTS, "report": out_dir / REPORT}
    if not result.self_check:
        targets["instructor"] = out_dir / INSTRUCTOR_REPORT
        targets["instructor_results"] = out_dir / INSTRUCTOR_RESULTS
    for path in targets.values():
        _check_replaceable(path, result.name)
    contents = {"results": render_gradescope_json(result), "report": render_html(result),
                "instructor": render_html(result, instructor=True), "instructor_results": render_instructor_json(result)}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output directory {out_dir}: {exc.strerror or exc}") from None
    for key, path in targets.items():
        write_atomically(path, contents[key])
    return targets


def render_instructor_json(result: SubmissionResult) -> str:
    """The whole result as data, hidden checks included (read back by ``read_instructor_json``)."""
    document = {"generator": GENERATOR, "submission": result.name, "result": result.to_dict()}
    return json.dumps(finite(document), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def read_instructor_json(path: Path) -> SubmissionResult:
    """The result results-instructor.json holds; ValueError, KeyError or TypeError if it holds none."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("generator") != GENERATOR:
        raise ValueError(f"{path} was not written by the grader")
    return SubmissionResult.from_dict(document["result"])


def _instructor_owner(document: object) -> str | None:
    if isinstance(document, dict) and document.get("generator") == GENERATOR and isinstance(document.get("submission"), str):
        return document["submission"]
    return None


def _check_replaceable(path: Path, submission: str) -> None:
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_file():
        kind = "a symbolic link" if path.is_symlink() else "a directory" if path.is_dir() else "not a regular file"
        raise OutputError(
            f"{path} is {kind}, not a file the grader wrote; move it away or choose another output directory."
        )
    owner = _owner(path)
    if owner is None:
        raise OutputError(
            f"{path} already exists and was not written by the grader; move it away or choose another output directory."
        )
    if owner != submission:
        raise OutputError(
            f"{path} holds the grader's output for submission {owner!r}, not {submission!r}; "
            "choose another output directory so one submission does not overwrite another's results."
        )


def _owner(path: Path) -> str | None:
    try:
        if path.stat().st_size > OWNED_FILE_LIMIT:
            return None
        if path.name == RESULTS:
            return results_owner(json.loads(path.read_text(encoding="utf-8")))
        if path.name == INSTRUCTOR_RESULTS:
            return _instructor_owner(json.loads(path.read_text(encoding="utf-8")))
        with path.open(encoding="utf-8", errors="replace") as f:
            return report_owner(f.read(REPORT_HEAD))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all, whenever the writer is killed (grader.atomic).

    Every file the grader writes for people (results, reports, the class's CSV, JSON and HTML files) is
    written here, so here is where a student's text is made harmless for good, whatever renderer quoted it
    without protocol.printable: each character printable spells out is spelled out in the file's own syntax
    (a JSON escape in JSON, which reads back as the same value; printable's \\xNN elsewhere), so no terminal
    escape, control character or lone surrogate is in any file raw.
    """
    text = _RAW.sub(_json_escape if path.suffix == ".json" else escape, text)
    try:
        write_whole(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except UnicodeError as exc:  # a name or text that cannot be UTF-8 (undecodable bytes in a file name)
        raise OutputError(f"cannot write {path!r}: {exc}") from None


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
