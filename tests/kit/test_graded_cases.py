"""The full grader draws its cases under the course's secret, so the kit's recorded answers do not fit them."""

import shutil
import stat
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.checks.adagrad import Updates
from grader.checks.core import salted
from grader.checks.strategies import ParamSets, Sequence
from grader.grading import grade_submission
from grader.kit.overlap import call_inputs, overlap
from grader.secret import SECRET_ENV, SECRET_FILE, course_secret
from grader.specfile import SpecError, default_spec_dir

ROOT = Path(__file__).resolve().parents[2]
KIT_SHARE_TARGET = 0.05


@pytest.fixture
def spec_dir(tmp_path):
    """A copy of the shipped spec folder, without a course secret yet."""
    copy = tmp_path / "specs"
    shutil.copytree(default_spec_dir(), copy, ignore=shutil.ignore_patterns(SECRET_FILE, "__pycache__"))
    return copy


@pytest.mark.slow
def test_the_full_grader_sends_almost_none_of_the_inputs_the_kit_holds_answers_for(spec_dir):
    """Before per-course case seeds the kit had seen 89 % of them (375 of 423): a lookup table scored 69/100."""
    shared, total = overlap(load_assignment(spec_dir), diagnostics=False)
    assert total > 400
    assert shared / total <= KIT_SHARE_TARGET, f"{shared} of {total}"


@pytest.fixture(autouse=True)
def no_secret_from_the_environment(monkeypatch):
    """These tests are about the secret's file; the suite otherwise fixes one in the environment."""
    monkeypatch.delenv(SECRET_ENV, raising=False)


def test_the_environment_gives_the_secret_instead_of_the_file(spec_dir, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "from a secret store")
    assert load_assignment(spec_dir).case_salt == "from a secret store"
    assert not (spec_dir / SECRET_FILE).exists()


def test_the_course_secret_is_made_once_readable_by_its_owner_only(spec_dir):
    first, again = course_secret(spec_dir), course_secret(spec_dir)
    assert first.made and not again.made and first.value == again.value and len(first.value) >= 32
    assert first.path == again.path == spec_dir / SECRET_FILE  # a course's own spec folder keeps its secret
    assert stat.S_IMODE((spec_dir / SECRET_FILE).stat().st_mode) == 0o600
    assert load_assignment(spec_dir).case_salt == first.value


def test_loading_the_assignment_makes_the_secret_on_first_use(spec_dir):
    assert not (spec_dir / SECRET_FILE).exists()
    assignment = load_assignment(spec_dir)
    assert assignment.course_secret == (spec_dir / SECRET_FILE).read_text().strip()


def test_the_course_secret_is_git_ignored_so_a_checkout_never_publishes_it():
    assert SECRET_FILE in (ROOT / ".gitignore").read_text().split()  # in any spec folder


def test_every_numpy_seed_of_a_case_nested_or_not_depends_on_the_salt():
    case = Updates(ParamSets(K=2, m=1, count=3, scale=0.5, seed=0), eta=0.1, zero_memory=True)
    a, b = salted(case, "course a"), salted(case, "course b")
    assert a.sets.seed != b.sets.seed and salted(case, "course a") == a
    assert (a.sets.K, a.sets.m, a.sets.count, a.eta) == (2, 1, 3, 0.1)
    sequence = Sequence(K=2, m=1, tau=1, scale=0.5, seed=0)
    assert salted(sequence, "course a").seed != salted(sequence, "course b").seed
    assert not (salted(case, "course a").params["U"] == salted(case, "course b").params["U"]).all()


def _digests(folder: Path, salt: str, spec_dir: Path) -> set[str]:
    with call_inputs() as seen:
        grade_submission(folder, load_assignment(spec_dir), diagnostics=False, case_salt=salt)
    return seen


@pytest.mark.slow
def test_one_secret_gives_the_same_cases_every_run_and_another_secret_other_cases(spec_dir, tmp_path):
    shutil.copyfile(ROOT / "reference" / "rnn.py", tmp_path / "rnn.py")
    first, again, other = (_digests(tmp_path, salt, spec_dir) for salt in ("one course", "one course", "another"))
    assert first == again
    assert len(first & other) <= KIT_SHARE_TARGET * len(first)


def test_a_spec_folder_where_the_secret_cannot_be_made_is_one_clear_error(spec_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("grader.secret.os.open", refuse)
    with pytest.raises(SpecError, match="cannot create the course secret .*Permission denied.*--spec"):
        load_assignment(spec_dir)


@pytest.mark.slow  # builds a kit
def test_a_kit_built_for_per_student_cases_holds_neither_the_secret_nor_any_students_salt(per_student_spec, tmp_path):
    from grader.kit import build_kit

    assignment = load_assignment(per_student_spec)
    assert assignment.per_student
    kit = build_kit(tmp_path / "kit", assignment)
    salts = [assignment.for_student(who).case_salt for who in ("alice", "bob", "1001")]
    for path in (p for p in kit.path.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for secret in (assignment.course_secret, *salts):
            assert secret.encode() not in data, path
    assert "cases" not in (kit.path / "specs" / "grading.yaml").read_text()  # the kit draws the kit's cases
