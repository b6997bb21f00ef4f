"""The command line: ``python -m grader PATH [--out DIR] [--jobs N]``."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
from pathlib import Path

from grader import __version__
from grader.assignment import Assignment, load_assignment, match_suite, read_assignment, spec_folder
from grader.batch.out_files import LATE_POLICY, OVERRIDES, STUDENTS
from grader.boxes import GradingSandboxes
from grader.diagnostics.real_text import RealTextRequest
from grader.errors import ExitCode, GraderError, UsageError
from grader.intake import Reading
from grader.intake.locate import PathReading, read_path
from grader.lms.canvas import DEFAULT_ASSIGNMENT
from grader.render.terminal import (
    make_console,
    progress,
    render_class_terminal,
    render_terminal,
)
from grader.sandbox import Limits, Policy
from grader.sandbox.isolation import requested_tier
from grader.sandbox.scratch import sandboxes_folder
from grader.scoring import load_grading_spec
from grader.secret import course_secret
from grader.settings import CACHE_ENV, default_cache_dir
from grader.texts import read_text_file

DEFAULT_OUT = Path("grading-output")

DESCRIPTION = """\
Grade character-level vanilla RNN submissions against the reference.

PATH is one submission (a folder, a zip file, or the path of its rnn.py or notebook), or a class folder
whose sub-folders, zip files and students' flat files (as Canvas and Moodle name them) are submissions
(two or more students' of them; --single and --class decide otherwise). Each submission runs in a
sandbox; its results go to --out as results.json (Gradescope's
format) and report.html, and a summary is printed. For a class, --out also gets grades.csv (raw and
final scores), canvas.csv and moodle.csv (for the LMS), summary.json, index.html and similarity.html;
a rerun grades only what changed, and a regrade that changes grades is shown before it is applied.

`python -m grader kit --out DIR` builds the student kit instead (see `python -m grader kit --help`);
`python -m grader classroom --out DIR` a GitHub Classroom template repository around it;
`python -m grader secret` makes (or shows) the course secret that decides the graded cases.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, help="a submission (folder, zip file, rnn.py or notebook) or a class folder")
    reading = parser.add_mutually_exclusive_group()
    reading.add_argument("--single", dest="reading", action="store_const", const=Reading.SINGLE,
                         help="grade PATH as one submission, even if it holds several")
    reading.add_argument("--class", dest="reading", action="store_const", const=Reading.CLASS,
                         help="grade every submission in PATH's sub-folders and zip files")
    parser.add_argument("--out", type=Path, help="where results go (default: grading-output/<name>/ for a "
                        "submission, grading-output/ for a class)")
    parser.add_argument("--jobs", type=int, default=None, help="class: submissions graded at once (default: the cores)")
    parser.add_argument("--force", action="store_true", help="class: grade every submission again, changed or not")
    parser.add_argument("--dask", metavar="ADDRESS", help="class: grade on this Dask cluster (pip install \".[dask]\")")
    parser.add_argument("--spec", help="the course's spec folder (contract.yaml, grading.yaml, report.yaml, texts/), "
                        "or the name of a shipped one: default, mean-adam (the 2025/26 mean loss with Adam)")
    parser.add_argument("--student", metavar="ID", help="one submission, under per-student cases (grading.yaml "
                        "cases: per_student): whose cases to draw; give the ID a class run uses (the LMS's student "
                        "ID, else the SIS ID, the e-mail, or the folder's name) to get the same cases")
    parser.add_argument("--fail-under", type=float, metavar="SCORE", help="exit with status 1 when the score is lower "
                        "(class: when any submission's final score is)")
    real = parser.add_argument_group("the course reports' figures on a real text (one submission)")
    real.add_argument("--text", type=Path, metavar="PATH", help="train on this UTF-8 text (the course's book): one "
                      "continuous run, samples, the best model's passage, the reference band, the gradient table at m=100")
    real.add_argument("--updates", type=_positive(int), metavar="N", help="updates of that run (default 10000)")
    real.add_argument("--run-seconds", type=_positive(float), metavar="S",
                      help="time budget of that run (default: scaled to N, see specs/report.yaml)")
    real.add_argument("--cache-dir", type=Path, metavar="DIR", help="where reference bands are kept "
                      f"(default: ${CACHE_ENV}, else ~/.cache/rnn-grader)")
    limits = parser.add_argument_group("the checks' limits")
    limits.add_argument("--call-seconds", type=_positive(float), metavar="S",
                        help="wall time of one call of the submission (default: grading.yaml's limits, else "
                        f"{Limits().call_seconds:g})")
    limits.add_argument("--total-seconds", type=_positive(float), metavar="S",
                        help="wall time of all the checks' calls (default: grading.yaml's limits, else "
                        f"{Limits().total_seconds:g})")
    group = parser.add_argument_group("class workflow (see README: Grading a class)")
    group.add_argument("--retry-failed", action="store_true", help="grade again only the submissions that crashed or timed "
                       "out (and those the grader failed on, which any rerun grades again)")
    group.add_argument("--accept-regrade", action="store_true", help="put in place the new results of a regrade that "
                       "changes grades (held back until then; nothing is graded again)")
    group.add_argument("--students", type=Path, metavar="CSV", help="mapping file: submission -> student_id, name, "
                       f"sis_id, email, submitted_at (default: OUT/{STUDENTS} if present)")
    group.add_argument("--overrides", type=Path, metavar="YAML",
                       help=f"per-student check overrides (default: OUT/{OVERRIDES} if present)")
    group.add_argument("--late-policy", type=Path, metavar="YAML", help=f"deadline, grace, percent per day, cap, extensions "
                       f"(default: OUT/{LATE_POLICY} if present)")
    group.add_argument("--against", type=Path, metavar="DIR", help="compare each submission with the known solutions in DIR "
                       "(earlier years, public repositories): each sub-folder, zip or .py file is one")
    group.add_argument("--template", type=Path, metavar="FILE", help="the template handed out, not counted as shared code "
                       "(default: the shipped template)")
    group.add_argument("--no-similarity", action="store_true", help="skip the similarity report")
    group.add_argument("--compare", type=Path, metavar="OLD_SUMMARY", help="another run's summary.json (last year's "
                       "class, or before a lab): the overview shows how each mistake's share changed since")
    group.add_argument("--canvas-gradebook", type=Path, metavar="CSV", help="a gradebook exported from Canvas: canvas.csv "
                       "then keeps its students and fills the assignment's column")
    group.add_argument("--canvas-assignment", metavar="NAME",
                       help="the assignment's column in canvas.csv (default: the gradebook's only assignment; "
                       f"without --canvas-gradebook, {DEFAULT_ASSIGNMENT!r})")
    group.add_argument("--moodle-worksheet", type=Path, metavar="CSV",
                       help="the grading worksheet Moodle gives (Download grading worksheet): moodle.csv then names "
                       "participants as Moodle does and, in a team assignment, gives each team's grade to its members")
    parser.add_argument("--allow-weak-sandbox", action="store_true",
                        help="where no strong sandbox (bubblewrap, or root with an unprivileged uid) works, run "
                        "submissions as plain processes that can read the reference and other students' files; "
                        "every output then says so")
    parser.add_argument("--version", action="version", version=f"rnn-grader {__version__}")
    return parser


