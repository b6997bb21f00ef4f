"""The plain-process tier: an ordinary child in a new session, with the rlimits that work.

It can read and write whatever the grader can and signal the grader, so it is weak: the grader uses it only
when the instructor passes --allow-weak-sandbox, and then every output says so. Where seccomp works
(syscall_filter.py) the worker denies itself network sockets and the kernel keyring; it could still have code
run outside the sandbox by writing the grader's files.

Killing: the process group, the worker's descendants and every process still carrying this sandbox's
environment marker; a daemon that double-forks and then execs with a fresh environment can escape.
"""

from __future__ import annotations

from ..isolation import filter_reason
from ..packages import link_folder
from .base import Tier, Worker, scrubbed_environment


class PlainProcess(Tier):
    name = "plain-process"
    strong = False
    weak = True
    shares_host_tmp = True

    @classmethod
    def unavailable(cls, protected, exposed):
        return None

    def prepare(self) -> None:
        link_folder(self.exposed, self.layout.site)

    def site_path(self) -> list[str]:
        return [str(self.layout.site)]

    def worker_config(self) -> dict:
        return {**super().worker_config(), "syscall_filter": filter_reason() is None}

    def start(self, config: dict) -> Worker:
        environment = scrubbed_environment(str(self.layout.scratch), str(self.layout.tmp), self.marker)
        return self._popen_with_fds(self._python(), config, environment)

    def description(self, limits_summary: str) -> str:
        reason = filter_reason()
        network = ("a seccomp filter denied it network sockets (Unix-domain ones aside) and the kernel keyring" if reason is None
                   else f"it could use the network (no seccomp filter: {reason})")
        return ("WEAK ISOLATION (accepted with --allow-weak-sandbox): ran as an ordinary process without "
                f"bubblewrap or a uid of its own, so it could read and write the grader's files; {network}; "
                f"limits: {limits_summary}.")
