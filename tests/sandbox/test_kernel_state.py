"""Kernel state that outlives a sandbox: what one sandbox stores in it is not there for the next, in every tier
that runs here.

A uid's user keyring, a System V shared-memory segment and a POSIX message queue outlive their processes, and
sandboxes reuse worker uids (as root without a user namespace nothing else separates them), so without the
system-call filter the hidden checks' sandbox could leave its inputs for the next submission's visible report.
The student kit's portable tier has no filter (the code is the student's own, on their own machine): its
result is recorded so that a change is seen.
"""

import pytest

from grader.sandbox import processes

from .conftest import TIERS_HERE
from .test_network import filtered

SECRET = "hidden inputs: X[:, 3] = e_17"


@pytest.fixture
def one_uid(tier, monkeypatch):
    """Every sandbox of the test gets the same worker uid, as sandboxes one after another do on a quiet grader."""
    uid = 200_900 + TIERS_HERE.index(tier)  # one per tier: tiers may run in parallel test processes
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
