"""Cache keys: a finished result is reused only if nothing that decided it has changed.

The key covers the submission's content (its files' relative paths and bytes, or the zip's bytes), the
grader's code (its version, its source, the reference's, and the Hypothesis and numpy versions, which decide
the cases and their expected values), the spec folder's files and the limits the submission ran under. A
rerun regrades exactly the submissions whose key differs from the one stored beside their results.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import hypothesis
import numpy

import grader
from grader import __version__
from grader.assignment import Assignment
from grader.files.listing import submission_files

CHUNK = 1 << 20
# Everything the grader reads from a spec folder: contract.yaml, grading.yaml, report.yaml and the texts.
SPEC_PATTERNS = ("*.yaml", "texts/*.txt")
CODE_PATTERNS = ("*.py", "*.j2")


def content_digest(path: Path, files: Sequence[tuple[str, Path]] = ()) -> str:
    """The digest of a submission folder (paths and bytes, links by their target), of a zip file's bytes, or of
    a student's flat `files` (the student's names for them and their bytes; discover.Entry.files)."""
    digest = hashlib.sha256()
    if path.is_file() and not files:
        _add_file(digest, path)
        return digest.hexdigest()
    for relative, full in files or submission_files(path):
        _add_bytes(digest, str(relative).encode("utf-8", "surrogateescape"))
        if os.path.islink(full):
            _add_bytes(digest, b"link:" + os.readlink(full).encode("utf-8", "surrogateescape"))
        elif os.path.isfile(full):
            _add_file(digest, Path(full))
    return digest.hexdigest()


def spec_digest(assignment: Assignment) -> str:
    """The digest of everything in the course's configuration that decides a grade: the spec folder's
    files, the training text wherever it lives, and the cases' salt (hashed, so the key never reveals it;
    under per-student cases the student's own, so each submission's key is taken with its task's assignment)."""
    folder = Path(assignment.spec_dir)
    digest = hashlib.sha256()
    for pattern in SPEC_PATTERNS:
        for path in sorted(folder.glob(pattern)):
            _add_bytes(digest, path.relative_to(folder).as_posix().encode())
            _add_file(digest, path)
    _add_bytes(digest, assignment.text.text.encode("utf-8", "surrogatepass"))
    _add_bytes(digest, hashlib.sha256(assignment.case_salt.encode()).digest())
    return digest.hexdigest()


@cache
def code_digest() -> str:
    """The digest of everything in the grader's own install that decides a grade."""
    digest = hashlib.sha256(f"{__version__} hypothesis {hypothesis.__version__} numpy {numpy.__version__}".encode())
    reference = importlib.util.find_spec("reference")  # the student kit has none
    packages = [Path(str(grader.__file__)).parent]
    if reference is not None and reference.origin is not None:
        packages.append(Path(reference.origin).parent)
    for package in packages:
        for path in sorted(p for pattern in CODE_PATTERNS for p in package.rglob(pattern)):
            _add_bytes(digest, path.relative_to(package).as_posix().encode())
            _add_file(digest, path)
    return digest.hexdigest()


def grading_key(content: str, spec: str, limits: object, tier: str) -> str:
    """The key stored beside a result: equal keys mean regrading would give the same result."""
    fields = {"content": content, "grader": code_digest(), "spec": spec, "limits": repr(limits), "tier": tier}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _add_bytes(digest, data: bytes) -> None:
    # Length-prefixed, so that no two different sequences of names and contents hash alike.
    digest.update(len(data).to_bytes(8, "big"))
    digest.update(data)


def _add_file(digest, path: Path) -> None:
    digest.update(path.stat().st_size.to_bytes(8, "big"))
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
