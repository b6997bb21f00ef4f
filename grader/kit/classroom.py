"""A GitHub Classroom template repository around the student kit.

The repository a course hands out holds: the student kit (``rnn-kit/``), the submission template
(``submission/rnn.py``, the student's to change), an autograding workflow
(``.github/workflows/classroom.yml``) that runs the public checks through the pytest plugin and reports
their points to GitHub Classroom, the pytest configuration that run uses, and a manifest
(``.github/classroom/manifest.json``) with the SHA-256 of every file the course ships, which the
workflow checks before it installs anything (grader.classroom.integrity).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2

from grader.assignment import Assignment
from grader.classroom.integrity import make_manifest
from grader.kit.build import Kit, build_kit, refuse_unless_empty, staged

KIT = "rnn-kit"
SUBMISSION = "submission"
WORKFLOW = ".github/workflows/classroom.yml"
PYTEST_INI = ".github/classroom/pytest.ini"
MANIFEST = ".github/classroom/manifest.json"
SHIPPED = (".github", KIT)  # folders whose every file the manifest pins; nothing may be added to them


@dataclass(frozen=True)
class ClassroomTemplate:
    path: Path
    kit: Kit
    shipped_files: int
    manifest_sha256: str


def build_classroom_template(out_dir: Path, assignment: Assignment, template: Path | None = None) -> ClassroomTemplate:
    """Write the template repository to ``out_dir``, which must not exist yet or be an empty folder."""
    out_dir = refuse_unless_empty(out_dir)
    with staged(out_dir) as staging:
        kit = build_kit(staging / KIT, assignment, template=template)
        (staging / SUBMISSION).mkdir()
        shutil.copyfile(staging / KIT / "template" / "rnn.py", staging / SUBMISSION / "rnn.py")
        _render(staging, kit)
        manifest = make_manifest(staging, SHIPPED, kit.public_points, exclude=MANIFEST)
        text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
        (staging / MANIFEST).write_text(text, encoding="utf-8")
    kit = Kit(out_dir / KIT, kit.public_checks, kit.public_points, kit.hidden_checks, kit.recorded_calls)
    return ClassroomTemplate(out_dir, kit, len(manifest["files"]), hashlib.sha256(text.encode()).hexdigest())


def _render(staging: Path, kit: Kit) -> None:
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader.kit", "templates/classroom"),
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    names = {"kit": KIT, "submission": SUBMISSION, "manifest": MANIFEST, "ini": PYTEST_INI,
             "points": f"{kit.public_points:g}"}
    for template, target in (("classroom.yml.j2", WORKFLOW), ("pytest.ini.j2", PYTEST_INI),
                             ("gitignore.j2", ".gitignore"), ("README.md.j2", "README.md")):
        path = staging / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(**names), encoding="utf-8")
