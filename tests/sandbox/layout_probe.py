"""Run by the install-layout tests with another interpreter: which tier the grader installed there picks,
and what a hostile submission reaches from it (files, imports, a TCP port on 127.0.0.1). Prints one JSON object.

    python layout_probe.py HOSTILE_DIR [--no-bwrap] [--allow-weak] [TARGET ...]
"""

import json
import socket
import sys
from pathlib import Path

from grader.assignment import load_assignment
from grader.sandbox import Limits, Policy, Sandbox, SandboxUnavailable, isolation
from grader.sandbox.tiers import bubblewrap


def main(argv):
    hostile, targets = Path(argv[0]), [a for a in argv[1:] if not a.startswith("--")]
    if "--no-bwrap" in argv:
        bubblewrap.bwrap_candidates = list  # this interpreter's process only: neither the system's nor the wheel's
    policy = Policy.allow_weak if "--allow-weak" in argv else Policy.strict
    found = {"reasons": isolation.reasons(), "grader": __import__("grader").__file__}
    limits = Limits(call_seconds=20.0, import_seconds=30.0)
    assignment = load_assignment()
    options = {"functions": assignment.functions, "packages": assignment.allowed_imports, "policy": policy}
    try:
        with Sandbox(hostile / "common_imports", limits, **options) as classmate, \
                Sandbox(hostile / "read_installed", limits, **options) as box:
            found["tier"] = box.tier
            found["weak"] = box.weak
            found["imports"] = classmate.load_failure is None and classmate.call("forward", [1.0]).value[3]
            reachable = [*targets, str(classmate.scratch_dir / "rnn.py")]
            found["readable"] = box.call("forward", reachable).value
            found["imported"] = box.call("import_names", ["grader", "reference", "yaml", "hypothesis"]).value
        with Sandbox(hostile / "network_ways", limits, **options) as box, socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)  # a connection would be queued; none is accepted
            found["network"] = box.call("connect_tcp", listener.getsockname()[1]).value
    except SandboxUnavailable as exc:
        found["refused"] = str(exc)
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1:])
