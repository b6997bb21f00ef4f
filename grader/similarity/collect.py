"""The class's similarity report from the files: each submission's code, the known solutions', the template's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.errors import GraderError
from grader.files.listing import is_junk
from grader.similarity.detect import compare_class
from grader.similarity.model import SimilarityReport
from grader.similarity.sources import CODE_SUFFIXES, UnreadableCode, read_code


class KnownSolutionsError(GraderError):
    """--against names something that holds no known solution; the message says why."""


def class_similarity(
    entries: Mapping[str, Path | Sequence[Path]], *, known: Mapping[str, str] | None = None,
    template: Path | None = None,
) -> SimilarityReport:
    """The report for the submissions `entries` (name -> folder, zip file or a student's flat files), each
    also against the `known` solutions (name -> code, from known_solutions), without the code of `template`."""
    codes, unreadable, skipped = {}, {}, []
    for name, path in entries.items():
        try:
            code = read_code(path)
        except UnreadableCode as exc:
            unreadable[name] = str(exc)
            continue
        codes[name] = code.text
        skipped += [f"{name}: {why}" for why in code.skipped]
    template_code = read_code(template).text if template is not None else None
    return compare_class(
        codes,
        known=known,
        template_code=template_code,
        template_name=template.name if template is not None else "",
        unreadable=unreadable,
        skipped_files=skipped,
    )


def known_solutions(folder: Path) -> dict[str, str]:
    """name -> code of every known solution in `folder`: each sub-folder, zip or code file in it is one
    (unreadable ones are skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KnownSolutionsError(f"--against {folder}: no such folder")
    found = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if is_junk(path.name):
            continue
        if path.is_dir() or path.suffix.lower() in (".zip", *CODE_SUFFIXES):
            try:
                found[f"{folder.name}/{path.name}"] = read_code(path).text
            except UnreadableCode:
                continue
    if not found:
        raise KnownSolutionsError(f"--against {folder}: it holds no folder, zip, .py or .ipynb file to compare with")
    return found
