"""Mistakes as data: every cause the grader can name has an id in grader.mistakes.CAUSES, and every shipped spec
folder explains each one its contract's functions can show; a course's mistakes.yaml is validated at load."""

import re
import shutil
from pathlib import Path

import pytest
import yaml

import grader
from grader.assignment import load_assignment, shipped_specs, spec_folder
from grader.mistakes import CAUSES, Named, cause_of, function_of, joined, named
from grader.specfile import SpecError

CHECKS = Path(grader.__file__).parent / "checks"
# An id as the checks write it: a quoted "<function>.<mistake>" of one of the contract's functions.
ID = re.compile(r'"((?:init_params|forward|compute_gradients|clip_gradients|adagrad_step|adam_step|synthesize|train)'
                r'\.[a-z0-9_]+)"')


def _named_in_source() -> set[str]:
    return {m for path in CHECKS.glob("*.py") for m in ID.findall(path.read_text(encoding="utf-8"))}


def test_the_checks_name_exactly_the_causes_listed():
    named_ids = _named_in_source()
    assert named_ids - set(CAUSES) == set(), "an id a check names is missing from grader.mistakes.CAUSES"
    assert set(CAUSES) - named_ids == set(), "an id in CAUSES that no check names"
    assert len(CAUSES) == len(set(CAUSES))


@pytest.mark.parametrize("spec", shipped_specs())
def test_every_nameable_cause_has_an_explanation_in_each_shipped_spec(spec):
    assignment = load_assignment(spec)
    nameable = [c for c in CAUSES if function_of(c) in assignment.functions]
    assert nameable and all(c in assignment.mistakes for c in nameable)
    for cause in nameable:
        e = assignment.mistakes[cause]
        assert all(len(text) > 3 for text in (e.title, e.contract, e.instead, e.find)), cause


def test_both_shipped_spec_folders_are_checked():
    assert {"default", "mean-adam"} <= set(shipped_specs())


def _spec_copy(tmp_path, edit) -> Path:
    folder = tmp_path / "spec"
    shutil.copytree(spec_folder(None), folder, ignore=shutil.ignore_patterns("variants", "__pycache__", "*.secret*"))
    path = folder / "mistakes.yaml"
    raw = yaml.safe_load(path.read_text())
    edit(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return folder


def test_a_missing_explanation_is_a_spec_error_naming_the_file_and_the_id(tmp_path):
    folder = _spec_copy(tmp_path, lambda raw: raw.pop("compute_gradients.no_bptt"))
    with pytest.raises(SpecError, match=r"mistakes\.yaml: mistake 'compute_gradients\.no_bptt': missing"):
        load_assignment(folder)


def test_an_explanation_of_a_mistake_the_grader_cannot_name_is_refused(tmp_path):
    folder = _spec_copy(tmp_path, lambda raw: raw.update({"forward.no_such_mistake": raw["forward.h0_unused"]}))
    with pytest.raises(SpecError, match=r"mistake 'forward\.no_such_mistake': the grader names no such mistake"):
        load_assignment(folder)


def test_an_explanation_without_a_field_names_the_field(tmp_path):
    folder = _spec_copy(tmp_path, lambda raw: raw["forward.h0_unused"].pop("find"))
    with pytest.raises(SpecError, match=r"mistake 'forward\.h0_unused', field 'find'"):
        load_assignment(folder)


def test_a_course_rewords_an_explanation_without_code_changes(tmp_path):
    folder = _spec_copy(tmp_path, lambda raw: raw["forward.h0_unused"].update(title="h0 forgotten"))
    assert load_assignment(folder).mistakes["forward.h0_unused"].title == "h0 forgotten"


def test_a_named_hint_reads_as_its_text_and_carries_its_id():
    hint = named("compute_gradients.no_bptt", "no BPTT.")
    assert hint == "no BPTT." and isinstance(hint, Named) and cause_of("", hint) == "compute_gradients.no_bptt"
    both = joined(["plain.", hint, hint])
    assert both == "plain. no BPTT." and cause_of(both) == "compute_gradients.no_bptt"
    assert named("forward.h0_unused", "") == "" and cause_of(joined(["a", "b"])) == ""
    with pytest.raises(ValueError):
        named("forward.misspelled", "text")
