"""Are the grading files a course ships still as shipped in a student's repository?

The instructor's template repository (``python -m grader classroom``) holds a manifest: the SHA-256 of
every file the instructor ships (the workflow, the pytest configuration, the student kit) and the
folders that must hold nothing else. The autograding workflow runs this module as a script before it
installs anything; if a file was changed, removed or added there, it writes a zero-point result for
the autograding reporter naming the files, and fails, so nothing of the repository is graded.

A student controls their repository, manifest included, so this catches accidents and makes tampering
deliberate; the instructor's proof is running ``verify`` from their own copy of the manifest on the
students' repositories (README: GitHub Classroom).

Standard library only: it runs as ``python -I rnn-kit/grader/classroom/integrity.py`` before the kit
is installed. The grader imports the result format from here too, so there is one definition of it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

MANIFEST_VERSION = 1
INTEGRITY_TEST = "grading files unchanged"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(root: Path, folders: Sequence[str]) -> list[str]:
    """Every file (or symbolic link) under the folders, as sorted POSIX paths relative to root."""
    found = []
    for folder in folders:
        base = root / folder
        if base.is_symlink() or base.is_file():
            found.append(folder)
            continue
        found += [p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_symlink() or p.is_file()]
    return sorted(found)


def make_manifest(root: Path, folders: Sequence[str], max_score: float, exclude: str) -> dict:
    """The manifest of ``folders`` under ``root``; ``exclude`` is the manifest's own path (it cannot hash itself)."""
    files = [f for f in files_under(root, folders) if f != exclude]
    return {
        "version": MANIFEST_VERSION,
        "max_score": max_score,
        "folders": list(folders),
        "files": {f: sha256(root / f) for f in files},
    }


def verify(root: Path, manifest: dict, manifest_path: str) -> list[str]:
    """What differs from the manifest, one line per file; empty when everything is as shipped."""
    expected = manifest["files"]
    problems = []
    for name, digest in expected.items():
        path = root / name
        if path.is_symlink() or not path.is_file():
            problems.append(f"missing: {name}")
        elif sha256(path) != digest:
            problems.append(f"changed: {name}")
    present = set(files_under(root, manifest["folders"])) - {manifest_path}
    problems += [f"added: {name}" for name in sorted(present - set(expected))]
    return problems


def runner_test(name: str, status: str, score: float, message: str = "", seconds: float = 0.0) -> dict:
    """One test as the reporter reads it: status is pass, fail or error; it prints the message of errors only."""
    return {"name": name, "status": status, "message": message, "test_code": "", "filename": "", "line_no": 0,
            "duration": round(seconds * 1000), "score": score}


def runner_document(tests: list[dict], max_score: float, status: str) -> dict:
    """A runner's result: the reporter gives GitHub Classroom the sum of the tests' scores out of max_score."""
    return {"version": 1, "status": status, "max_score": max_score, "tests": tests}


def append_github_output(path: Path, name: str, document: dict) -> None:
    """Add ``name=<base64 of the JSON>`` to a GitHub Actions output file, as the reporter expects."""
    encoded = base64.b64encode(json.dumps(document, ensure_ascii=False).encode()).decode()
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{name}={encoded}\n")


def tampered_result(problems: list[str], max_score: float, manifest_digest: str) -> dict:
    message = (
        "This repository was not graded: files the course ships for grading differ from the assignment's "
        f"template (manifest {manifest_digest[:12]}):\n" + "\n".join(problems) + "\n"
        "Restore them from the template (for example `git checkout <the first commit> -- <file>`) and push again."
    )
    return runner_document([runner_test(INTEGRITY_TEST, "error", 0, message)], max_score, "error")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the grading files of a student's repository against "
                                     "the manifest the instructor shipped.")
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository (default: here)")
    parser.add_argument("--manifest", required=True, help="the manifest's path inside the repository, or a "
                        "file outside it (the instructor's own copy)")
    parser.add_argument("--github-output", type=Path, help="on a mismatch, append a zero-point result for the "
                        "autograding reporter to this file ($GITHUB_OUTPUT)")
    args = parser.parse_args(argv)
    inside = (args.root / args.manifest)
    manifest_file = inside if inside.is_file() else Path(args.manifest)
    try:
        raw = manifest_file.read_bytes()
        manifest = json.loads(raw)
        if manifest.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unknown manifest version {manifest.get('version')!r}")
    except (OSError, ValueError, AttributeError) as exc:
        problems, max_score, digest = [f"unreadable manifest {args.manifest}: {exc}"], 0, ""
    else:
        relative = Path(args.manifest).as_posix() if inside.is_file() else ""
        problems = verify(args.root, manifest, relative)
        max_score, digest = manifest["max_score"], hashlib.sha256(raw).hexdigest()
    if not problems:
        print(f"The grading files are as shipped (manifest {digest[:12]}, {len(manifest['files'])} files).")
        return 0
    print("The grading files differ from the manifest:\n" + "\n".join(problems), file=sys.stderr)
    if args.github_output is not None:
        append_github_output(args.github_output, "result", tampered_result(problems, max_score, digest))
    return 1


if __name__ == "__main__":
    sys.exit(main())
