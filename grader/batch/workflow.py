"""The instructor's class workflow beyond grading, loaded once at the edge: who each student is, the
ledger, the similarity report's inputs and the LMS exports' settings.

Every file is read and checked here, before any grading starts, so a typo in overrides.yaml costs a
message, not an hour of grading. The ledger and the mapping file are looked for in the output folder
when not given, so that every later run (a regrade too) applies them again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.errors import BatchError
from grader.batch.out_files import LATE_POLICY, OVERRIDES, STUDENTS
from grader.ledger import Ledger, load_late_policy, load_overrides
from grader.lms.canvas import CanvasGradebook, assignment_column, read_canvas_gradebook
from grader.lms.identity import read_gradescope_metadata, read_mapping
from grader.lms.moodle import MoodleWorksheet, read_moodle_worksheet
from grader.results import ClassResult, StudentIdentity
from grader.similarity.collect import known_solutions
from grader.similarity.detect import INSTALL_HINT, similarity_available


@dataclass(frozen=True)
class ClassWorkflow:
    mapping: Mapping[str, StudentIdentity] = field(default_factory=dict)
    gradescope: Mapping[str, StudentIdentity] = field(default_factory=dict)
    ledger: Ledger = field(default_factory=Ledger)
    similarity: bool = True
    known: Mapping[str, str] = field(default_factory=dict)  # the known solutions (--against): name -> code
    template: Path | None = None  # the handed-out template: boilerplate for the similarity report
    canvas_gradebook: CanvasGradebook | None = None
    canvas_assignment: str | None = None  # the column canvas.csv fills; None: the default title (no gradebook)
    moodle_worksheet: MoodleWorksheet | None = None  # Moodle's grading worksheet: who is who, and each team's members
    sources: tuple[str, ...] = ()  # the files read, for the record
    compare: ClassResult | None = None  # another run's summary.json (--compare): its mistakes' shares
    compare_name: str = ""


def load_workflow(
    folder: Path,
    out_dir: Path,
    *,
    mapping: Path | None = None,
    overrides: Path | None = None,
    late_policy: Path | None = None,
    similarity: bool = True,
    against: Path | None = None,
    template: Path | None = None,
    canvas_gradebook: Path | None = None,
    canvas_assignment: str | None = None,
    moodle_worksheet: Path | None = None,
    compare: Path | None = None,
) -> ClassWorkflow:
    """Read and check every file the workflow needs; a GraderError (BatchError, or the file's own) names the file
    and what is wrong."""
    mapping = _given_or_kept(mapping, out_dir / STUDENTS)
    overrides = _given_or_kept(overrides, out_dir / OVERRIDES)
    late_policy = _given_or_kept(late_policy, out_dir / LATE_POLICY)
    if template is not None and not Path(template).exists():
        raise BatchError(f"--template {template}: no such file or folder")
    if against is not None:
        if not similarity:
            raise BatchError("--against compares with known solutions in the similarity report, which --no-similarity turns off")
        if not similarity_available():
            raise BatchError(f"--against: {INSTALL_HINT}")
    gradebook = read_canvas_gradebook(canvas_gradebook) if canvas_gradebook else None
    if gradebook is not None:  # which column, decided before anyone is graded
        canvas_assignment = assignment_column(gradebook, canvas_assignment)
    return ClassWorkflow(
        mapping=read_mapping(mapping) if mapping else {},
        gradescope=read_gradescope_metadata(folder),
        ledger=Ledger(load_overrides(overrides) if overrides else (),
                      load_late_policy(late_policy) if late_policy else None),
        similarity=similarity,
        known=known_solutions(against) if against is not None else {},
        template=template,
        canvas_gradebook=gradebook,
        canvas_assignment=canvas_assignment,
        moodle_worksheet=read_moodle_worksheet(moodle_worksheet) if moodle_worksheet else None,
        sources=tuple(str(p) for p in (mapping, overrides, late_policy, canvas_gradebook, moodle_worksheet, compare) if p),
        compare=read_summary(compare) if compare is not None else None,
        compare_name=str(compare) if compare is not None else "",
    )


MAX_SUMMARY_BYTES = 64 * 1024**2


def read_summary(path: Path) -> ClassResult:
    """Another class run's summary.json (for --compare); BatchError naming the file when it is not one."""
    try:
        if Path(path).stat().st_size > MAX_SUMMARY_BYTES:
            raise BatchError(f"--compare {path}: larger than {MAX_SUMMARY_BYTES // 1024**2} MiB; not a summary.json")
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError(f"--compare {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BatchError(f"--compare {path}: not a readable summary.json ({exc})") from None
    if not isinstance(data, dict) or "mistakes" not in data:
        raise BatchError(f"--compare {path}: not a summary.json with mistakes (one written by a class run of this "
                         "grader, e.g. grading-output/summary.json)")
    try:
        return ClassResult.from_dict(data)
    except Exception as exc:  # noqa: BLE001 - cattrs raises several kinds for a malformed file
        raise BatchError(f"--compare {path}: its content is not a class summary ({type(exc).__name__})") from None


def _given_or_kept(given: Path | None, kept: Path) -> Path | None:
    if given is not None:
        if not Path(given).is_file():
            raise BatchError(f"{given}: no such file")
        return Path(given)
    return kept if kept.is_file() else None
