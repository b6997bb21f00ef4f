"""Claimed scratch folders: a folder whose owner was killed is swept with what its sandbox left running; one
whose owner lives, or one without a claim, is never touched."""

import errno
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox.claims import SUFFIX, Claim, claimed_folder, claimed_scratch, remove_tree
from grader.sandbox.processes import process_stat
from grader.sandbox.sweep import sweep

MAKE_AND_HOLD = """
import sys, time
from pathlib import Path

import pytest
from grader.sandbox.claims import claimed_folder
claim = claimed_folder("sandbox-", Path(sys.argv[1]))
claim.note(marker=sys.argv[2])
(claim.path / "scratch.txt").write_text("left behind")
print(claim.path, flush=True)
time.sleep(600)
"""


def _killed_owner(base: Path, marker: str) -> Path:
    """A claimed folder whose owner was SIGKILLed, as a grader killed mid-task leaves it."""
    owner = subprocess.Popen([sys.executable, "-c", MAKE_AND_HOLD, str(base), marker], stdout=subprocess.PIPE,
                             cwd=Path(__file__).resolve().parents[2])
    folder = Path(owner.stdout.readline().decode().strip())
    owner.kill()
    owner.wait()
    owner.stdout.close()
    return folder


def _alive(pid: int) -> bool:
    return (process_stat(pid) or ("X",))[0] not in ("Z", "X")


def test_a_killed_owners_folder_is_swept_with_the_processes_its_sandbox_left(tmp_path):
    marker = "RNN_GRADER_SANDBOX_ID=test-claims-leftover"
    left_running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                                    env={**os.environ, marker.partition("=")[0]: marker.partition("=")[2]},
                                    start_new_session=True)
    try:
        dead = _killed_owner(tmp_path, marker)
        live = claimed_folder("sandbox-", tmp_path)
        unclaimed = tmp_path / "rnn-grader-sandbox-unclaimed"
        unclaimed.mkdir()
        assert dead.is_dir() and (dead.parent / (dead.name + SUFFIX)).is_file()

        assert sweep([tmp_path]) == [dead]
        assert not dead.exists() and not (dead.parent / (dead.name + SUFFIX)).exists()
        left_running.wait(timeout=10)  # killed by the sweep: it carried the dead sandbox's marker
        assert left_running.returncode == -signal.SIGKILL
        assert live.path.is_dir() and unclaimed.is_dir()  # its owner lives; not ours to judge
        live.release()
    finally:
        if _alive(left_running.pid):
            left_running.kill()
        left_running.wait()


def test_a_claim_is_taken_before_its_file_has_its_name_and_gives_it_up_on_release(tmp_path):
    claim = Claim(tmp_path / "rnn-grader-x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rnn-grader-x.claim"]
    assert sweep([tmp_path]) == []  # held
    claim.release()
    assert list(tmp_path.iterdir()) == []


def test_a_scratch_block_leaves_nothing(tmp_path):
    with claimed_scratch("class-", tmp_path) as scratch:
        (scratch / "unpacked").mkdir()
        (scratch / "unpacked" / "rnn.py").write_text("")
        os.chmod(scratch / "unpacked", 0o500)  # as a submission may leave its folder
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_go_leaves_the_folder_above_it_as_it_was(tmp_path, monkeypatch):
    """A dead sandbox whose space is still mounted on its root cannot be removed; the sweep tries again later.
    Making way must not touch what holds it (the host's /tmp, which it once made 0700 for every user)."""
    base = tmp_path / "tmp"
    base.mkdir()
    os.chmod(base, 0o1777)
    root = base / "rnn-grader-sandbox-x"
    (root / "submission").mkdir(parents=True)
    os.chmod(root / "submission", 0o500)  # what a submission may do inside: still undone
    rmdir = os.rmdir

    def busy_root(path, *args, **kwargs):
        if os.path.abspath(path) == str(root):
            raise OSError(errno.EBUSY, "Device or resource busy", str(path))
        return rmdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", busy_root)
    with pytest.raises(OSError, match="busy"):
        remove_tree(root)
    assert stat.S_IMODE(os.stat(base).st_mode) == 0o1777
    assert list(root.iterdir()) == []  # its contents went


HOLD_A_SPACE = """
import sys, time
from pathlib import Path
from grader.sandbox.claims import claimed_folder
from grader.sandbox.space import Space
claim = claimed_folder("sandbox-", Path(sys.argv[1]))
Space(claim.path, 1 << 20, 0o700)
print(claim.path, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root mounts a size-limited folder")
def test_a_sandbox_whose_owner_dies_while_a_sweep_looks_is_removed_whole_by_that_sweep(tmp_path, monkeypatch):
    """The sweep looks at the spaces, then at the claims: an owner that dies in between left its space mounted
    on a folder the sweep then could not remove (CI: a killed Dask worker's sandbox left behind)."""
    from grader.sandbox import sweep as sweep_module

    owner = subprocess.Popen([sys.executable, "-c", HOLD_A_SPACE, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parents[2])
    folder = Path(owner.stdout.readline().strip())
    first_look = sweep_module.space.sweep

    def owner_dies_after_the_first_look(base):
        first_look(base)
        monkeypatch.setattr(sweep_module.space, "sweep", first_look)
        owner.kill()
        owner.wait()

    monkeypatch.setattr(sweep_module.space, "sweep", owner_dies_after_the_first_look)
    try:
        assert sweep([tmp_path]) == [folder]
        assert not folder.exists() and str(folder) not in open("/proc/self/mountinfo").read()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
