"""The unprivileged-user tier: root without a working bwrap runs the worker as a uid of its own.

The uid has no supplementary groups and owns only the scratch copy and its temporary folder (mode 0700,
inside a sandbox folder other uids cannot list), so it cannot read other submissions' copies, signal
the grader or write the grader's files; RLIMIT_NPROC bounds fork bombs. The worker denies itself network
sockets and the kernel keyring with a seccomp filter (syscall_filter.py) before the submission runs, and
refuses to run it if the filter fails; where seccomp does not work the tier is not used. It can read world-readable files, so the
tier is used only when the probe finds the grader's own files (the package, the reference, the spec folder)
unreadable to it: gradescope/setup.sh arranges that with chmod.

Killing: every process of that uid is SIGKILLed until none is left, so double-forked daemons die too.
"""

from __future__ import annotations

import functools
import os

from ..isolation import filter_reason
from ..packages import Exposed, link_folder, site_folders_of
from ..processes import UidLease, kill_uid, uid_range
from .base import PYTHON_FLAGS, Tier, Worker, probe_script, python_executable, run_probe, scrubbed_environment

FIX = ("make them unreadable to other users (chmod -R o-rwx on the grader's install and spec folders, as "
       "gradescope/setup.sh does) or install bubblewrap")


@functools.cache
def _reason(protected: tuple[str, ...], exposed: Exposed) -> str | None:
    if os.geteuid() != 0:
        return "the grader is not root, so it cannot switch uid"
    no_filter = filter_reason()
    if no_filter is not None:
        return f"without bubblewrap only a seccomp filter takes the network away, and it cannot here ({no_filter})"
    lease = UidLease(uid_range())
    try:
        reason = run_probe([python_executable(), *PYTHON_FLAGS, "-c", probe_script(site_folders_of(exposed), protected)],
                           user=lease.uid, group=lease.gid, extra_groups=[])
    finally:
        kill_uid(lease.uid)
        lease.release()
    if reason is None:
        return None
    if "could still read" in reason:
        return f"uid {lease.uid} can read the grader's files ({reason}); {FIX}"
    return f"the Python installation or its packages are not usable by uid {lease.uid} ({reason})"


class UnprivilegedUser(Tier):
    name = "unprivileged-user"
    strong = True
    shares_host_tmp = True
    other_user_on_host = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lease = self.own_lease = UidLease(uid_range())

    @classmethod
    def unavailable(cls, protected, exposed):
        return _reason(protected, exposed)

    def prepare(self) -> None:
        for folder in (self.layout.scratch, self.layout.tmp):
            os.chown(folder, self.own_lease.uid, self.own_lease.gid)
            os.chmod(folder, 0o700)
        link_folder(self.exposed, self.layout.site)
        if self.group is not None:
            self.group.allow_uid(self.own_lease.uid)  # the worker already runs as its uid when it joins

    def site_path(self) -> list[str]:
        return [str(self.layout.site)]

    def worker_config(self) -> dict:
        return {**super().worker_config(), "syscall_filter": True}  # the worker refuses to go on without it

    def start(self, config: dict) -> Worker:
        environment = scrubbed_environment(str(self.layout.scratch), str(self.layout.tmp), self.marker)
        return self._popen_with_fds(self._python(), config, environment,
                                    user=self.own_lease.uid, group=self.own_lease.gid, extra_groups=[])

    def description(self, limits_summary: str) -> str:
        return (f"Ran as unprivileged uid {self.uid} without bubblewrap, with no access to the grader's files "
                f"or other submissions and no network or keyring (a seccomp filter denied every socket but Unix-domain "
                f"ones), but with world-readable files; limits: {limits_summary}.")
