"""The student kit: the public checks and recorded expected values, no reference, the same public scores."""

import ast
import json
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import hypothesis
import pytest
import yaml

from grader import oracle
from grader.assignment import load_assignment
from grader.grading import grade_submission
from grader.kit import KitError, build_kit
from grader.results import PUBLIC

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("student-kit")  # one worker builds the module's fixtures
SUBMISSIONS = ROOT / "submissions"
ASSIGNMENT = load_assignment()
SPEC = ASSIGNMENT.grading
HIDDEN = {name for name, entry in SPEC.checks.items() if entry.visibility != PUBLIC}
PUBLIC_NAMES = set(SPEC.checks) - HIDDEN
# Correct code, and bugs that lose visible and hidden points alike.
COMPARED = ["alice", "bug_no_bptt", "bug_eps_outside", "bug_argmax_sampling", "bug_hprev_not_carried"]


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return build_kit(tmp_path_factory.mktemp("kits") / "kit", ASSIGNMENT)


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


@pytest.fixture(scope="module")
def kit_python(kit, tmp_path_factory):
    """A fresh virtual environment with the kit installed, its dependencies taken from the packages this
    interpreter sees. (Not --system-site-packages: from inside a venv, that would show the base
    interpreter's packages, e.g. another Hypothesis than the one the kit was built with.)"""
    venv = tmp_path_factory.mktemp("venv") / "kit-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    (Path(own) / "test-dependencies.pth").write_text("\n".join(ours) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(kit.path)], check=True,
                   cwd=venv.parent)
    return python


KIT_SCORES = """
import json, sys
sys.modules["reference"] = None  # the kit must grade with no reference anywhere in reach
import grader
from pathlib import Path
from grader.assignment import load_assignment
from grader.grading import grade_submission
assignment = load_assignment()
print(json.dumps({"grader": grader.__file__, "scores": {
    Path(p).name: {c.name: c.score for c in grade_submission(Path(p), assignment, diagnostics=False).checks} for p in sys.argv[1:]
}}))
"""


@pytest.mark.slow
def test_the_installed_kit_gives_the_full_graders_public_score_on_every_example(kit_python, tmp_path):
    done = subprocess.run([str(kit_python), "-c", KIT_SCORES, *(str(SUBMISSIONS / n) for n in COMPARED)],
                          capture_output=True, text=True, cwd=tmp_path, check=True)
    answer = json.loads(done.stdout)
    assert answer["grader"].startswith(str(kit_python.parents[1]))
    for name in COMPARED:
        full = grade_submission(SUBMISSIONS / name, ASSIGNMENT, include_hidden=False, diagnostics=False)
        assert answer["scores"][name] == {c.name: c.score for c in full.checks}, name
    assert sum(answer["scores"]["alice"].values()) == sum(SPEC.checks[n].points for n in PUBLIC_NAMES)
    assert sum(answer["scores"]["bug_no_bptt"].values()) < sum(answer["scores"]["alice"].values())


# Bugs whose cause the grader finds from the submission's own behaviour (a trace of train's calls,
# init_params' draws under two sigmas, the rng), with the
# words both graders' hints must contain; the kit, which holds no reference, names them as the grader does.
NAMED_WITHOUT_REFERENCE = {"bug_hprev_reset_early": "reset before the wrap", "bug_wrap_early": "one window early",
                           "bug_smooth_start_zero": "smooth loss starts at 0", "bug_early_stop": "stopped early",
                           "bug_init_sigma_hardcoded": "ignores its sigma argument", "bug_global_rng": "np.random"}
KIT_HINTS = """
import json, sys
sys.modules["reference"] = None
from pathlib import Path
from grader.assignment import load_assignment
from grader.grading import grade_submission
assignment = load_assignment()
print(json.dumps({Path(p).name: {c.name: f"{c.reason} {c.hint}" for c in grade_submission(
    Path(p), assignment, diagnostics=False).checks if c.score < c.max_score} for p in sys.argv[1:]}))
"""


