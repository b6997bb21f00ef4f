"""What every isolation tier provides: start a worker, kill all it started, say what it guarantees."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..limits import Limits
from ..packages import Exposed

if TYPE_CHECKING:  # processes imports fcntl and pwd, which the kit's Windows tier has not
    from ..processes import TreeClock, UidLease

MARKER_ENV = "RNN_GRADER_SANDBOX_ID"
# Not -I: it implies -E, which would make Python ignore PYTHONHASHSEED=0. The whole environment is ours
# anyway (scrubbed_environment), -S drops site-packages and its .pth hooks, -P keeps the script's folder
# off sys.path.
PYTHON_FLAGS = ("-S", "-P", "-u", "-B")


def python_executable() -> str:
    return os.path.realpath(sys.executable)


def scrubbed_environment(home: str, tmp: str, marker: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's is passed on."""
    environment = {
        "PATH": os.pathsep.join(("/usr/local/bin", "/usr/bin", "/bin")),
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # plt.show() does nothing with a backend that draws into memory, and no display is needed.
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(tmp, "matplotlib"),
        MARKER_ENV: marker,
    }
    if sys.platform == "win32":  # Python cannot start on Windows without these
        environment.update({k: os.environ[k] for k in ("SYSTEMROOT", "SYSTEMDRIVE") if k in os.environ})
        environment["PATH"] = os.environ.get("PATH", "")
    return environment


@dataclasses.dataclass(frozen=True)
class Layout:
    """The host folders of one sandbox (all under its private root) and where the worker sees them."""

    root: Path
    worker_dir: Path
    scratch: Path
    tmp: Path
    site: Path


@dataclasses.dataclass(frozen=True)
class Worker:
    """A started worker: the process and the grader's ends of its channel and output pipes.

    `stdout` is None when the worker's output all arrives on `stderr` (the portable tier).
    """

    process: subprocess.Popen
    call: int
    reply: int
    stdout: int | None
    stderr: int


