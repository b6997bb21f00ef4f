"""grading.yaml: loaded, validated with messages that name the file, the check and the field; scores."""

import shutil

import pytest
import yaml
from shipped_course import shipped

from grader.assignment import load_assignment
from grader.checks.outcome import WHOLE, Outcome
from grader.checks.suite import suite_for
from grader.intake import NotGradable
from grader.results import totals
from grader.scoring import check_result, graded_or_not, not_graded
from grader.specfile import SpecError, default_spec_dir

ASSIGNMENT = shipped()
CHECKS = suite_for(ASSIGNMENT)

GRADS = "compute_gradients: consistent with own forward"


def test_the_shipped_spec_covers_every_check_with_100_points():
    spec = ASSIGNMENT.grading
    assert set(spec.checks) == {c.name for c in CHECKS}
    assert spec.total == 100 and sum(s.points for s in spec.checks.values()) == 100


def test_every_check_is_named_after_its_function_and_documented():
    for check in CHECKS:
        assert check.name.startswith(f"{check.function}: ")
        assert len(check.doc) > 40, check.name


@pytest.fixture
def spec_dir(tmp_path):
    """A copy of the shipped specs whose grading.yaml a test may rewrite through edit()."""
    shutil.copytree(default_spec_dir(), tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def edit(spec_dir, change):
    raw = yaml.safe_load((spec_dir / "grading.yaml").read_text())
    change(raw)
    (spec_dir / "grading.yaml").write_text(yaml.safe_dump(raw))


@pytest.mark.parametrize("change, message", [
    (lambda raw: (raw["checks"].pop("forward: H matches reference"), raw.update(total=97)),
     "check 'forward: H matches reference': missing: every check of the suite needs an entry"),
    (lambda raw: (raw["checks"].update({"forward: something else": {"points": 1, "examples": 1, "visibility": "visible"}}),
                  raw.update(total=101)),
     "check 'forward: something else': no such check in the suite"),
    (lambda raw: raw["checks"].update({"forward: something else": {"points": 1}}),
     "check 'forward: something else', field 'examples': missing"),
    (lambda raw: raw["checks"]["forward: H matches reference"].update(points="four"),
     "check 'forward: H matches reference', field 'points': must be a positive number, not 'four'"),
    (lambda raw: raw["checks"]["forward: H matches reference"].pop("threshold"),
     "check 'forward: H matches reference', field 'threshold': missing"),
    (lambda raw: raw["checks"]["forward: H matches reference"].update(tolerance=0.1),
     "check 'forward: H matches reference', field 'tolerance': unknown for this check"),
    (lambda raw: raw["checks"]["forward: H matches reference"].update(visibility="secret"),
     "field 'visibility': must be one of visible, hidden, after_due_date, after_published, not 'secret'"),
    (lambda raw: raw["checks"]["forward: H matches reference"].update(examples=0),
     "field 'examples': must be a whole number of at least 1, not 0"),
    (lambda raw: raw["checks"][GRADS]["parts"].update(W=0.4, X=0.4),
     f"check '{GRADS}', field 'parts': must give points to exactly the parts b, c, U, W, V"),
    (lambda raw: raw["checks"][GRADS]["parts"].update(W=2),
     f"check '{GRADS}', field 'parts': add up to 5.2, not the check's 4 points"),
    (lambda raw: raw.update(total=90), "field 'total': is 90 but the checks' points add up to 100"),
    (lambda raw: raw["limits"].update(call_seconds=-1), "field 'limits.call_seconds': must be a positive number"),
    (lambda raw: raw["limits"].update(cpu_seconds=1.5), "field 'limits.cpu_seconds': must be a whole number"),
    (lambda raw: raw["limits"].update(wall_clock=3), "field 'limits': unknown field(s) wall_clock"),
])
def test_a_malformed_spec_names_file_check_and_field(spec_dir, change, message):
    edit(spec_dir, change)
    with pytest.raises(SpecError) as raised:
        load_assignment(spec_dir)
    assert str(raised.value).startswith(str(spec_dir / "grading.yaml"))
    assert message in str(raised.value)


def test_the_checks_limits_come_from_grading_yaml_and_the_command_line_overrides_them(spec_dir):
    from grader.cli import _limits, build_parser

    edit(spec_dir, lambda raw: raw["limits"].update(call_seconds=3, memory_bytes=2**30, task_seconds=600))
    assignment = load_assignment(spec_dir)
    limits = assignment.grading.limits
    assert (limits.call_seconds, limits.total_seconds, limits.memory_bytes) == (3, 120, 2**30)
    assert limits.task_wall_seconds() == 600  # a class run's limit per submission
    args = build_parser().parse_args(["x", "--total-seconds", "30"])
    assert (_limits(args, assignment).call_seconds, _limits(args, assignment).total_seconds) == (3, 30)
    edit(spec_dir, lambda raw: raw.pop("limits"))
    assert load_assignment(spec_dir).grading.limits == type(limits)()


def test_invalid_yaml_is_a_spec_error(spec_dir):
    (spec_dir / "grading.yaml").write_text("checks: [unclosed")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_assignment(spec_dir)


def _result(name, failed):
    return check_result(ASSIGNMENT.grading.checks[name], Outcome(frozenset(failed), "why", "feedback"))


def test_scores_all_partial_or_nothing():
    assert _result(GRADS, ()).score == 4
    partial = _result(GRADS, ("b", "W"))
    assert partial.score == pytest.approx(2.4) and "Partial credit: 2.4 of 4 points" in partial.feedback
    assert _result(GRADS, (WHOLE,)).score == 0
    assert _result("forward: H matches reference", (WHOLE,)).score == 0
    assert totals((partial, _result("forward: H matches reference", ()))) == (pytest.approx(5.4), 7)


def test_graded_or_not_is_the_grading_or_for_nothing_to_grade_a_not_graded_result():
    graded = not_graded("alice", "a stand-in for a whole grading", ASSIGNMENT)
    assert graded_or_not("alice", lambda: graded, ASSIGNMENT) is graded

    def nothing():
        raise NotGradable("no rnn.py, notebook or .py file defining the functions")

    refused = graded_or_not("bob", nothing, ASSIGNMENT)
    assert refused == not_graded("bob", "no rnn.py, notebook or .py file defining the functions", ASSIGNMENT)
    assert refused.score == 0 and "no rnn.py, notebook" in refused.load_failure.message


def test_graded_or_not_leaves_the_graders_own_failure_to_its_caller():
    def broken():
        raise RuntimeError("a bug of the grader's")

    with pytest.raises(RuntimeError, match="a bug of the grader's"):
        graded_or_not("alice", broken, ASSIGNMENT)