def _positive(kind):
    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not number > 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {value}")
        return number

    return parse


def build_kit_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader kit",
        description="Build the student kit: the grader with the public checks only, without the reference "
        "solution, installable with pip. Students run `python -m grader my_submission/` in it.",
    )
    return _kit_options(parser, "a new (or empty) folder for the kit")


def build_classroom_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader classroom",
        description="Build a GitHub Classroom template repository: the student kit, the submission template, "
        "an autograding workflow that reports the public checks' points to GitHub Classroom, and a manifest "
        "of the grading files that the workflow checks before grading.",
    )
    return _kit_options(parser, "a new (or empty) folder for the template repository")


def _kit_options(parser: argparse.ArgumentParser, out_help: str) -> argparse.ArgumentParser:
    parser.add_argument("--out", type=Path, required=True, help=out_help)
    parser.add_argument("--spec", help="the course's spec folder, or the name of a shipped one (default: default)")
    parser.add_argument("--template", type=Path, help="the submission template to include (default: the spec "
                        "folder's template/rnn.py)")
    return parser


def build_secret_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader secret",
        description="Make the course secret if there is none yet, and say where it is. The full grader draws "
        "its cases under it, so the student kit's recorded cases are not the graded ones; the same secret "
        "gives the same cases (and grades) every run. It is made on first use anyway; make it ahead when "
        "every grading machine (e.g. a Gradescope image) must share it.",
    )
    parser.add_argument("--spec", help="the course's spec folder, or the name of a shipped one (default: default)")
    parser.add_argument("--from", dest="source", type=Path, metavar="FILE",
                        help="use the secret in FILE (the course's, e.g. zipped for a Gradescope image) instead of "
                        "making one; a different secret already in place is an error, never replaced")
    parser.add_argument("--path", action="store_true",
                        help="print only the secret file's path (anything else goes to stderr), e.g. to zip it")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; a GraderError (anything the user can fix) is one line on stderr and its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    console = make_console()
    try:
        return _run(argv, console)
    except GraderError as exc:
        print(f"error: {exc}" if exc.exit_code is ExitCode.USAGE else str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted: nothing was written.", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _run(argv: list[str], console) -> int:
    if argv[:1] == ["kit"]:
        return _build_kit(build_kit_parser().parse_args(argv[1:]), console)
    if argv[:1] == ["classroom"]:
        return _build_classroom(build_classroom_parser().parse_args(argv[1:]), console)
    if argv[:1] == ["secret"]:
        return _make_secret(build_secret_parser().parse_args(argv[1:]), console)
    args = build_parser().parse_args(argv)
    _check_environment()
    assignment = read_assignment(args.spec)
    # The probes the first sandbox waits for (a sandboxed Python; a process for the system-call filter) start
    # now, and so do a single grading's first workers, to run while the grading's modules are imported (about
    # 0.2 s of CPU: Hypothesis, the checks, jinja2) and the submission is read, not after. The kit's portable
    # tier needs no probe.
    with _sandboxes_ahead(args, assignment) as sandboxes:
        return _grade(args, _loaded(match_suite(assignment), console), console, sandboxes)


def _sandboxes_ahead(args: argparse.Namespace, assignment: Assignment) -> GradingSandboxes:
    """A single grading's sandboxes, their probes and first workers started (nothing of the submission's is in
    them yet); only the probes if --class says PATH is a class, and closed unused if it turns out to be one."""
    sandboxes = GradingSandboxes.make(assignment, _limits(args, assignment), _policy(args))
    return sandboxes if args.reading is Reading.CLASS else sandboxes.start()


def _grade(args: argparse.Namespace, assignment: Assignment, console, sandboxes: GradingSandboxes) -> int:
    reading = _reading(args, assignment)
    console.print(reading.summary, markup=False, highlight=False)
    for note in reading.notes:
        console.print(f"warning: {note}", markup=False, highlight=False, style="yellow")
    if reading.reading is Reading.CLASS:
        sandboxes.close()  # its probes are over; a class's submissions are graded in sandboxes of their own
        if args.text or args.student:
            option = "--text" if args.text else "--student"
            raise UsageError(f"{option} is for one submission; give a submission's folder or file")
        return _grade_class(args, assignment, console)
    return _grade_one(args, assignment, console, sandboxes)


def _check_environment() -> None:
    """Read every environment setting the grading reads, before anything runs: a value it cannot use is a
    SettingError naming the variable, as a bad option is a usage error."""
    requested_tier()
    sandboxes_folder()
    default_cache_dir()
    if os.name == "posix":  # the uid-leasing tiers exist there only (the kit runs on Windows too)
        from grader.sandbox.processes import uid_range

        uid_range()


def _reading(args: argparse.Namespace, assignment: Assignment) -> PathReading:
    return read_path(args.path, tuple(assignment.functions), args.reading)


def _grade_class(args: argparse.Namespace, assignment: Assignment, console) -> int:
    # Imported here: a single grading (the other branch) never needs the class run, its LMS files,
    # similarity report or Dask, and should not pay for importing them (about 0.15 s of CPU).
    from grader.batch.run import ClassSettings, grade_class
    from grader.batch.workflow import load_workflow

    out = args.out or DEFAULT_OUT
    workflow = load_workflow(
        args.path, out, mapping=args.students, overrides=args.overrides, late_policy=args.late_policy,
        similarity=not args.no_similarity, against=args.against,
        template=args.template if args.template is not None else assignment.template if assignment.template.is_file() else None,
        canvas_gradebook=args.canvas_gradebook, canvas_assignment=args.canvas_assignment,
        moodle_worksheet=args.moodle_worksheet, compare=args.compare,
    )
    settings = ClassSettings(jobs=args.jobs, force=args.force, dask_address=args.dask, limits=_limits(args, assignment),
                             workflow=workflow, retry_failed=args.retry_failed, accept_regrade=args.accept_regrade,
                             policy=_policy(args))
    result = grade_class(args.path, out, assignment, settings)
    render_class_terminal(result, console, out, fail_under=args.fail_under)
    if result.grader_failed:  # before --fail-under: a submission without a grade is the more urgent news
        return ExitCode.GRADER_FAILED
    if args.fail_under is not None and any(s.has_grade and s.final < args.fail_under for s in result.submissions):
        return ExitCode.BELOW_FAIL_UNDER
    return ExitCode.OK


def _build_kit(args: argparse.Namespace, console) -> int:
    try:
        from grader.kit import build_kit
    except ImportError:
        raise UsageError("this is the student kit; kits are built with the full grader") from None
    with progress(console, "Recording the public checks' expected values from the reference"):
        kit = build_kit(args.out, _load(args.spec, console), template=args.template)
    console.print(
        f"Student kit written to {kit.path}: {kit.public_checks} public checks ({kit.public_points:g} points), "
        f"{kit.hidden_checks} hidden checks left out, {kit.recorded_calls} recorded reference calls.\n"
        f"Students install it with `pip install {kit.path}` and run `python -m grader my_submission/`.",
        markup=False, highlight=False,
    )
    return ExitCode.OK


def _build_classroom(args: argparse.Namespace, console) -> int:
    try:
        from grader.kit.classroom import build_classroom_template
    except ImportError:
        raise UsageError("this is the student kit; templates are built with the full grader") from None
    with progress(console, "Building the student kit for the template repository"):
        built = build_classroom_template(args.out, _load(args.spec, console), template=args.template)
    console.print(
        f"GitHub Classroom template written to {built.path}: {built.kit.public_checks} public checks "
        f"({built.kit.public_points:g} points), {built.shipped_files} grading files pinned by the manifest "
        f"(sha256 {built.manifest_sha256}).\nPush it to a template repository and use it for the assignment "
        "(README: GitHub Classroom).",
        markup=False, highlight=False,
    )
    return ExitCode.OK


def _make_secret(args: argparse.Namespace, console) -> int:
    folder = spec_folder(args.spec)
    if load_grading_spec(folder / "grading.yaml").self_check:
        raise UsageError("this is the student kit; the course secret belongs to the full grader")
    secret = course_secret(folder, source=args.source)
    if args.path:
        if secret.path is None:
            raise UsageError(f"{secret.where} gives the course secret: there is no file to show")
        if secret.made:
            print(secret.made_now, file=sys.stderr)
        print(secret.path)
        return ExitCode.OK
    console.print(secret.made_now or f"Course secret: {secret.where} (already there). Keep it: another secret "
                  "means other graded cases. It is never put into the student kit.", markup=False, highlight=False,
                  soft_wrap=True)  # a path the terminal would break is not one to copy
    return ExitCode.OK


def _load(spec_dir: Path | None, console) -> Assignment:
    """The assignment, loaded once; says so when loading made the course's secret (the instructor keeps it)."""
    return _loaded(load_assignment(spec_dir), console)


def _loaded(assignment: Assignment, console) -> Assignment:
    if assignment.secret and assignment.secret.made:
        console.print(assignment.secret.made_now, markup=False, highlight=False, soft_wrap=True)
    return assignment


def _grade_one(args: argparse.Namespace, assignment: Assignment, console, sandboxes: GradingSandboxes) -> int:
    # Imported here, once the sandbox's probes run (see _run); the other commands (kit, secret, --help) never
    # need the grading's modules.
    from grader.grading import grade_submission
    from grader.outputs import default_out_dir, write_outputs

    real_text = _real_text(args, assignment)
    assignment = _for_student(args.student, assignment, console)
    # What exists now (the modules, the assignment) lives to the end: frozen, it is skipped by the grading's
    # garbage collections (its full ones walked every import's objects: 0.06 s of CPU of a notebook's grading).
    gc.freeze()
    doing = f"Grading {args.path.name}"
    if real_text is not None and assignment.report.real_text is not None:  # _real_text checked the section is there
        doing += f", then {real_text.n_updates or assignment.report.real_text.n_updates} updates on {real_text.name}"
    with progress(console, doing):
        result = grade_submission(args.path, assignment, real_text=real_text, sandboxes=sandboxes)
    outputs = write_outputs(result, args.out or default_out_dir(Path(result.name), DEFAULT_OUT))
    render_terminal(result, console, outputs)
    if args.fail_under is not None and result.score < args.fail_under:
        return ExitCode.BELOW_FAIL_UNDER
    return ExitCode.OK


def _for_student(student: str | None, assignment: Assignment, console) -> Assignment:
    """The assignment with the student's own cases under per-student cases; says when --student and the
    course's setting do not go together (the course's cases are used then)."""
    if assignment.per_student and not (student or "").strip():
        console.print(f"warning: {assignment.grading.path} draws each student's own cases (cases: per_student), "
                      "but no --student was given: graded with the course's cases.", markup=False,
                      highlight=False, style="yellow")
    elif student is not None and not assignment.per_student:
        console.print(f"warning: --student changes nothing: {assignment.grading.path} draws the same cases for "
                      "every student (cases: per_course).", markup=False, highlight=False, style="yellow")
    return assignment.for_student(student or "")


def _limits(args: argparse.Namespace, assignment: Assignment) -> Limits:
    """The checks' limits: grading.yaml's, with the command line's overrides."""
    overrides = {k: v for k, v in (("call_seconds", args.call_seconds), ("total_seconds", args.total_seconds)) if v}
    return dataclasses.replace(assignment.grading.limits, **overrides)


def _real_text(args: argparse.Namespace, assignment: Assignment) -> RealTextRequest | None:
    """The --text request, with the text read and checked here, before any grading starts."""
    if args.text is None:
        if args.updates or args.run_seconds:
            raise UsageError("--updates and --run-seconds set the run on a real text; give it with --text PATH")
        return None
    if assignment.report.real_text is None:
        raise UsageError(f"--text needs a real_text section in {assignment.spec_dir / 'report.yaml'} "
                         "(the shipped specs/report.yaml has one to copy)")
    text = read_text_file(args.text)
    seq_length = assignment.conventions.seq_length
    if len(text) < seq_length + 1:
        raise UsageError(f"{args.text} has {len(text)} characters; training needs at least seq_length + 1 = "
                         f"{seq_length + 1}")
    return RealTextRequest(args.text.stem, text, n_updates=args.updates, run_seconds=args.run_seconds,
                           cache_dir=args.cache_dir or default_cache_dir())


def _policy(args: argparse.Namespace) -> Policy:
    return Policy.allow_weak if args.allow_weak_sandbox else Policy.strict


def submission_folder(path: Path) -> Path:
    """The submission folder the command line (or the pytest plugin) names; UsageError says what is wrong."""
    if not path.exists():
        raise UsageError(f"no such folder: {path}")
    if not path.is_dir():
        raise UsageError(f"{path} is a file; give the submission's folder (the one that holds rnn.py)")
    if not (path / "rnn.py").is_file():
        raise UsageError(f"no rnn.py in {path} (looked for {path / 'rnn.py'})")
    return path
