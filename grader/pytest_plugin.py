"""The grading suite as a pytest plugin: ``pytest --rnn-submission PATH`` grades one submission.

Registered through the ``pytest11`` entry point, so it is loaded by every pytest session on a machine
that has the grader (or the student kit) installed, and does nothing at all unless ``--rnn-submission``
is given: no option, no import of the grader, no item.

With it, every visible check of the spec becomes a pytest item named like the check (with
``--rnn-instructor``, the hidden ones too: whoever reads a session's output may be a student). The submission is graded
once, by the CLI's own ``grade_submission`` (one sandbox, the same scoring, the same results model),
before the first item runs; each item then reports its check's result: passed, failed with the check's
feedback (smallest failing case, hint) as the failure message, or PARTIAL when it earned some of its
points. Points go into the JUnit XML as each test case's properties, and a points summary ends the
session. ``--rnn-out`` writes the CLI's results.json and report.html; ``--rnn-classroom`` appends the
result in the format GitHub Classroom's autograding reporter reads (grader.classroom), grading in a strong
sandbox even in the student kit. Nothing is written until every process the grading started is dead
(grader.leftovers), and no file of the submission configures the session (grader.pytest_guard).

Without test paths on the command line only the checks run (a course repository's own tests, or this
project's, are not collected); with paths, their tests run too.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

if TYPE_CHECKING:  # the plugin imports the grader only once --rnn-submission is given
    from grader.results import CheckResult, SubmissionResult

PARTIAL = "partial"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rnn-grader", "grading a character-level RNN submission (rnn-grader)")
    group.addoption("--rnn-submission", metavar="PATH", type=Path,
                    help="grade the submission folder PATH (its rnn.py): one test per check. Write "
                    "--rnn-submission=PATH for someone else's code: as a separate word, pytest looks for its "
                    "configuration in PATH")
    group.addoption("--rnn-out", metavar="DIR", type=Path,
                    help="also write results.json and the reports to DIR, as `python -m grader --out DIR` does")
    group.addoption("--rnn-spec", metavar="SPEC",
                    help="the course's spec folder, or the name of a shipped one (default: default)")
    group.addoption("--rnn-classroom", metavar="FILE", type=Path,
                    help="append the result for GitHub Classroom's autograding reporter to FILE "
                    "(in a workflow: $GITHUB_OUTPUT; the step's output is then `result`). Grades for the record: "
                    "in a strong sandbox even in the student kit (zero points with the reason where none works)")
    group.addoption("--rnn-instructor", action="store_true",
                    help="one test per check, hidden ones included, with their feedback (default: the visible "
                    "checks only, since whoever reads the session's output may be a student)")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before any conftest.py is loaded: refuse a session configured from inside the submission."""
    submission = early_config.known_args_namespace.rnn_submission
    if submission is not None:
        from grader.pytest_guard import refuse_foreign_configuration

        refuse_foreign_configuration(early_config, Path(submission))


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("rnn_submission") is None:
        for option in ("rnn_out", "rnn_spec", "rnn_classroom", "rnn_instructor"):
            if config.getoption(option):
                raise pytest.UsageError(f"--{option.replace('_', '-')} needs --rnn-submission PATH")
        return
    config.addinivalue_line("markers", "rnn_check(function, visibility): a check of the RNN grading suite")
    config.pluginmanager.register(GradingSession.from_config(config), GradingSession.NAME)


@dataclass(frozen=True)
class Options:
    submission: Path
    spec: str | None
    out: Path | None
    classroom: Path | None
    instructor: bool


