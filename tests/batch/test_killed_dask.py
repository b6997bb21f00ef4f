"""Killed at any moment on a real local Dask scheduler with two workers (issue 26): the grader killed while both
workers grade leaves nothing running on them; a worker killed mid-task takes its sandbox with it, and the task
is graded by another worker, once, with the same result."""

from __future__ import annotations

import os
import signal

import pytest

from .test_killed import (
    CLASS_FILES,
    _class,
    _Run,
    claimed_by,
    descendants,
    leftovers,
    report,
    rerun_matches,
    still_running,
    uninterrupted,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    # Imported here, by the worker that runs these tests, not by every xdist worker that collects the module
    # (about 0.25 s of CPU each, in the fast tier too).
    distributed = pytest.importorskip("distributed", reason='Dask is an optional extra: pip install ".[dask]"')
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster


def _workers(cluster) -> set[int]:
    import distributed

    with distributed.Client(cluster.scheduler_address) as client:
        return set(client.run(os.getpid).values())


def _below(pids: set[int]) -> set[tuple[int, bytes]]:
    """The processes the workers `pids` started (grading processes, their sandboxes), not the workers."""
    return {p for pid in pids for p in descendants(pid) if p[0] not in pids}


def test_the_grader_killed_while_the_workers_grade_leaves_nothing_running_on_them(tmp_path, cluster):
    _class(tmp_path / "class", tmp_path / "control", sandboxed=True)
    out = tmp_path / "out"
    run = _Run(tmp_path, out, "--dask", cluster.scheduler_address)
    run.wait_for(lambda: len(run.started()) == 2, "both workers grading")
    on_workers = _below(_workers(cluster))
    assert len(on_workers) >= 6  # per worker: a grading process, its sandbox, the submission's daemon
    seen = run.kill()
    run.pids |= {pid for pid, _ in on_workers}
    assert still_running(seen | on_workers) == []  # the scheduler drops the tasks; each worker kills its own
    before = {"processes at the kill": len(seen), "on the workers": len(on_workers), **leftovers(run)}
    report("grader (Dask client) killed while both workers grade", before,
           rerun_matches(tmp_path, run, "--dask", cluster.scheduler_address))


def test_a_worker_killed_mid_task_takes_its_sandbox_with_it_and_another_grades_the_task_once(tmp_path, cluster):
    _class(tmp_path / "class", tmp_path / "control", sandboxed=True)
    out = tmp_path / "out"
    run = _Run(tmp_path, out, "--dask", cluster.scheduler_address)
    run.wait_for(lambda: "a" in run.started(), "a grading")
    grading = int((run.control / "started-a").read_text())
    worker = next(pid for pid in _workers(cluster) if grading in {p for p, _ in descendants(pid)})
    doomed = descendants(worker)  # the worker, its grading process, the sandbox, the submission's daemon
    assert len(doomed) >= 4
    run.pids |= {pid for pid, _ in doomed}
    os.kill(worker, signal.SIGKILL)
    assert still_running(doomed) == []
    (run.control / "release-all").touch()
    run.end()
    assert int((run.control / "started-a").read_text()) != grading  # graded again, by another grading process
    assert claimed_by(run.pids) == []  # swept by the first grading process started after the loss
    reference = uninterrupted(tmp_path)
    for name in CLASS_FILES:
        assert (out / name).read_text() == (reference / name).read_text(), name
    report("one Dask worker killed while a grades", {"processes killed": len(doomed)}, leftovers(run))
