"""Running untrusted submissions in an isolated worker process.

See isolation.py for what each tier guarantees and protocol.py for the wire format.
"""

from grader.results import CapturedOutput

from .clock import TimeBudget
from .failures import CallFailed, Failure, FailureKind
from .isolation import TIERS, Policy, SandboxUnavailable, available_tiers
from .limits import Limits
from .protocol import RngSeed
from .sandbox import Call, Defined, Reply, Sandbox, SandboxError, Stop
from .trace import Trace, TracedCall, TraceSpec

__all__ = [
    "TIERS", "Call", "CallFailed", "CapturedOutput", "Defined", "Failure", "FailureKind",
    "Limits", "Policy", "Reply", "RngSeed", "Sandbox", "SandboxError", "SandboxUnavailable", "Stop", "TimeBudget",
    "Trace",
    "TraceSpec", "TracedCall",
    "available_tiers",
]
