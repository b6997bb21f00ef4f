"""Kernel state that outlives a sandbox: what one sandbox stores in it is not there for the next, in every tier
that runs here.

A uid's user keyring, a System V shared-memory segment and a POSIX message queue outlive their processes, and
sandboxes reuse worker uids (as root without a user namespace nothing else separates them), so without the
system-call filter the hidden checks' sandbox could leave its inputs for the next submission's visible report.
The student kit's portable tier has no filter (the code is the student's own, on their own machine): its
result is recorded so that a change is seen.
"""

import os
import zlib

import pytest

from grader.sandbox import processes

from .conftest import TIERS_HERE
from .test_network import filtered

SECRET = "hidden inputs: X[:, 3] = e_17"


@pytest.fixture
def one_uid(request, tier, monkeypatch):
    """Every sandbox of the test gets the same worker uid, as sandboxes one after another do on a quiet grader."""
    # One per test and tier: they may run at once in parallel test processes.
    uid = 200_900 + 10 * TIERS_HERE.index(tier) + zlib.crc32(request.node.originalname.encode()) % 10
    monkeypatch.setenv(processes.UIDS_ENV, f"{uid}-{uid}")
    return uid


def test_a_key_stored_by_one_sandbox_cannot_be_read_by_the_next(open_box, tier, one_uid):
    first = open_box("keyring")
    stored = first.call("store", SECRET).value
    first.close()  # its uid is free again: the next sandbox gets it
    later = open_box("keyring")
    try:
        found = later.call("fetch").value
    finally:
        later.call("forget")
    if filtered(tier):
        assert stored == {"user": "Operation not permitted", "session": "Operation not permitted"}
        assert found == "not found: Operation not permitted"
    else:  # the kit: the student's own keyring, on the student's own machine
        assert stored["user"] == "stored" and found == SECRET


def test_ipc_objects_stored_by_one_sandbox_cannot_be_read_by_the_next(open_box, tier, one_uid):
    first = open_box("ipc_objects")
    stored = first.call("store", SECRET).value
    first.close()
    later = open_box("ipc_objects")
    try:
        found = later.call("fetch").value
    finally:
        later.call("forget")
    if filtered(tier):
        assert stored == {"shm": "Operation not permitted", "mqueue": "Operation not permitted"}
        assert found == {"shm": "not found: Operation not permitted", "mqueue": "not found: Operation not permitted"}
    else:  # the kit: the student's own machine
        assert stored == {"shm": "stored", "mqueue": "stored"} and found == {"shm": SECRET, "mqueue": SECRET}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files to another uid")
def test_what_a_uid_left_where_everyone_may_write_is_removed_before_the_uid_is_used_again(tmp_path):
    """A worker of the unprivileged-user tier may write in /tmp, /var/tmp and /dev/shm, for the next sandbox of its
    uid to read: the lease removes what the uid owns there, and touches nothing else."""
    uid, other = 200_950, 200_951
    shared = tmp_path / "tmp"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o1777)
    open_to_all = shared / "open"  # another user's world-writable folder
    open_to_all.mkdir()
    os.chmod(open_to_all, 0o777)
    outside = tmp_path / "grader-file"
    outside.write_text("kept")
    planted = [shared / "hidden-inputs.txt", open_to_all / "more.txt", shared / "link"]
    planted[0].write_text(SECRET)
    planted[1].write_text(SECRET)
    planted[2].symlink_to(outside)
    (shared / "its-folder").mkdir()
    (shared / "its-folder" / "deep.txt").write_text(SECRET)
    others = shared / "classmate.txt"
    others.write_text("not the uid's")
    for path in [*planted, shared / "its-folder", shared / "its-folder" / "deep.txt"]:
        os.lchown(path, uid, uid)
    os.chown(others, other, other)
    processes.remove_files_of_uid(uid, (str(shared),))
    assert sorted(p.name for p in shared.rglob("*")) == ["classmate.txt", "open"]
    assert outside.read_text() == "kept"