class Tier:
    """One way of isolating the worker. Subclasses live one per module beside this one.

    `strong` tiers keep the grader, the reference, other installed packages, other submissions and the
    host out of the worker's reach; only they run untrusted code unless the instructor accepts a weak one.
    """

    name: ClassVar[str]
    strong: ClassVar[bool] = False
    # Runs untrusted code without strong isolation (--allow-weak-sandbox): every output says so.
    weak: ClassVar[bool] = False
    # The student kit's: the student's own code on their machine, with the limits its platform has (no
    # control group, limits not enforced strictly).
    on_students_machine: ClassVar[bool] = False
    # The worker sees the host's /tmp: its sandbox's folder is made elsewhere (scratch.new_sandbox_root).
    shares_host_tmp: ClassVar[bool] = False
    # The worker runs as another user on the host's own file system: it may read what every user may (a
    # class folder must be closed to others), and the sandbox's folder must let that user through.
    other_user_on_host: ClassVar[bool] = False
    fd_channel: ClassVar[bool] = True  # channel on inherited descriptors; else on standard streams

    def __init__(self, layout: Layout, limits: Limits, exposed: Exposed, marker: str,
                 protected: tuple[str, ...]):
        self.layout = layout
        self.limits = limits
        self.exposed = exposed
        self.marker = marker
        self.protected = protected  # the grader's files: the probe made sure the worker cannot read them
        self.lease: UidLease | None = None  # a uid of the worker's own, in the tiers that switch uid
        self.group = None  # the sandbox's control group (cgroups.Group), set by the Sandbox if there is one
        self._tree_clock: TreeClock | None = None  # the CPU clock without a group's count (processes.TreeClock), made when needed
        self.space_mounted = False  # whether the sandbox's root is a size-limited space (grader.sandbox.space)

    @property
    def uid(self) -> int | None:
        return None if self.lease is None else self.lease.uid

    # --- set-up --------------------------------------------------------------------------

    @classmethod
    def unavailable(cls, protected: tuple[str, ...], exposed: Exposed) -> str | None:
        """Why this tier cannot run here (None if it can). Probed once per grader process."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Give the worker (and nobody else) the scratch folder and its temporary folder, before any worker
        starts and before the submission is copied in (admit)."""

    def admit(self) -> None:
        """Give the worker's user what was copied into the scratch folder after prepare(), perhaps once a
        worker started: it imports nothing from there before the sandbox tells it to load rnn.py."""
        if self.lease is not None:
            for path in self.layout.scratch.rglob("*"):
                os.lchown(path, self.lease.uid, self.lease.gid)

    def inside(self) -> Layout:
        """The layout's folders as the worker sees them."""
        return self.layout

    def site_path(self) -> list[str]:
        """What the worker puts on sys.path for the allowed packages (inside paths)."""
        raise NotImplementedError

    def worker_config(self) -> dict:
        """Tier-specific entries of the worker's configuration."""
        return {"user": None, "parent_pid": os.getpid(), "cgroups": self.group_files()}

    def group_files(self) -> list[str]:
        """The cgroup.procs files the worker writes itself into, as it sees them."""
        return [] if self.group is None else self.group.procs_files

    # --- running -------------------------------------------------------------------------

    def start(self, config: dict) -> Worker:
        raise NotImplementedError

    def kill(self, process: subprocess.Popen) -> None:
        """Kill the worker and everything it started; reap the worker.

        The process group first, then every process of the leased uid until none is left (double-forked
        daemons too), or, without a uid, the worker's descendants and whatever carries its marker.
        """
        from ..processes import kill_uid, kill_until_gone, processes_of_tree

        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.uid is not None:
            kill_uid(self.uid)
        else:
            marker = f"{MARKER_ENV}={self.marker}".encode()
            kill_until_gone(lambda: processes_of_tree(process.pid, marker))
        if self.group is not None:
            kill_until_gone(self.group.pids)  # nothing leaves a control group, daemons included
        process.wait()

    def exit_status(self, process: subprocess.Popen) -> int | None:
        """The worker's status in Popen terms (negative: killed by that signal)."""
        return process.returncode

    def leftovers(self, pid: int) -> list[int]:
        """Live processes this sandbox is responsible for (for tests and assertions).

        While the uid is leased, everything running as it; otherwise the worker's tree and marker.
        """
        from ..processes import live, processes_of_tree, processes_of_uid

        found = set(self.group.pids()) if self.group is not None else set()
        if self.uid is not None:
            found.update(processes_of_uid(self.uid))
        else:
            found.update(processes_of_tree(pid, f"{MARKER_ENV}={self.marker}".encode()))
        return live(sorted(found))

    def cpu_seconds(self, process: subprocess.Popen) -> float | None:
        """CPU time the worker and what it started have used so far; None where it cannot be measured.

        The control group's count where it has one: it keeps the time of every process that ran in it. Else
        the worker's process tree in /proc (grader.sandbox.processes.TreeClock)."""
        counted = None if self.group is None else self.group.cpu_seconds()
        if counted is not None or not sys.platform.startswith("linux"):
            return counted
        if self._tree_clock is None:
            from ..processes import TreeClock

            self._tree_clock = TreeClock()
        return self._tree_clock.seconds(process.pid)

    @property
    def cpu_sampled(self) -> bool:
        """Whether the CPU clock is /proc's, which must look often while a call runs (processes.TreeClock)."""
        return self.group is None or self.group.cpu_seconds() is None

    def description(self, limits_summary: str) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the tier holds once every worker is dead: a leased uid is swept and freed."""
        if self.lease is not None:
            from ..processes import kill_uid

            kill_uid(self.lease.uid)
            self.lease.release()
            self.lease = None

    # --- shared by the tiers that pass the channel as inherited descriptors --------------------

    def _popen_with_fds(self, command: list[str], config: dict, env: dict, **kwargs) -> Worker:
        call_r, call_w = os.pipe()
        reply_r, reply_w = os.pipe()
        for fd in (call_w, reply_w):
            _widen(fd)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        config = {**config, "call_fd": call_r, "reply_fd": reply_w}
        try:
            process = subprocess.Popen(
                [*command, json.dumps(config)], stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w,
                pass_fds=(call_r, reply_w), close_fds=True, start_new_session=True,
                cwd=str(self.layout.scratch), env=env, **kwargs)
        except BaseException:
            for fd in (call_w, reply_r, out_r, err_r):
                os.close(fd)
            raise
        finally:
            for fd in (call_r, reply_w, out_w, err_w):
                os.close(fd)
        return Worker(process, call_w, reply_r, out_r, err_r)

    def _python(self) -> list[str]:
        return [python_executable(), *PYTHON_FLAGS, os.path.join(str(self.inside().worker_dir), "worker.py")]



CHANNEL_PIPE_BYTES = 1 << 20  # an m=100 parameter frame (~200 KB) in one write, not a dozen handshakes


def _widen(fd: int) -> None:
    """Grow a channel pipe's buffer where Linux allows it (the default is 64 KiB)."""
    import fcntl

    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, CHANNEL_PIPE_BYTES)
    except (AttributeError, OSError):
        pass  # not Linux, or above /proc/sys/fs/pipe-max-size: the default buffer works, only slower


PROBE_SECONDS = 20.0
PROBE_EXIT = 3


def probe_script(site: list[str], protected: tuple[str, ...]) -> str:
    """Python code that fails unless numpy imports and neither the grader nor `protected` can be reached (the
    check every worker makes again: grader.sandbox.reach)."""
    reach = (Path(__file__).parents[1] / "reach.py").read_text(encoding="utf-8")
    return (
        f"import sys\nsys.path[:0] = {site!r}\nimport numpy\n{reach}\n"
        f"seen = reachable({list(protected)!r})\n"
        "if seen:\n"
        "    print('the worker could still read ' + ', '.join(seen))\n"
        f"    sys.exit({PROBE_EXIT})\n"
    )


def run_probe(command: list[str], **kwargs) -> str | None:
    """None if `command` succeeds, else a short reason."""
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=PROBE_SECONDS,
                              env=scrubbed_environment("/", "/tmp", "probe"), cwd="/", **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode != 0:
        last = done.stdout.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return f"exit status {done.returncode} ({last[0][:300]})"
    return None
