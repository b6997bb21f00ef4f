"""Resource limits for one submission and their translation into rlimits."""

from __future__ import annotations

import dataclasses

GRADER_SECONDS = 300.0  # the grader's own work on one submission (drawing cases, the reference), under load


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one submission may use.

    call_seconds: time for one call: it is stopped once it has had this much wall-clock time and this much
        CPU time, or wall_factor times as much wall-clock time (grader.sandbox.clock), so that load from
        other processes cannot time out a correct submission.
    import_seconds: time for importing the submission, judged the same way (matplotlib, pandas and scipy
        together take seconds to import on a loaded machine).
    total_seconds: time for everything the submission does, over all calls of one grading, judged the same way.
    wall_factor: how much longer than a limit a call (and the whole grading) may wait while it is starved of
        CPU; a call that sleeps or blocks is stopped after that long.
    memory_bytes: address space of each process, and memory of the whole sandbox where a control group
        is available (numpy needs a few hundred MiB of address space).
    cpu_seconds: CPU time of one worker process (it is restarted after a crash).
    output_bytes: how much of stdout and of stderr is kept for the report.
    file_bytes: largest file the submission may write; also the size of its private /tmp and /dev/shm
        under bubblewrap.
    disk_bytes: what the submission may write in all, beyond its own files, in its folder and its temporary
        folder together, where the grader can mount a size-limited folder (grader.sandbox.space).
    open_files: file descriptors.
    processes: processes and threads: for the whole sandbox where a control group is available
        (grader.sandbox.cgroups), else per uid when the worker has a uid of its own.
    cpus: CPUs the whole sandbox may use at once (a control group's quota), so that a submission and
        the children it starts (setsid or not) cannot starve a neighbour graded at the same time.
    reply_bytes: largest reply (or call) frame on the grader channel.
    task_seconds: wall-clock time for one submission's whole grading in a class run, the grader's own work
        included: the last line of defence behind the limits above (a grader-side parse that never ends, a
        hung sandbox). A task past it is stopped, and that is the submission's result. None: derived from
        the limits above (task_wall_seconds).
    """

    call_seconds: float = 10.0
    import_seconds: float = 20.0
    total_seconds: float = 120.0
    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 150
    output_bytes: int = 64 * 1024
    file_bytes: int = 16 * 1024**2
    disk_bytes: int = 64 * 1024**2
    open_files: int = 64
    processes: int = 32
    reply_bytes: int = 64 * 1024**2
    cpus: float = 1.0
    wall_factor: float = 4.0
    task_seconds: float | None = None

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "task_seconds":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{field.name} must be a positive number, not {value!r}")
        if self.wall_factor < 1:
            raise ValueError(f"Limits.wall_factor must be at least 1, not {self.wall_factor!r}")

    def task_wall_seconds(self) -> float:
        """task_seconds, or all a grading may take on the clock: the checks' and the diagnostics' budgets
        (total_seconds each) and a few imports, each within wall_factor times as long, and time for the
        grader's own work."""
        if self.task_seconds is not None:
            return self.task_seconds
        return self.wall_factor * (2 * self.total_seconds + 4 * self.import_seconds) + GRADER_SECONDS

    def rlimits(self, own_uid: bool) -> dict[str, int]:
        """The rlimits the worker applies to itself before importing the submission.

        RLIMIT_NPROC counts every process of the real uid, so it is only meaningful
        (and only harmless to the grader) when the worker runs as a uid of its own.
        """
        limits = {
            "RLIMIT_AS": int(self.memory_bytes),
            "RLIMIT_CPU": max(1, int(self.cpu_seconds)),
            "RLIMIT_FSIZE": int(self.file_bytes),
            "RLIMIT_NOFILE": int(self.open_files),
            "RLIMIT_CORE": 0,
        }
        if own_uid:
            limits["RLIMIT_NPROC"] = int(self.processes)
        return limits

    def summary(self, group: str = "") -> str:
        """The limits in words; `group` says how they apply to the sandbox as a whole, if it is known."""
        mib = 1024**2
        return (
            f"{self.call_seconds:g} s per call, {self.import_seconds:g} s for the import, {self.total_seconds:g} s in total "
            f"(CPU time, within {self.wall_factor:g} times as long on the clock), {self.memory_bytes // mib} MiB of memory, "
            f"{self.cpu_seconds} s of CPU, "
            f"files up to {self.file_bytes // mib} MiB, {self.open_files} open files, {self.processes} processes"
            + (f"; {group}" if group else "")
        )
