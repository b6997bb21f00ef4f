"""Build the student kit: an installable folder with the harness, the public checks and recorded values.

What goes in: the ``grader`` package without the kit builder and without ``grader.checks.variants``
(the reference with one mistake switched on), the check modules with the hidden checks' code removed,
the contract, the report's spec and texts, a ``grading.yaml`` with the public checks only, the
expected values recorded from the reference (``specs/fixtures.bin``), the template, a pyproject and a
README. What stays out: ``reference/``, every hidden check's name, code and recorded values. The build
checks the last two itself and refuses to finish otherwise.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import jinja2
import yaml

import grader
from grader import oracle
from grader.assignment import Assignment
from grader.errors import GraderError
from grader.kit.record import RecordingFailed, record_expected_values
from grader.kit.strip import strip_checks
from grader.results import PUBLIC

HARNESS = Path(grader.__file__).parent
LEFT_OUT = (Path("kit"), Path("checks") / "variants.py")  # relative to the grader package
HARNESS_FILES = ("*.py", "*.j2")
SPEC_FILES = ("contract.yaml", "contract.md", "mistakes.yaml")
INSTALLED_UNDER = "rnn_grader_kit"  # the kit's install folder in site-packages (its setup.py says why)


class KitError(GraderError):
    """The kit cannot be built as asked."""


@dataclass(frozen=True)
class Kit:
    path: Path
    public_checks: int
    public_points: float
    hidden_checks: int
    recorded_calls: int


def build_kit(out_dir: Path, assignment: Assignment, template: Path | None = None) -> Kit:
    """Write the kit to ``out_dir``, which must not exist yet or be an empty folder."""
    out_dir = refuse_unless_empty(out_dir)
    spec = assignment.grading
    if spec.self_check:
        raise KitError(f"{spec.path} is already a student kit's spec; build the kit from the full grader")
    template = Path(template) if template else assignment.template
    if not template.is_file():
        raise KitError(f"no submission template at {template}; pass the template's path with --template")
    hidden = {name for name, entry in spec.checks.items() if entry.visibility != PUBLIC}
    try:
        fixtures = record_expected_values(assignment)
    except RecordingFailed as exc:
        raise KitError(str(exc)) from None

    with staged(out_dir) as staging:
        _copy_harness(staging / "grader", hidden)
        public_points = _write_specs(staging / "specs", assignment, hidden, fixtures)
        (staging / "template").mkdir()
        shutil.copyfile(template, staging / "template" / "rnn.py")
        kit = Kit(out_dir, len(spec.checks) - len(hidden), public_points, len(hidden), len(fixtures))
        _render(staging, kit)
        _refuse_leaks(staging, hidden, assignment.course_secret)
    return kit


def refuse_unless_empty(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise KitError(f"{out_dir} already exists and is not an empty folder; nothing was written")
    return out_dir


@contextmanager
def staged(out_dir: Path) -> Iterator[Path]:
    """A folder beside ``out_dir`` to write into; it becomes ``out_dir`` when the block completes and is
    removed when it does not, so a half-built folder is never left where the user asked for one. What it
    becomes is readable by everyone (folders 0755, files 0644): it is handed out, often from a shared
    course folder, and holds nothing private."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        yield staging
        _readable_by_all(staging)
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _readable_by_all(folder: Path) -> None:
    """Folders 0755, files 0644 (0755 where the owner may execute it), whatever the umask and mkdtemp's 0700."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def _copy_harness(target: Path, hidden: set[str]) -> None:
    found: set[str] = set()
    for pattern in HARNESS_FILES:
        for source in HARNESS.rglob(pattern):
            relative = source.relative_to(HARNESS)
            if "__pycache__" in relative.parts or any(relative.is_relative_to(p) for p in LEFT_OUT):
                continue
            text = source.read_text(encoding="utf-8")
            if relative.parts[0] == "checks" and source.suffix == ".py":
                text, removed = strip_checks(text, hidden)
                found |= removed
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_text(text, encoding="utf-8")
    if missing := hidden - found:
        raise KitError(f"could not remove the code of hidden check(s) {', '.join(sorted(missing))}: "
                       "each check must be a function decorated with @check(NAME, ...)")


def _write_specs(target: Path, assignment: Assignment, hidden: set[str], fixtures: dict) -> float:
    spec_dir = assignment.spec_dir
    target.mkdir()
    (target / "__init__.py").write_text('"""Data package: the student kit\'s contract, checks and recorded values."""\n')
    for name in SPEC_FILES:
        shutil.copyfile(spec_dir / name, target / name)
    # The report's training text, wherever the course keeps it, travels by name.
    (target / "texts").mkdir()
    (target / "texts" / f"{assignment.text.name}.txt").write_text(assignment.text.text, encoding="utf-8")
    report = yaml.safe_load((spec_dir / "report.yaml").read_text(encoding="utf-8"))
    report["training"]["text"] = assignment.text.name
    (target / "report.yaml").write_text(yaml.safe_dump(report, sort_keys=False, width=120))
    raw = yaml.safe_load((spec_dir / "grading.yaml").read_text(encoding="utf-8"))
    checks = {name: entry for name, entry in raw["checks"].items() if name not in hidden}
    points = sum(entry["points"] for entry in checks.values())
    grading = {
        "total": points,
        "relative_error_floor": raw["relative_error_floor"],
        "self_check": {"hidden_checks": len(hidden), "hypothesis": hypothesis.__version__},
        "checks": checks,
        **({"limits": raw["limits"]} if "limits" in raw else {}),
    }
    header = "# The student kit's grading spec, written by `python -m grader kit`: the public checks only.\n"
    (target / "grading.yaml").write_text(header + yaml.safe_dump(grading, sort_keys=False, width=120))
    oracle.save_fixtures(fixtures, target / oracle.FIXTURES)
    return points


def _render(staging: Path, kit: Kit) -> None:
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader.kit", "templates"), keep_trailing_newline=True)
    requirements = [_kit_requirement(r) for r in importlib.metadata.requires("rnn-grader") or ()
                    if "extra ==" not in r]
    packages = sorted(".".join(init.parent.relative_to(staging).parts)
                      for top in ("grader", "specs") for init in (staging / top).rglob("__init__.py"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        text = env.get_template(f"{name}.j2").render(kit=kit, version=grader.__version__, requirements=requirements,
                                                     packages=packages, prefix=INSTALLED_UNDER)
        (staging / name).write_text(text)


def _kit_requirement(requirement: str) -> str:
    """Hypothesis exactly as recorded: another version draws other cases, which the kit has no values for."""
    return f"hypothesis=={hypothesis.__version__}" if requirement.startswith("hypothesis") else requirement


def _refuse_leaks(staging: Path, hidden: set[str], secret: str) -> None:
    """The kit must not name a hidden check anywhere, nor carry the reference or the course's secret."""
    if (staging / "reference").exists():
        raise KitError("the kit would contain the reference solution")
    for path in staging.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for name in hidden:
                if name.encode() in data:
                    raise KitError(f"the hidden check {name!r} is still named in {path.relative_to(staging)}")
            if secret and secret.encode() in data:
                raise KitError(f"the course secret would be shipped in {path.relative_to(staging)}")
