"""A process the grading leaves behind, however it detached, is adopted and dead once the block ends."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.leftovers import children, no_leftovers, subreaper_available

pytestmark = pytest.mark.skipif(not subreaper_available(), reason="Linux only: PR_SET_CHILD_SUBREAPER")

# A daemon as a hostile submission makes one: fork, a session of its own, fork again, and exec with an empty
# environment (no sandbox marker to find it by); its parents exit at once, so it is nobody's child.
DAEMONISE = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve(sys.executable, [sys.executable, "-c",
                  "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)", sys.argv[1]], {})
    os._exit(0)
os.wait()
"""


def parent_of(pid: int) -> int:
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return int(data[data.rfind(b")") + 2:].split()[1])


def wait_for_text(path, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.01)
    raise AssertionError(f"{path} was never written")


def test_a_double_forked_daemon_with_a_cleared_environment_is_adopted_and_dead_when_the_block_ends(tmp_path):
    pid_file = tmp_path / "daemon.pid"
    with no_leftovers():
        subprocess.run([sys.executable, "-c", DAEMONISE, str(pid_file)], check=True)
        daemon = int(wait_for_text(pid_file))
        assert parent_of(daemon) == os.getpid()  # adopted, not init's
    assert not os.path.exists(f"/proc/{daemon}")  # killed and reaped, not a zombie
    assert daemon not in children()


def test_children_the_process_had_before_the_block_are_left_alone():
    before = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        with no_leftovers():
            pass
        assert before.poll() is None
    finally:
        before.kill()
        before.wait()


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bwrap")
def test_a_pid_namespace_whose_bwrap_was_killed_is_gone_whole_when_the_block_ends():
    tag = f"600.{os.getpid()}"  # sleep's argument: names the namespace's daemon among all processes
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    command = ["bwrap", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
               *user, "--unshare-pid", "--die-with-parent", "sh", "-c",
               f"setsid sleep {tag} & sleep {tag}"]
    with no_leftovers():
        bwrap = subprocess.Popen(command)
        deadline = time.monotonic() + 60
        while len(tagged(tag)) < 2 and time.monotonic() < deadline:  # both have exec'd sleep
            time.sleep(0.01)
        assert len(tagged(tag)) == 2  # the shell's sleep, and the one in a session of its own
        bwrap.kill()  # as a sandbox's kill does: the namespace's first process is left to die on its own
        bwrap.wait()
    assert tagged(tag) == []


def tagged(tag: str) -> list[int]:
    """The processes running `sleep TAG`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", tag.encode()]:
                found.append(int(pid))
        except OSError:
            continue
    return found