class GradingSession:
    """One submission graded once for the whole pytest session; its items read the result."""

    NAME = "rnn-grader-session"

    def __init__(self, options: Options, assignment):
        self.options = options
        self.assignment = assignment
        self.result: SubmissionResult | None = None  # once graded
        self.outputs: dict[str, Path] = {}
        self.by_nodeid: dict[str, CheckResult] = {}  # item nodeid -> its CheckResult, once graded

    @classmethod
    def from_config(cls, config: pytest.Config) -> GradingSession:
        """Check the options and load the Assignment once, as the CLI does, before anything is collected:
        a usage error is one clear line."""
        from grader.assignment import load_assignment
        from grader.cli import submission_folder
        from grader.errors import GraderError

        try:
            options = Options(submission_folder(config.getoption("rnn_submission")), config.getoption("rnn_spec"),
                              config.getoption("rnn_out"), config.getoption("rnn_classroom"),
                              config.getoption("rnn_instructor"))
            assignment = load_assignment(options.spec)
        except GraderError as exc:
            raise pytest.UsageError(str(exc)) from None
        if config.args_source is not pytest.Config.ArgsSource.ARGS:
            config.args = []  # no paths given: grade only, collect no test files
        return cls(options, assignment)

    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        """Nothing inside the submission is collected, so none of its conftest.py files is ever loaded."""
        from grader.pytest_guard import inside

        return True if inside(collection_path, self.options.submission.resolve()) else None

    def shown(self, visibility: str) -> bool:
        from grader.results import PUBLIC

        return self.options.instructor or visibility == PUBLIC

    def pytest_report_header(self, config: pytest.Config) -> str:
        if self.assignment.grading.self_check:
            kind = "the student kit's public checks"
        else:
            kind = "every check" if self.options.instructor else "every check; only the visible ones are shown"
        made = self.assignment.secret.made_now if self.assignment.secret else ""
        return f"rnn-grader: grading {self.options.submission} ({kind})" + (f"\nrnn-grader: {made}" if made else "")

    @pytest.hookimpl(tryfirst=True)  # before -k and -m deselect items
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[pytest.Item]) -> None:
        folder = self.options.submission.resolve()
        nodeid = Path(os.path.relpath(folder, session.config.rootpath)).as_posix()
        node = SubmissionNode.from_parent(session, name=folder.name, path=folder, nodeid=nodeid, grading=self)
        # Through pytest's own collect report, so the checks are counted and shown as collected items.
        report = node.ihook.pytest_make_collect_report(collector=node)
        session.ihook.pytest_collectreport(report=report)
        if report.passed:
            items[:0] = report.result

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        if session.config.option.collectonly or session.testsfailed:
            return
        if any(isinstance(item, CheckItem) for item in session.items):
            self._grade(session.config)

    def _grade(self, config: pytest.Config) -> None:
        from grader.classroom import append_github_output
        from grader.errors import GraderError
        from grader.grading import grade_submission
        from grader.outputs import write_outputs
        from grader.pytest_guard import refuse_plugins_from
        from grader.render.classroom import not_graded_result, runner_result
        from grader.sandbox import Policy

        options = self.options
        try:
            refuse_plugins_from(config, options.submission)
        except pytest.UsageError as exc:
            pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"rnn-grader: grading {options.submission.resolve().name} in the sandbox...")
        try:
            with self._no_leftovers():  # every process of the submission's is dead before any output is written
                # For the record (Classroom) the kit grades in a strong sandbox, as the grader does.
                result = grade_submission(options.submission, self.assignment, kit_policy=(
                    Policy.strict if options.classroom is not None else Policy.portable))
            self.result = result
            if options.classroom is not None:
                append_github_output(options.classroom, "result", runner_result(result))
            if options.out is not None:
                self.outputs = write_outputs(result, options.out)
        except GraderError as exc:
            if options.classroom is not None and self.result is None:
                append_github_output(options.classroom, "result",
                                     not_graded_result(str(exc), self.assignment.grading.total))
            pytest.exit(f"rnn-grader: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)

    def _no_leftovers(self):
        """Adopt and end what the grading leaves running: required for the record, done wherever it can be."""
        from grader.leftovers import no_leftovers, subreaper_available

        if self.options.classroom is not None or subreaper_available():
            return no_leftovers()
        return contextlib.nullcontext()

    def check_result(self, item: CheckItem):
        if self.result is None:
            raise RuntimeError("the submission has not been graded")  # only if a plugin runs items itself
        found = {c.name: c for c in self.result.checks}.get(item.name)
        if found is None:
            raise RuntimeError(f"grading gave no result for the check {item.name!r}")
        self.by_nodeid[item.nodeid] = found
        return found

    def pytest_report_teststatus(self, report: pytest.TestReport):
        check = self.by_nodeid.get(report.nodeid)
        if check is not None and report.when == "call" and report.failed and check.score > 0:
            return PARTIAL, "P", ("PARTIAL", {"yellow": True})
        return None

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.result is None:
            return
        from grader.render.summary import by_function, points
        from grader.render.terminal import OUTPUT_LABELS
        from grader.results import student_copy

        for report in terminalreporter.stats.get(PARTIAL, ()):
            terminalreporter.write_sep("_", report.head_line or report.nodeid, yellow=True)
            terminalreporter.write_line(report.longreprtext)
        result = self.result
        shown = result if self.options.instructor else student_copy(result)
        not_shown = len(result.checks) - len(shown.checks)
        terminalreporter.write_sep("=", "rnn-grader points", bold=True)
        if result.self_check:
            terminalreporter.write_line(f"self-check: public checks only; {result.hidden_checks_not_run} "
                                        "hidden checks not run")
        if result.load_failure:
            terminalreporter.write_line(f"rnn.py could not be loaded: {result.load_failure.message}", red=True)
        functions = by_function(shown)
        width = max((len(fn.name) for fn in functions), default=0)
        for fn in functions:
            terminalreporter.write_line(f"{fn.name:<{width}}  {points(fn.score):>6} / {points(fn.max_score):<4}"
                                        f"  {fn.passed}/{len(fn.checks)} checks passed")
        full = shown.score >= shown.max_score
        label = "Visible checks" if not_shown else "Total"
        terminalreporter.write_line(f"{label}: {points(shown.score)} / {points(shown.max_score)}", bold=True,
                                    green=full, yellow=not full)
        if not_shown:
            terminalreporter.write_line(f"{not_shown} hidden checks were graded too: their results are for "
                                        "instructors (--rnn-instructor, or the instructor's report).")
        for label, path in self.outputs.items():
            terminalreporter.write_line(f"{dict(OUTPUT_LABELS).get(label, label)}: {path}")


class SubmissionNode(pytest.Collector):
    """The submission folder, as the parent of its checks' items (node id: its path from the rootdir)."""

    def __init__(self, *, grading: GradingSession, **kwargs):
        super().__init__(**kwargs)
        self.grading = grading

    def collect(self) -> list[CheckItem]:
        from grader.checks.suite import suite_for

        grading = self.grading.assignment.grading
        entries = [grading.checks[c.name] for c in suite_for(self.grading.assignment)]
        return [CheckItem.from_parent(self, name=entry.name, spec=entry)
                for entry in entries if self.grading.shown(entry.visibility)]


class CheckFailed(Exception):
    """The check did not earn all its points; the message is its feedback."""


class CheckItem(pytest.Item):
    """One check. Its outcome is the submission's graded result for that check, never a second grading."""

    def __init__(self, *, spec, **kwargs):
        super().__init__(**kwargs)
        function = self.contract_function = spec.function  # not `function`: pytest takes that for a test function
        self.add_marker(pytest.mark.rnn_check(function=function, visibility=spec.visibility))
        self.keywords[function] = True  # -k adagrad_step selects a function's checks
        self.user_properties.extend([("function", function), ("max_score", spec.points),
                                     ("visibility", spec.visibility)])

    def runtest(self) -> None:
        check = cast(SubmissionNode, self.parent).grading.check_result(self)
        self.user_properties.append(("score", check.score))
        if check.score < check.max_score:
            raise CheckFailed(failure_message(check))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, self.name


def failure_message(check) -> str:
    """The points, then what the student reads in results.json (the feedback and the hint)."""
    from grader.render.gradescope import check_output
    from grader.render.summary import points

    earned = "partial credit" if check.score > 0 else "failed"
    head = f"{check.name}: {points(check.score)} / {points(check.max_score)} points ({earned})"
    return f"{head}\n\n{check_output(check)}"
