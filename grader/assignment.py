"""The assignment as one object: a spec folder, loaded and validated once at the edge, then passed down.

A spec folder holds ``contract.yaml`` (what students implement and the course's conventions),
``grading.yaml`` (points, thresholds, budgets, visibility), ``report.yaml`` (the report's diagnostics),
``mistakes.yaml`` (the explanation of each mistake the grader names) and ``texts/``. The command line, class grading (in each worker), the kit builder and a Dask task each call
``load_assignment`` once; the sandbox, the checks, the oracle, the diagnostics and the report read what
they need from the ``Assignment`` they are given and never open a spec file themselves. The full
grader's assignment also carries the course's secret (made on first use, one per course spec; see
grader.secret for where it lives), which decides the cases the checks draw. A course whose grading.yaml says
``cases: per_student`` draws each student's own: the edge that knows who handed a submission in (the
class run, the Gradescope autograder, ``--student``) grades it under ``assignment.for_student(identity)``.

The whole assignment is validated here, once, before anything is graded: each file's fields, the
contract's functions against grading.yaml's, the training text against the report's settings, and
grading.yaml's checks against the suite's (``grader.checks.suite_for``, which says which checks exist).
A spec that fails raises SpecError naming the file and the field, so a class run with a misspelled check
name stops before grading anyone instead of giving every student the same zero.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.contract import Contract, Conventions, load_contract
from grader.diagnostics.spec import ReportSpec, load_report_spec
from grader.mistakes import load_explanations
from grader.results import Explanation
from grader.scoring import PER_STUDENT, GradingSpec, load_grading_spec
from grader.secret import KIT_SALT, CourseSecret, course_secret, student_salt
from grader.specfile import DEFAULT, VARIANTS, SpecError, default_spec_dir
from grader.texts import TextError, load_text

__all__ = ["Assignment", "SpecError", "default_spec_dir", "load_assignment", "shipped_specs"]


@dataclass(frozen=True)
class TrainingText:
    name: str
    text: str


@dataclass(frozen=True)
class Assignment:
    """Everything the grader knows about one course's version of the assignment."""

    spec_dir: Path
    contract: Contract
    grading: GradingSpec
    report: ReportSpec
    text: TrainingText  # the report's training text (also the longer training check's)
    # The per-course secret the full grader draws its cases under, and where it came from (grader.secret);
    # the student kit has none.
    secret: CourseSecret | None = None
    # Whose cases are drawn, under ``cases: per_student`` (see for_student); empty: the course's.
    student: str = ""
    # mistakes.yaml: the course's explanation of each mistake the grader can name, by id (grader.mistakes).
    mistakes: Mapping[str, Explanation] = dataclasses.field(default_factory=dict)

    @property
    def conventions(self) -> Conventions:
        return self.contract.conventions

    @property
    def functions(self) -> tuple[str, ...]:
        """The contract's function names, in contract order: what the sandbox looks up in rnn.py."""
        return tuple(self.contract.functions)

    @property
    def template(self) -> Path:
        """The file students start from (the kit ships it); a spec folder keeps it in template/rnn.py."""
        return self.spec_dir / "template" / "rnn.py"

    @property
    def course_secret(self) -> str:
        return self.secret.value if self.secret else ""

    @property
    def case_salt(self) -> str:
        """What the checks draw their cases under: the kit's public salt, the course's secret, or the
        student's salt derived from it (per-student cases)."""
        if self.grading.self_check:
            return KIT_SALT
        if not self.course_secret:
            raise SpecError(f"the assignment from {self.spec_dir} has no course secret; load it with load_assignment")
        return student_salt(self.course_secret, self.student) if self.student else self.course_secret

    @property
    def per_student(self) -> bool:
        """Whether the course draws each student's own cases (grading.yaml ``cases: per_student``)."""
        return self.grading.cases == PER_STUDENT and not self.grading.self_check

    def for_student(self, identity: str) -> Assignment:
        """The assignment as it grades the student known by ``identity``: under per-student cases, with
        that student's salt; otherwise (or with no identity) unchanged, the course's cases.

        The identity is compared without case and runs of white space, so "Alice  Smith" and "alice
        smith" are one student."""
        student = " ".join(identity.split()).casefold()
        return dataclasses.replace(self, student=student) if self.per_student and student else self

    @property
    def allowed_imports(self) -> tuple[str, ...]:
        """The distributions rnn.py may import besides the standard library (contract.yaml, imports: allowed)."""
        return self.contract.allowed_imports

    @property
    def digest(self) -> str:
        """Identifies the contract and grading configuration (part of every result and cache key)."""
        return f"{self.contract.digest}-{self.grading.digest}"


def shipped_specs() -> tuple[str, ...]:
    """The names of the spec folders that ship with the grader: "default" and other years' variants."""
    variants = default_spec_dir() / VARIANTS  # absent in the student kit
    found = sorted(p.name for p in variants.iterdir() if (p / "contract.yaml").is_file()) if variants.is_dir() else []
    return (DEFAULT, *found)


def spec_folder(spec: Path | str | None) -> Path:
    """A spec folder given as a path, as the name of a shipped one, or None for the default."""
    if spec is None or str(spec) == DEFAULT:
        return default_spec_dir()
    if Path(spec).is_dir():
        return Path(spec)
    if str(spec) in shipped_specs():
        return default_spec_dir() / VARIANTS / str(spec)
    raise SpecError(f"no spec folder at {spec}, and no shipped spec of that name ({', '.join(shipped_specs())})")


def load_assignment(spec: Path | str | None = None) -> Assignment:
    """Read and validate a spec folder (see spec_folder); raise SpecError naming what is wrong."""
    return match_suite(read_assignment(spec))


def read_assignment(spec: Path | str | None = None) -> Assignment:
    """The spec folder's files read and validated, each on its own and against each other, but not yet
    against the suite's checks (match_suite): for an edge with work to start in the meantime (the command
    line starts the sandbox's probes while the suite, Hypothesis and the checks, about 0.17 s of CPU, is
    imported). Only an assignment that went through match_suite is graded with."""
    folder = spec_folder(spec)
    contract = load_contract(folder / "contract.yaml")
    grading = load_grading_spec(folder / "grading.yaml")
    unknown = sorted({entry.function for entry in grading.checks.values()} - set(contract.functions))
    if unknown:
        raise SpecError(f"{grading.path}: checks of {', '.join(unknown)}, which the contract does not define")
    report = load_report_spec(folder / "report.yaml", contract.conventions)
    try:
        name, text = load_text(report.training.text, folder)
    except TextError as exc:
        raise SpecError(f"{folder / 'report.yaml'}: {exc}") from None
    usable = min(len(text), report.training.text_chars)
    if usable < report.training.seq_length + 1:
        raise SpecError(
            f"{folder / 'report.yaml'}: the training text {name!r} gives {usable} characters, fewer than "
            f"seq_length + 1 = {report.training.seq_length + 1}"
        )
    secret = None if grading.self_check else course_secret(folder)
    mistakes = load_explanations(folder, tuple(contract.functions))
    return Assignment(folder, contract, grading, report, TrainingText(name, text), secret, mistakes=mistakes)


def match_suite(assignment: Assignment) -> Assignment:
    """``assignment``, once grading.yaml's entries match the suite's checks (SpecError if not): at loading,
    not in the middle of a class."""
    # The suite (the checks, Hypothesis) is imported by loading an assignment, not by importing this module:
    # a process that is only handed a loaded one (a class run's grading process, before its grading
    # function is unpickled; a test's stand-in grader) never pays for it.
    from grader.checks.suite import suite_for

    suite_for(assignment)
    return assignment
