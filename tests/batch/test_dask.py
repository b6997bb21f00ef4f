"""Grading on a Dask cluster gives the same grades as grading locally."""

import shutil

import pytest
from shipped_course import shipped

from grader.batch.cluster import INSTALL_HINT
from grader.batch.errors import BatchError
from grader.batch.run import grade_class

from .test_real_class import LIMITS, SUBMISSIONS

ASSIGNMENT = shipped()


@pytest.fixture
def distributed():
    """Dask's distributed, imported by the test that uses it (about 0.25 s of CPU), not by every xdist worker
    that collects this module."""
    return pytest.importorskip("distributed", reason='Dask is an optional extra: pip install ".[dask]"')


@pytest.mark.slow
@pytest.mark.first  # a class graded on a dask cluster
def test_a_local_dask_cluster_grades_like_the_local_run(tmp_path, distributed):
    folder = tmp_path / "class"
    shutil.copytree(SUBMISSIONS / "alice", folder / "alice")
    shutil.copytree(SUBMISSIONS / "bug_no_bptt", folder / "bug_no_bptt")
    (folder / "syntax").mkdir()
    (folder / "syntax" / "rnn.py").write_text("def (:\n")
    local = grade_class(folder, tmp_path / "local", ASSIGNMENT, jobs=2, limits=LIMITS, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = grade_class(folder, tmp_path / "dask", ASSIGNMENT, dask_address=cluster.scheduler_address, limits=LIMITS,
                             progress=False)
    assert [(s.name, s.score, s.check_scores, s.problem) for s in remote.submissions] == [
        (s.name, s.score, s.check_scores, s.problem) for s in local.submissions
    ]
    assert (tmp_path / "dask" / "alice" / "report.html").is_file()


@pytest.mark.usefixtures("distributed")
def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("grader.batch.cluster.CONNECT_TIMEOUT", "2s")
    folder = tmp_path / "class"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "rnn.py").write_text("")
    with pytest.raises(BatchError, match="cannot connect to the Dask scheduler at tcp://127.0.0.1:9"):
        grade_class(folder, tmp_path / "out", ASSIGNMENT, dask_address="tcp://127.0.0.1:9", progress=False)
    assert "pip install" in INSTALL_HINT