@pytest.mark.slow
def test_the_kit_names_the_causes_the_grader_finds_from_the_submissions_own_behaviour(kit_python, tmp_path):
    done = subprocess.run([str(kit_python), "-c", KIT_HINTS, *(str(SUBMISSIONS / n) for n in NAMED_WITHOUT_REFERENCE)],
                          capture_output=True, text=True, cwd=tmp_path, check=True)
    kit_hints = json.loads(done.stdout)
    for name, words in NAMED_WITHOUT_REFERENCE.items():
        full = grade_submission(SUBMISSIONS / name, ASSIGNMENT, include_hidden=False, diagnostics=False)
        full_hints = {c.name: f"{c.reason} {c.hint}" for c in full.checks if c.score < c.max_score}
        assert set(kit_hints[name]) == set(full_hints), name
        assert any(words in hint for hint in full_hints.values()), name
        assert any(words in hint for hint in kit_hints[name].values()), name


# Every example submission with a bug (tests/checks/test_grading.py lists them all, with their causes).
BUGGY = sorted(p.name for p in SUBMISSIONS.iterdir() if p.is_dir() and p.name.startswith("bug_"))
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
KIT_CAUSES = """
import json, sys
sys.modules["reference"] = None
from pathlib import Path
from grader.assignment import load_assignment
from grader.grading import grade_submission
assignment = load_assignment()
print(json.dumps({Path(p).name: {c.name: [c.score, c.cause, c.hint, c.carried_from, c.max_score] for c in grade_submission(
    Path(p), assignment, diagnostics=False).checks if c.score < c.max_score or c.carried_from} for p in sys.argv[1:]}))
"""


def _named(score: float, cause: str, hint: str, carried_from: str, *_) -> tuple:
    """What a check that failed, or passed only because of another function, says is wrong: its score, the
    function it blames and the mistake its hint names, or, for a hint that names none, its words without the
    numbers (the kit's cases are not the grader's: other sizes, other values)."""
    return score, carried_from, cause or re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", hint)


@pytest.mark.slow
def test_the_kit_names_the_same_cause_as_the_grader_for_every_example_submission(kit_python, tmp_path):
    """Known mistakes the grader names by trying the reference's variants (no BPTT, softmax over the wrong axis,
    x0 with the samples, train's departures such as the loss taken after the update) are named by the kit from
    their outputs on its own cases, recorded when it was built (grader.oracle); so are forward's known
    mistakes carried into compute_gradients, and the function a train check that passes only because of
    another one names (from the first update of the contract's loop)."""
    done = subprocess.run([str(kit_python), "-c", KIT_CAUSES, *(str(SUBMISSIONS / n) for n in BUGGY)],
                          capture_output=True, text=True, cwd=tmp_path, check=True)
    kit_said = json.loads(done.stdout)
    differ, failing, public = {}, {}, []
    for name in BUGGY:
        full = grade_submission(SUBMISSIONS / name, ASSIGNMENT, include_hidden=False, diagnostics=False)
        grader_says = {c.name: _named(c.score, c.cause, c.hint, c.carried_from) for c in full.checks
                       if c.score < c.max_score or c.carried_from}
        kit_says = {check: _named(*said) for check, said in kit_said[name].items()
                    if name not in BLAME_DRAWN or said[0] < said[4]}
        failing[name] = {c.name for c in full.checks if c.score < c.max_score}
        if name in BLAME_DRAWN:
            grader_says = {check: said for check, said in grader_says.items() if check in failing[name]}
        if failing[name]:  # some bugs lose hidden points only (bug_clip_in_gradients, bug_eps_outside)
            public.append(name)
        if kit_says != grader_says:
            differ[name] = {check: (grader_says.get(check), kit_says.get(check))
                            for check in set(grader_says) | set(kit_says) if grader_says.get(check) != kit_says.get(check)}
    assert set(differ) == set(KIT_CANNOT), differ
    for name, check in KIT_CANNOT.items():  # the grader's causes are named all the same, beside one more failure
        kit_fails = {c for c, said in kit_said[name].items() if c not in failing[name] and said[0] < said[4]}
        assert kit_fails == {check}, differ[name]
        assert not failing[name] & set(differ[name]), differ[name]
    assert len(public) > len(BUGGY) / 2
    assert not any("student kit cannot" in said[2] for found in kit_said.values() for said in found.values())


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
