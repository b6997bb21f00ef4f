"""Limits for a sandbox as a whole: memory, processes and CPU of every process it starts, together; and the
CPU time they used, together.

rlimits are per process (five children of 1.2 GB each pass a 2 GiB RLIMIT_AS), and a child that calls
setsid() leaves the session's scheduling group. A control group holds the worker and everything it
starts, setsid or not; the worker enters it itself before any student code runs (worker.join_groups),
so nothing is ever outside it.

cgroup v2 (one unified hierarchy) is used where the grader may create groups in it; otherwise the v1
memory, pids and cpu hierarchies (hybrid systems such as this project's CI machine), with cpuacct where it is
mounted (on its own or beside cpu). Neither works for a
grader that is not root on a system without delegation: the sandbox then runs with the per-process
rlimits only, and `Group.unavailable` says why (the tier's description repeats it).

The group's CPU time (v2 cpu.stat usage_usec, v1 cpuacct.usage) is the kernel's count for every process that
ever ran in it: a child reaped by the kernel (its parent ignores SIGCHLD) or by an init outside the sandbox
takes its CPU time out of every parent's, never out of the group's. grader.sandbox.clock judges calls on it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from .limits import Limits

ROOT = Path("/sys/fs/cgroup")
PARENT = "rnn-grader"
CPU_PERIOD_US = 100_000
V1_CONTROLLERS = ("memory", "pids", "cpu")
V1_ACCOUNTING = "cpuacct"  # optional: a v1 group without it is timed by /proc (grader.sandbox.processes)


@dataclasses.dataclass
class Group:
    """The control group(s) of one sandbox: one folder in v2, one per controller in v1."""

    folders: list[Path]
    version: int
    ooms_seen: int = 0
    cpu_usage: Path | None = None  # the kernel's CPU count: v2 cpu.stat, v1 cpuacct.usage (None: not kept)
    # Kept open and read with pread: it is read after every call, and opening it cost more than reading.
    _usage_fd: int | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def procs_files(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def allow_uid(self, uid: int) -> None:
        """Let a worker that already runs as `uid` enter the group (and no other group: the files of its
        parents stay root's, so it can never leave)."""
        for folder in self.folders:
            os.chown(folder / "cgroup.procs", uid, -1)

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in self.folders:
            try:
                found.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(found)

    def cpu_seconds(self) -> float | None:
        """CPU time every process of the group has used, from the kernel's count; None where the group has no
        CPU accounting (a v1 system without cpuacct) or it cannot be read."""
        if self.cpu_usage is None:
            return None
        try:
            if self._usage_fd is None:
                self._usage_fd = os.open(self.cpu_usage, os.O_RDONLY)
            text = os.pread(self._usage_fd, 4096, 0).decode("ascii")
            if self.version == 2:
                return int(dict(line.split()[:2] for line in text.splitlines())["usage_usec"]) / 1e6
            return int(text) / 1e9
        except (OSError, ValueError, KeyError):
            return None

    def new_out_of_memory(self) -> bool:
        """Whether the group hit its memory limit since the last time this was asked."""
        count = self._memory_events()
        seen, self.ooms_seen = self.ooms_seen, count
        return count > seen

    def _memory_events(self) -> int:
        """The kernel's count of OOM kills in the group (v2 memory.events, v1 memory.oom_control)."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        for folder in self.folders:
            try:
                counts = dict(line.split()[:2] for line in (folder / name).read_text().splitlines() if line.strip())
            except (OSError, ValueError):
                continue
            if "oom_kill" in counts:
                return int(counts["oom_kill"])
        return 0

    def close(self) -> None:
        """Remove the groups once the sandbox's processes are gone (killed by the tier before)."""
        if self._usage_fd is not None:
            os.close(self._usage_fd)
            self._usage_fd = None
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # the last killed process is still being reaped


def create(limits: Limits, name: str) -> tuple[Group | None, str]:
    """A new group for one sandbox with the limits written, or (None, why there is none)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "the grader is not root, so it cannot create control groups"
    errors = []
    for make in (_create_v2, _create_v1):
        try:
            group = make(limits, name)
        except OSError as exc:
            errors.append(f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc))
            continue
        if group is not None:
            return group, ""
    return None, "no writable cgroup hierarchy with memory, pids and cpu" + (f": {'; '.join(errors)}" if errors else "")


def existing(name: str) -> Group | None:
    """The group(s) `create` made under `name`, if they are still there (a sandbox whose grader was killed)."""
    v2 = ROOT / PARENT / name
    if v2.is_dir():
        return Group([v2], 2)
    folders: list[Path] = []
    for controller in (*V1_CONTROLLERS, V1_ACCOUNTING):  # cpuacct mounted on its own has a folder of the group's too
        folder = ROOT / controller / PARENT / name
        if folder.is_dir() and folder.resolve() not in {f.resolve() for f in folders}:
            folders.append(folder)
    return Group(folders, 1) if folders else None


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _create_v2(limits: Limits, name: str) -> Group | None:
    if not (ROOT / "cgroup.controllers").exists():
        return None
    wanted = {"memory", "pids", "cpu"}
    if not wanted <= set((ROOT / "cgroup.controllers").read_text().split()):
        return None
    parent = ROOT / PARENT
    _write(ROOT / "cgroup.subtree_control", " ".join(f"+{c}" for c in sorted(wanted)))
    parent.mkdir(exist_ok=True)
    _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in sorted(wanted)))
    folder = parent / name
    folder.mkdir()
    group = Group([folder], 2, cpu_usage=folder / "cpu.stat")
    try:
        _write(folder / "memory.max", str(limits.memory_bytes))
        _write(folder / "memory.swap.max", "0")
        _write(folder / "pids.max", str(limits.processes))
        _write(folder / "cpu.max", f"{int(limits.cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")
    except OSError:
        group.close()
        raise
    return group


def _create_v1(limits: Limits, name: str) -> Group | None:
    if not all((ROOT / c / "cgroup.procs").exists() for c in V1_CONTROLLERS):
        return None
    hierarchies = list(V1_CONTROLLERS)
    accounting = ROOT / V1_ACCOUNTING
    counted = (accounting / "cgroup.procs").exists()
    beside_cpu = counted and accounting.resolve() == (ROOT / "cpu").resolve()
    if counted and not beside_cpu:
        hierarchies.append(V1_ACCOUNTING)  # mounted on its own; beside cpu, the cpu folder has cpuacct.usage
    folders: list[Path] = []
    group = Group(folders, 1)
    try:
        for controller in hierarchies:
            parent = ROOT / controller / PARENT
            parent.mkdir(exist_ok=True)
            folder = parent / name
            folder.mkdir()
            folders.append(folder)
        memory, pids, cpu = folders[:3]
        _write(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
        if (memory / "memory.memsw.limit_in_bytes").exists():  # memory and swap together: no swapping out
            _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        _write(pids / "pids.max", str(limits.processes))
        _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
        _write(cpu / "cpu.cfs_quota_us", str(int(limits.cpus * CPU_PERIOD_US)))
        if counted:
            group.cpu_usage = folders[-1] / "cpuacct.usage"
    except OSError:
        group.close()
        raise
    return group
