"""The student kit: the public checks and recorded expected values, no reference, the same public scores."""

import ast
import functools
import inspect
import json
import re
import shutil
import stat
import subprocess
from pathlib import Path

import hypothesis
import pytest
import yaml
from venvs import venv_with

from grader import oracle
from grader.assignment import load_assignment
from grader.kit import Kit, KitError, build_kit
from grader.results import PUBLIC

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
ASSIGNMENT = load_assignment()
SPEC = ASSIGNMENT.grading
HIDDEN = {name for name, entry in SPEC.checks.items() if entry.visibility != PUBLIC}
PUBLIC_NAMES = set(SPEC.checks) - HIDDEN
# Correct code, and bugs that lose visible and hidden points alike.
COMPARED = ["alice", "bug_no_bptt", "bug_eps_outside", "bug_argmax_sampling", "bug_hprev_not_carried"]


@pytest.fixture(scope="session")
def kit(made_once):
    """One kit for the session, built by the first xdist worker that asks."""
    built = made_once("student-kit", lambda folder: {**vars(build_kit(folder / "kit", ASSIGNMENT)), "path": str(folder / "kit")})
    return Kit(**{**built, "path": Path(built["path"])})


def statements(path: Path) -> set[str]:
    """Every statement of every function body in a file, normalised by ast.unparse, docstrings left out."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            found |= {ast.unparse(stmt) for stmt in body}
    return found


@pytest.mark.slow
def test_the_kit_holds_no_statement_of_the_reference_or_its_mistake_variants(kit):
    kit_code = {s for path in kit.path.rglob("*.py") for s in statements(path)}
    for secret in (ROOT / "reference" / "rnn.py", ROOT / "grader" / "checks" / "variants.py"):
        # short statements (return h, e = 0) say nothing about the solution
        leaked = {s for s in statements(secret) if len(s) > 30} & kit_code
        assert not leaked, f"{secret.name}: {sorted(leaked)}"
    assert not (kit.path / "reference").exists()
    assert not list(kit.path.rglob("variants.py"))


@pytest.mark.slow
def test_no_file_of_the_kit_names_a_hidden_check(kit):
    assert HIDDEN
    for path in kit.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [name for name in HIDDEN if name.encode() in data], path


@pytest.mark.slow
def test_the_kit_records_expected_values_for_public_checks_and_diagnostics_only(kit):
    fixtures = oracle.load_fixtures(kit.path / "specs" / oracle.FIXTURES)
    scopes = {key.split("|")[0].split("#")[0] for key in fixtures}
    assert scopes - {"diagnostics: gradient table", "diagnostics: training run"} <= PUBLIC_NAMES
    assert {"forward: loss matches reference", "diagnostics: training run"} <= scopes


@pytest.mark.slow
def test_the_kit_spec_has_the_public_checks_and_counts_the_hidden_ones(kit):
    spec = yaml.safe_load((kit.path / "specs" / "grading.yaml").read_text())
    assert set(spec["checks"]) == PUBLIC_NAMES
    assert spec["self_check"] == {"hidden_checks": len(HIDDEN), "hypothesis": hypothesis.__version__}
    assert f'"hypothesis=={hypothesis.__version__}"' in (kit.path / "pyproject.toml").read_text()
    assert spec["total"] == sum(SPEC.checks[name].points for name in PUBLIC_NAMES) == kit.public_points


def test_building_into_a_folder_that_is_not_empty_is_refused_and_writes_nothing(tmp_path):
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "notes.txt").write_text("mine")
    with pytest.raises(KitError, match="not an empty folder; nothing was written"):
        build_kit(tmp_path / "kit", ASSIGNMENT)
    assert [p.name for p in (tmp_path / "kit").iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kit"]


@pytest.fixture(scope="session")
def kit_python(kit, made_once):
    """A fresh virtual environment with the kit installed (tests/kit/venvs.py), made once for the session."""

    def make(folder: Path) -> str:
        # From a copy: pip builds in the folder it installs (build/, *.egg-info), and the kit is read by other tests.
        return str(venv_with(shutil.copytree(kit.path, folder / "kit"), folder / "kit-env"))

    return Path(made_once("kit-env", make))


def said(result) -> dict[str, list]:
    """What a grading says of each check, as plain data: the kit's (in its venv) and the full grader's alike."""
    return {c.name: [c.score, c.max_score, c.cause, c.hint, c.carried_from, c.reason] for c in result.checks}


KIT_SAYS = inspect.getsource(said) + """
import json, sys
sys.modules["reference"] = None  # the kit must grade with no reference anywhere in reach
import grader
from pathlib import Path
from grader.assignment import load_assignment
from grader.grading import grade_submission
assignment = load_assignment()
print(json.dumps({"grader": grader.__file__, "said": {
    Path(p).name: said(grade_submission(Path(p), assignment, diagnostics=False)) for p in sys.argv[1:]}}))
