"""Each grading of a class run may use the machine's cores over the gradings at once: with as many gradings as
cores, a grading's diagnostics run after its checks instead of beside them (grader.diagnostics.beside)."""

import pytest
from shipped_course import shipped

import grader.batch.local
from grader.batch.run import grade_class
from grader.batch.store import previous_result
from grader.batch.workflow import ClassWorkflow

from .conftest import make_folder
from .fakes import cores_grade

ASSIGNMENT = shipped()


@pytest.mark.parametrize(("machine", "jobs", "each"), [(4, 1, 4), (4, 2, 2), (2, 2, 1)])
def test_each_grading_gets_the_cores_over_the_gradings_at_once(tmp_path, monkeypatch, machine, jobs, each):
    monkeypatch.setattr(grader.batch.local, "usable_cores", lambda: machine)
    class_dir, out = tmp_path / "class", tmp_path / "out"
    names = [f"student{i}" for i in range(jobs)]
    for name in names:
        make_folder(class_dir, name)
    grade_class(class_dir, out, ASSIGNMENT, jobs=jobs, grade=cores_grade, progress=False,
                workflow=ClassWorkflow(similarity=False))
    assert {previous_result(out, name).checks[0].feedback for name in names} == {f"cores={each}"}
