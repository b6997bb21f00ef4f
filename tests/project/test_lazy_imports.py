"""A run imports what it uses: grading one submission from the command line, and a class run's grading
process, import none of the class run's modules (its outputs, LMS files, similarity report, ledger, Dask),
and a plain rnn.py is graded without nbformat. The command line imports the grading's own modules only once
the sandbox's probes run, so that they run meanwhile. Each is checked in a fresh interpreter, after the work."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Modules a single grading, or the grading process of a class run, has no use for.
CLASS_RUN = ("grader.batch.", "grader.similarity", "grader.ledger", "grader.render.class_overview",
             "grader.render.canvas_csv", "grader.render.moodle_csv", "grader.render.gradebook",
             "dask", "distributed", "copydetect")
# The file names the command line's help shows; the grading process's own modules (a task names its kind
# of entry as discover does).
ALLOWED = ("grader.batch.out_files", "grader.batch.grading_process", "grader.batch.task", "grader.batch.discover")

LISTING = """
import sys
{work}
print("\\n".join(sorted(sys.modules)))
"""


def _modules_after(tmp_path: Path, work: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", LISTING.format(work=work)], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def _unused(modules: list[str], unused: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.startswith(unused) and m not in ALLOWED]


def test_grading_one_submission_from_the_command_line_imports_no_class_run_module_nor_nbformat(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rnn.py").write_text("def forward(:\n")  # fails to load: every check runs, quickly
    work = (f"from grader.cli import main\n"
            f"assert main([{str(tmp_path / 'sub')!r}, '--out', {str(tmp_path / 'out')!r}]) == 0\n")
    modules = _modules_after(tmp_path, work)
    assert "grader.grading" in modules and "grader.outputs" in modules  # it did grade and write
    assert _unused(modules, CLASS_RUN + ("nbformat",)) == []


def test_a_notebook_is_still_read_with_nbformat(tmp_path):
    work = ("from grader.intake.notebook import read_notebook\n"
            "source = read_notebook(b'{\"cells\": [{\"cell_type\": \"code\", \"metadata\": {}, \"outputs\": [], "
            "\"execution_count\": null, \"source\": \"x = 1\"}], \"metadata\": {}, \"nbformat\": 4, "
            "\"nbformat_minor\": 5}', 'a.ipynb')\n"
            "assert source.text.strip() == 'x = 1', source.text\n")
    assert "nbformat" in _modules_after(tmp_path, work)


def test_a_grading_process_imports_only_what_grading_needs(tmp_path):
    """What a class run's grading process imports before its first task (grading_process.BOOT) and when it
    unpickles the grading function (grade_submission) it is sent."""
    modules = _modules_after(tmp_path, "import grader.batch.grading_process, grader.grading")
    assert _unused(modules, CLASS_RUN + ("grader.cli", "grader.lms", "rich", "jinja2", "nbformat")) == []


# What the command line imports only to grade (Hypothesis, the checks, the renderers of the output files).
GRADING_STACK = ("grader.grading", "grader.checks.core", "hypothesis", "grader.outputs", "jinja2", "nbformat")


def test_the_command_line_imports_the_grading_only_once_the_sandboxs_probes_run(tmp_path):
    """Its other commands (--help, secret, kit) do not import the grading; a grading imports it after
    starting the probes its first sandbox waits for (the first ProbesAhead is the command line's)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rnn.py").write_text("def forward(:\n")
    work = (f"import grader.sandbox.isolation as isolation\n"
            f"class Recording(isolation.ProbesAhead):\n"
            f"    def __init__(self, *args):\n"
            f"        print('probes, imported:', [m for m in {GRADING_STACK!r} if m in sys.modules])\n"
            f"        super().__init__(*args)\n"
            f"isolation.ProbesAhead = Recording\n"
            f"import grader.cli\n"
            f"print('cli, imported:', [m for m in {GRADING_STACK!r} if m in sys.modules])\n"
            f"assert grader.cli.main([{str(tmp_path / 'sub')!r}, '--out', {str(tmp_path / 'out')!r}]) == 0\n")
    printed = subprocess.run([sys.executable, "-c", LISTING.format(work=work)], capture_output=True, text=True,
                             cwd=ROOT)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == "cli, imported: []"
    assert [line for line in lines if line.startswith("probes")][0] == "probes, imported: []"
    assert "grader.grading" in lines and "hypothesis" in lines  # it did grade