"""
# Every example submission with a bug (tests/checks/test_grading.py lists them all, with their causes).
BUGGY = sorted(p.name for p in SUBMISSIONS.iterdir() if p.is_dir() and p.name.startswith("bug_"))
# The examples the kit grades in its venv, in parts that xdist workers grade side by side, each once for every test
# comparing the kit with the full grader.
PARTS = 8
EXAMPLES = ["alice", *BUGGY]


def part_of(name: str) -> int:
    return EXAMPLES.index(name) % PARTS


@pytest.fixture(scope="session")
def graded_both(kit_python, made_once, graded_example):
    """graded_both(names): {name: [what the kit says, what the full grader says]} of each check the kit has:
    the kit's grading in its venv, made once for each part of the examples, and the public checks of the full
    grader's grading of the example, the one tests/checks reads (hidden checks leave the public ones as they
    are: they run after them, in a sandbox of their own)."""

    def kit_grades(part: int, folder: Path) -> dict:
        names = [name for name in EXAMPLES if part_of(name) == part]
        done = subprocess.run([str(kit_python), "-c", KIT_SAYS, *(str(SUBMISSIONS / n) for n in names)],
                              capture_output=True, text=True, cwd=folder)
        assert done.returncode == 0, done.stderr
        kit_said = json.loads(done.stdout)
        assert kit_said["grader"].startswith(str(kit_python.parents[1]))  # the kit's grader, not this checkout's
        return kit_said["said"]

    def both(names) -> dict[str, list]:
        kit_said = {}
        for part in sorted({part_of(name) for name in names}):
            kit_said.update(made_once(f"kit-graded-{part}", functools.partial(kit_grades, part)))
        full_said = {name: said(graded_example(name)) for name in names}
        return {name: [kit_said[name], {check: full_said[name][check] for check in PUBLIC_NAMES}] for name in names}

    return both


@pytest.mark.slow
def test_the_installed_kit_gives_the_full_graders_public_score_on_every_example(graded_both):
    scores = {name: [{check: said[0] for check, said in side.items()} for side in both]
              for name, both in graded_both(COMPARED).items()}
    for name, (kit_scores, full_scores) in scores.items():
        assert kit_scores == full_scores, name
    assert sum(scores["alice"][0].values()) == sum(SPEC.checks[n].points for n in PUBLIC_NAMES)
    assert sum(scores["bug_no_bptt"][0].values()) < sum(scores["alice"][0].values())


# Bugs whose cause the grader finds from the submission's own behaviour (a trace of train's calls,
# init_params' draws under two sigmas, the rng), with the
# words both graders' hints must contain; the kit, which holds no reference, names them as the grader does.
NAMED_WITHOUT_REFERENCE = {"bug_hprev_reset_early": "reset before the wrap", "bug_wrap_early": "one window early",
                           "bug_smooth_start_zero": "smooth loss starts at 0", "bug_early_stop": "stopped early",
                           "bug_init_sigma_hardcoded": "ignores its sigma argument", "bug_global_rng": "np.random"}


def hints(checks: dict[str, list]) -> dict[str, str]:
    """The reason and hint of each check that lost points."""
    return {check: f"{reason} {hint}" for check, (score, max_score, _, hint, _, reason) in checks.items() if score < max_score}


@pytest.mark.slow
def test_the_kit_names_the_causes_the_grader_finds_from_the_submissions_own_behaviour(graded_both):
    for name, (kit_said, full_said) in graded_both(NAMED_WITHOUT_REFERENCE).items():
        words, kit_hints, full_hints = NAMED_WITHOUT_REFERENCE[name], hints(kit_said), hints(full_said)
        assert set(kit_hints) == set(full_hints), name
        assert any(words in hint for hint in full_hints.values()), name
        assert any(words in hint for hint in kit_hints.values()), name


# Where the kit cannot find what the grader finds, and why: each needs the reference's code at grading time.
KIT_CANNOT = {
    # forward keeps H in float32; compute_gradients is the contract's backward pass of that H. The grader carries
    # its gradients' difference to forward by running the backward pass on the student's own P and H; the kit
    # holds the backward pass of the reference's P and H only, and the student's float32 H moves dU by 1.1e-4
    # relative from it at the kit's smallest failing case, past float32's tolerance (1e-4). The kit names the
    # float32 in forward as the grader does, and also fails one part of "gradients match reference"; for the
    # same reason a passing check may blame another function than the grader's (or none).
    "bug_float32_hidden": "compute_gradients: gradients match reference",
}
# float32 rounding crosses the strict threshold of a check that passes on some draws and not on others: the grader
# under another secret differs from itself there (bug_float32's "compute_gradients: float64 arithmetic" passes
# as forward's fault under one, cleanly under the kit's salt), and the kit, which compares the student's
# functions with the reference on the loop's first update only, may blame all three where the grader names
# compute_gradients. For these the function a passing check blames is not compared; their failures are.
BLAME_DRAWN = {"bug_float32", "bug_float32_backward", "bug_float32_hidden"}


def _named(score: float, max_score: float, cause: str, hint: str, carried_from: str, *_) -> tuple:
    """What a check that failed, or passed only because of another function, says is wrong: its score, the
    function it blames and the mistake its hint names, or, for a hint that names none, its words without the
    numbers (the kit's cases are not the grader's: other sizes, other values)."""
    return score, carried_from, cause or re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", hint)


def wrong_or_carried(checks: dict[str, list]) -> dict[str, list]:
    """The checks that lost points or passed only because of another function (error carried forward)."""
    return {check: said for check, said in checks.items() if said[0] < said[1] or said[4]}


def cause_differences(name: str, kit_said: dict, full_said: dict) -> dict[str, tuple]:
    """Where the kit and the grader name another cause for example `name`: {check: (grader's, kit's)}."""
    failing = {check for check, said in full_said.items() if said[0] < said[1]}
    grader_says = {check: _named(*said) for check, said in wrong_or_carried(full_said).items()
                   if name not in BLAME_DRAWN or check in failing}
    kit_says = {check: _named(*said) for check, said in wrong_or_carried(kit_said).items()
                if name not in BLAME_DRAWN or said[0] < said[1]}
    return {check: (grader_says.get(check), kit_says.get(check))
            for check in set(grader_says) | set(kit_says) if grader_says.get(check) != kit_says.get(check)}


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS), ids=lambda part: f"part{part + 1}of{PARTS}")
def test_the_kit_names_the_same_cause_as_the_grader_for_each_example_submission(graded_both, part):
    """Known mistakes the grader names by trying the reference's variants (no BPTT, softmax over the wrong axis,
    x0 with the samples, train's departures such as the loss taken after the update) are named by the kit from
    their outputs on its own cases, recorded when it was built (grader.oracle); so are forward's known
    mistakes carried into compute_gradients, and the function a train check that passes only because of
    another one names (from the first update of the contract's loop). One part of the examples: the parts are
    graded side by side; the test below reads them all."""
    graded = graded_both([name for name in BUGGY if part_of(name) == part])
    differ = {name: found for name, (kit_said, full_said) in graded.items() if (found := cause_differences(name, kit_said, full_said))}
    assert set(differ) == set(KIT_CANNOT) & set(graded), differ
    for name in set(KIT_CANNOT) & set(graded):  # the grader's causes are named all the same, beside one more failure
        kit_said, full_said = graded[name]
        failing = {check for check, said in full_said.items() if said[0] < said[1]}
        kit_fails = {check for check, said in kit_said.items() if check not in failing and said[0] < said[1]}
        assert kit_fails == {KIT_CANNOT[name]}, differ[name]
        assert not failing & set(differ[name]), differ[name]
    assert not any("student kit cannot" in said[3] for kit_said, _ in graded.values()
                   for said in wrong_or_carried(kit_said).values())


@pytest.mark.slow
def test_the_kit_names_the_same_cause_as_the_grader_for_every_example_submission(graded_both):
    """Over all the examples (graded by the parts above, or here by whichever part is not yet): the kit differs
    from the grader on the examples KIT_CANNOT lists only, and most bugs lose public points, so the comparison
    says something."""
    graded = graded_both(BUGGY)
    differ = {name for name, (kit_said, full_said) in graded.items() if cause_differences(name, kit_said, full_said)}
    assert differ == set(KIT_CANNOT)
    # some bugs lose hidden points only (bug_clip_in_gradients, bug_eps_outside)
    public = [name for name, (_, full_said) in graded.items() if any(said[0] < said[1] for said in full_said.values())]
    assert len(public) > len(BUGGY) / 2


@pytest.mark.slow
def test_a_student_runs_the_same_command_and_gets_a_report_marked_as_self_check(kit_python, tmp_path):
    command = [str(kit_python), "-m", "grader", str(SUBMISSIONS / "bug_no_bptt"), "--out", "out"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-check: public checks only; 4 hidden checks not run" in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["extra_data"]["self_check"] is True
    report = (tmp_path / "out" / "report.html").read_text()
    assert "self-check" in report and "Training run" in report
    failing = subprocess.run([*command[:-2], "--out", "again", "--fail-under", "100"], capture_output=True,
                             cwd=tmp_path)
    assert failing.returncode == 1
    building = subprocess.run([str(kit_python), "-m", "grader", "kit", "--out", "kit2"], capture_output=True,
                              text=True, cwd=tmp_path)
    assert building.returncode == 2 and "kits are built with the full grader" in building.stderr


@pytest.mark.slow
@pytest.mark.first  # builds the kit and its venv, which most of the module's tests read
def test_the_kit_refuses_to_grade_under_another_hypothesis_version(kit, kit_python, tmp_path):
    """Another version draws other cases, for which the kit has no recorded values: say so, grade nothing."""
    shutil.copytree(kit.path / "specs", tmp_path / "specs")
    grading = tmp_path / "specs" / "grading.yaml"
    spec = yaml.safe_load(grading.read_text())
    spec["self_check"]["hypothesis"] = "6.0.0"
    grading.write_text(yaml.safe_dump(spec))
    done = subprocess.run([str(kit_python), "-m", "grader", str(SUBMISSIONS / "alice"), "--spec", "specs",
                           "--out", "out"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert "built with Hypothesis 6.0.0" in done.stderr and "pip install hypothesis==6.0.0" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_built_kit_is_readable_by_everyone(kit):
    for path in [kit.path, *kit.path.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path
