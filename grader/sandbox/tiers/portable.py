"""The portable tier, for the student kit on Linux, macOS and Windows.

In the kit the code is the student's own, run on their own machine: this tier protects against hangs,
crashes and floods, not attacks. The worker is a plain subprocess that talks over its standard streams
(no inherited descriptors, no fork, no prctl, no bwrap), is stopped by killing it when a call runs out
of time, and applies resource limits only where the platform has them (the `resource` module).
On Linux the kill sweeps /proc as the plain-process tier does; on macOS the worker has a session of
its own and killing its group takes its children along; on Windows only the worker itself is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from ..packages import site_folders_of
from .base import Tier, Worker, scrubbed_environment

POSIX = os.name == "posix"
LINUX = sys.platform.startswith("linux")  # /proc lets the kill sweep find double-forked daemons too


class Portable(Tier):
    name = "portable"
    strong = False
    on_students_machine = True
    fd_channel = False

    @classmethod
    def unavailable(cls, protected, exposed):
        return None

    def site_path(self) -> list[str]:
        # The student's own machine: the folders holding the allowed packages, the import rule names the set.
        return site_folders_of(self.exposed)

    def worker_config(self) -> dict:
        return {"user": None, "parent_pid": None, "cgroups": [], "syscall_filter": False}

    def start(self, config: dict) -> Worker:
        environment = scrubbed_environment(str(self.layout.scratch), str(self.layout.tmp), self.marker)
        process = subprocess.Popen(
            [*self._python(), json.dumps({**config, "stdio": True})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=str(self.layout.scratch), env=environment, start_new_session=POSIX)
        ends = []
        for stream in (process.stdin, process.stdout, process.stderr):
            assert stream is not None  # all three are pipes
            ends.append(os.dup(stream.fileno()))  # the channel owns its descriptors from here on
            stream.close()
        process.stdin = process.stdout = process.stderr = None
        return Worker(process, ends[0], ends[1], None, ends[2])

    def kill(self, process: subprocess.Popen) -> None:
        if LINUX:
            return super().kill(process)
        if process.poll() is None:
            if POSIX:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            process.kill()
        process.wait()

    def leftovers(self, pid: int) -> list[int]:
        if not LINUX:
            return []  # nothing to look at without /proc; kill() took the worker (and its group on POSIX)
        return super().leftovers(pid)

    def description(self, limits_summary: str) -> str:
        return (f"Ran as a plain process on your own machine (the student kit protects against hangs, crashes and "
                f"floods, not attacks); limits: {limits_summary}.")
