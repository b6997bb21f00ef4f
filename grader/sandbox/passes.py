"""A sandbox probe's pass, kept across grader processes: a grading whose machine passed the probe before
starts its workers at once instead of after a probe's sandbox (bubblewrap's probe is a sandboxed Python
importing numpy: 0.1-0.3 s, on the way to every grading's first worker).

Only a pass is kept, never a failure (a machine that is fixed is seen at once), under a key that holds what
the verdict depends on and a process can read without probing: this boot, the user, privileges and
namespaces the grader runs in and their confinement (/proc/self/status, /proc/self/ns, the security
label), the kernel's user-namespace settings, the grader's version and the code of the sandbox's tiers, and
the probe's own inputs (the executables, with their inode and time, the packages bound, the files
protected). Where /proc cannot tell those (not Linux), nothing is kept.

Why a kept pass cannot weaken a sandbox: every worker checks again, before rnn.py is imported, what the
probe checked of the isolation (grader.sandbox.worker: it cannot reach the grader, the reference or the
protected files), and a worker that does not come up is the sandbox's failure, never the submission's
(grader.sandbox.sandbox): every pass is then forgotten and the worker started again on what the probes
find now.

Where: ``<cache folder>/probes/<key>.json``, private to this user as the reference's answers are
(grader.private); written through grader.atomic.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from grader import __version__
from grader.atomic import write_whole
from grader.private import private_folder, read_private
from grader.settings import default_cache_dir

FOLDER = "probes"
FORMAT = 1
MAX_BYTES = 64 * 1024
_STATUS_FIELDS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                  "Seccomp", "Seccomp_filters")
_NAMESPACES = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")
_SETTINGS = ("/proc/sys/user/max_user_namespaces", "/proc/sys/kernel/unprivileged_userns_clone",
             "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "/proc/sys/kernel/random/boot_id",
             "/proc/self/attr/current")
_TIER_CODE = ("tiers/base.py", "tiers/bubblewrap.py", "syscall_filter.py", "worker.py", "packages.py", "reach.py")


def recall(probe: str, inputs: Any) -> Any:
    """What ``probe`` found when it last passed under ``inputs`` (plain JSON data) in this machine state,
    or None when it has not, or that cannot be known here."""
    path = _path(probe, inputs)
    data = None if path is None else read_private(path, MAX_BYTES)
    if path is None or data is None:
        return None
    try:
        entry = json.loads(data)
        return entry["found"] if entry.get("format") == FORMAT and entry.get("key") == path.stem else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # torn or foreign: probed again and rewritten


def keep(probe: str, inputs: Any, found: Any) -> None:
    """Keep that ``probe`` passed under ``inputs``, finding ``found`` (plain JSON data)."""
    path = _path(probe, inputs)
    if path is None:
        return
    try:
        write_whole(path, json.dumps({"format": FORMAT, "key": path.stem, "probe": probe, "found": found}),
                    mode=0o600)
    except OSError:
        pass  # a full disk or a removed folder: the next grading probes


def forget_all() -> None:
    """Forget every kept pass: a worker did not come up, and any of them may be what it was started on."""
    folder = None if _machine_state() is None else private_folder(default_cache_dir(), FOLDER)
    for path in [] if folder is None else folder.glob("*.json"):
        path.unlink(missing_ok=True)


def file_identity(path: str) -> list:
    """What tells a file apart from its replacement: its real path, device, inode, size and change time."""
    real = os.path.realpath(path)
    info = os.stat(real)
    return [real, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _path(probe: str, inputs: Any) -> Path | None:
    state = _machine_state()
    if state is None:
        return None
    folder = private_folder(default_cache_dir(), FOLDER)
    if folder is None:
        return None
    key = hashlib.sha256(json.dumps([FORMAT, probe, state, inputs], sort_keys=True).encode()).hexdigest()
    return folder / f"{key}.json"


def _machine_state() -> str | None:
    """The digest of what a probe's verdict depends on besides its inputs, read fresh for every question (a
    process's privileges can change: the grader drops none, but a caller may); None off Linux."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            status = [line.strip() for line in f if line.split(":", 1)[0] in _STATUS_FIELDS]
        namespaces = [os.readlink(f"/proc/self/ns/{name}") for name in _NAMESPACES]
    except OSError:
        return None
    return json.dumps([status, namespaces, [_read(path) for path in _SETTINGS], __version__, _code_digest()])


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(4096).strip()
    except OSError:
        return ""


@functools.cache
def _code_digest() -> str:
    """The sandbox code a probe's verdict rests on: an edited tier (a checkout between releases) probes again."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _TIER_CODE:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    return digest.hexdigest()
