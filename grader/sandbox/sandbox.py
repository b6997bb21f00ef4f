"""The grader-side handle on one submission running in its sandbox worker."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from grader.results import CapturedOutput

from . import cgroups, failures, passes, protocol
from .capture import CappedBuffer, PipeDrain
from .channel import ChannelClosed, ChannelTimeout, SelectChannel, ThreadChannel
from .claims import remove_tree
from .clock import SAMPLE_SECONDS, Allowance, TimeBudget
from .failures import CallFailed, Failure, FailureKind
from .isolation import Policy, SandboxUnavailable, choose, protected_files, tier_class
from .limits import Limits
from .packages import resolve
from .scratch import MODULE, Refused, copy_submission, new_sandbox_root
from .space import Space
from .tiers.base import MARKER_ENV, Layout
from .trace import Trace, TraceSpec

IMPORT = f"importing {MODULE}.py"
WORKER_FILES = ("worker.py", "protocol.py", "syscall_filter.py", "reach.py")
WORKER_KINDS = frozenset({"exception", "memory", "exited", "malformed", "missing_function"})
LOAD_KINDS = frozenset({"import_error", "memory", "exited"})
TEXT_FIELDS = ("error_type", "error", "detail", "where", "problem")
MAX_FIELD = 20000
LOAD_REQUEST = protocol.encode({"load": True}, 64)  # the worker's go-ahead to import rnn.py (worker.LOAD)
READY = MappingProxyType({"ok": True, "ready": True})  # the worker's word that it started (worker.READY)


@dataclasses.dataclass(frozen=True)
class Reply:
    value: Any
    args_after: dict[int, Any]
    seconds: float
    trace: Trace | None = None  # the calls a traced call made to the traced functions (see Sandbox.call)


@dataclasses.dataclass(frozen=True)
class Call:
    """One call for Sandbox.call_many: what Sandbox.call takes, as one value."""

    function: str
    args: tuple[Any, ...] = ()
    return_args: tuple[int, ...] = ()
    describe: str = ""
    trace: Mapping[str, TraceSpec] | None = None

    def request(self, call_id: int) -> dict[str, Any]:
        """The call as the worker reads it."""
        request = {"id": call_id, "function": self.function, "args": list(self.args),
                   "return_args": sorted(set(self.return_args))}
        if self.trace is not None:
            request["trace"] = {name: spec.request() for name, spec in self.trace.items()}
        return request


@dataclasses.dataclass(frozen=True)
class Stop:
    """Sandbox.call_many's stop mode: the batch ends at the first call that fails, as a loop of call()s that
    stops at the first CallFailed ends; with ``like`` (a protocol.shape_key), also after the first call whose value
    has another shape, the first whose value the caller may refuse when it judges values by their kinds, shapes
    and finiteness alone (grader.contract.conform of scalars, arrays and params): the caller judges that one
    and, if it goes on, sends the calls after it again."""

    like: str | None = None  # protocol.shape_key of the value the caller accepted

    @classmethod
    def unlike(cls, value: Any) -> Stop:
        """Stop after the first call whose value differs in shape from ``value`` (one the caller accepted); for a
        value whose shape cannot be told in full (protocol.shape_key is None), after the first call."""
        key = protocol.shape_key(value)
        return cls(key) if key is not None else cls()

    def request(self) -> dict[str, Any]:
        return {"like": self.like}


@dataclasses.dataclass(frozen=True)
class Defined:
    """A name the caller asked for that rnn.py defines."""

    is_callable: bool
    parameters: tuple[str, ...] | None  # as inspect.signature gives them (``*args`` starred); None: unreadable


class SandboxError(RuntimeError):
    """The sandbox itself failed (a grader-side problem, not the submission's)."""


class Sandbox:
    """Runs one submission's functions in an isolated worker process.

    The worker is started at __enter__ (or the first call), or ahead of its use by start() (even before the
    sandbox is given its submission: admit), imports rnn.py once and serves calls until a fatal failure
    (timeout, crash, exit, malformed reply), after which the next call starts a fresh worker. Use from one
    thread at a time.
    """

    def __init__(self, submission_dir: Path | None, limits: Limits = Limits(), *, functions: tuple[str, ...],
                 tier: str | None = None, policy: Policy = Policy.strict, packages: tuple[str, ...] = ("numpy",),
                 budget: TimeBudget | None = None):
        """``submission_dir``: the folder to copy in, or None to admit() it later (its worker may start first);
        ``functions``: the names the worker looks up in rnn.py (the caller's contract functions);
        ``policy``: which tiers are acceptable (SandboxUnavailable if none works here); ``tier``: one by
        name; ``packages``: the distributions rnn.py may import (the contract's ``imports: allowed``);
        ``budget``: the submission's time budget, shared by the sandboxes of one grading (a new one if
        None)."""
        self.limits = limits
        self.budget = budget if budget is not None else TimeBudget(limits)
        self.function_names = tuple(functions)
        self.timings: dict[str, list[float]] = {}
        self._exposed = resolve(tuple(packages))
        self.tier = choose(Policy(policy), self._exposed, tier)
        tier_type = tier_class(self.tier)
        self.weak = tier_type.weak
        self._stdout = CappedBuffer(limits.output_bytes)
        self._stderr = CappedBuffer(limits.output_bytes)
        self._drains: list[PipeDrain] = []  # the running worker's; drained to the end when it stops
        self._process: subprocess.Popen | None = None
        self._channel: SelectChannel | ThreadChannel | None = None
        self._call_id = 0
        self._cpu_mark: float | None = None  # the sandbox's CPU clock when the last call ended
        self._started = False
        self._admitted = False  # the submission is copied in (admit)
        self._launches = 0  # workers started: after the first, the submission's code has run in this sandbox
        self._closed = False
        self._load_failure: Failure | None = None
        self._functions: dict[str, Defined] = {}
        self._claim = new_sandbox_root(shares_host_tmp=tier_type.shares_host_tmp,
                                       traversable=tier_type.other_user_on_host)
        self._root = self._claim.path
        # The kit runs on the student's own machine: nothing is mounted there.
        self._space = None if tier_type.on_students_machine else Space(
            self._root, limits.disk_bytes, 0o711 if tier_type.other_user_on_host else 0o700)
        layout = Layout(self._root, self._root / "worker", self._root / "submission", self._root / "tmp",
                        self._root / "site")
        for folder in (layout.worker_dir, layout.scratch, layout.tmp):
            folder.mkdir(mode=0o700)
        os.chmod(layout.worker_dir, 0o755)  # our own code, no secret: the worker uid must read it
        here = Path(__file__).parent
        for name in WORKER_FILES:
            shutil.copyfile(here / name, layout.worker_dir / name)
            os.chmod(layout.worker_dir / name, 0o644)
        marker = secrets.token_hex(12)
        # What a sweep must stop should this process be killed before close() (grader.sandbox.claims).
        self._claim.note(marker=f"{MARKER_ENV}={marker}", group=self._root.name)
        self._group, no_group = (None, "") if tier_type.on_students_machine else cgroups.create(limits, self._root.name)
        try:
            self._isolation = tier_type(layout, limits, self._exposed, marker, protected_files())
            self._isolation.group = self._group
            self._isolation.space_mounted = self._space is not None and self._space.mounted
            # It says whether the system-call filter works here, which a probe with no verdict refuses to say.
            self.tier_description = self._isolation.description(limits.summary(self._statement(no_group)))
        except BaseException:
            self._release()
            raise
        self._sample_every = SAMPLE_SECONDS if self._isolation.cpu_sampled else None
        self._isolation.prepare()
        if submission_dir is not None:
            try:
                self.admit(submission_dir)
            except BaseException:
                self.close()
                raise

    # --- public API ------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        try:
            self._ensure_started()
        except BaseException:  # e.g. Ctrl-C while the submission imports: __exit__ will not run
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def admit(self, submission_dir: Path) -> None:
        """Copy the submission in: given to the constructor, or here once, to a sandbox made without one (its
        worker may be started already, and waits; a refused copy is the load failure, and stops it)."""
        if self._admitted:
            raise SandboxError("a sandbox grades one submission")
        self._admitted = True
        try:
            copy_submission(Path(submission_dir), self._isolation.layout.scratch)
        except Refused as exc:
            self._load_failure = failures.refused(str(exc))
            self._started = True
            self._stop_worker()
            return
        if self._space is not None:
            self._space.fit()
        self._isolation.admit()

    def start(self) -> None:
        """Start the worker ahead of its use, without loading rnn.py: the interpreter, numpy, the limits, the
        privilege drop and the system-call filter. No code of the submission runs in it before the sandbox is
        first used (``with``, a call, ``load_failure`` or ``functions``), which imports rnn.py as ever; until
        then the worker only waits. So a caller can have the worker's start-up done while other sandboxes of
        the submission still run, and load rnn.py only once they are gone."""
        if self._started or self._process is not None or self.budget.remaining() <= 0:
            return  # used already, or nothing to start: its first use says why
        try:
            self._launch()
        except BaseException:
            self._stop_worker()
            raise

    @property
    def load_failure(self) -> Failure | None:
        self._ensure_started()
        return self._load_failure

    @property
    def functions(self) -> dict[str, Defined]:
        """For each asked name present in rnn.py: whether it is callable, and its parameters."""
        self._ensure_started()
        return self._functions

    @property
    def scratch_dir(self) -> Path:
        """The host path of the submission's scratch copy (deleted by close())."""
        return Path(self._isolation.layout.scratch)

    def call(self, function: str, *args, return_args: tuple[int, ...] = (),
             describe: str = "", trace: Mapping[str, TraceSpec] | None = None) -> Reply:
        """Call `function(*args)` in the worker; raise CallFailed on any failure.

        `args` are plain data (dict/list/tuple/str/int/float/bool/None, numpy arrays of
        an allowed dtype) and RngSeed. `return_args` lists argument indices whose values
        after the call come back in Reply.args_after. `describe` (e.g. "K=4, m=3, tau=5")
        goes into failure messages. `trace` maps names of the submission's functions to what to record
        of their calls: while the call runs, each call it makes to one of them (module-level, or a method
        of the submission's classes of that name) is recorded in Reply.trace (or CallFailed.trace when the
        call fails), as grader.sandbox.trace describes. What it holds is the submission's claim.
        """
        (result,) = self.call_many([Call(function, args, tuple(return_args), describe, trace)])
        if isinstance(result, CallFailed):
            raise result
        return result

    def call_many(self, calls: Sequence[Call], stop: Stop | None = None) -> list[Reply | CallFailed]:
        """Make `calls` in order, in one exchange with the worker: for each, its Reply or the CallFailed that
        call() would have raised. Use it where the calls do not depend on each other's results (the cases
        of a check drawn in advance): the grader sends one request, and the worker answers each call as it
        ends without waiting for the grader, which saves the round trip (a wake-up of each process, about a
        quarter of a millisecond on a quiet machine and several on a loaded one) on every call but the first.

        Each call keeps its own limits and verdict, as with call(): its own call_seconds of CPU and wall-clock
        time and its own charge to the budget (its clock starts once the grader has read the previous reply,
        which the worker sends as it starts the next call: the difference is the grader's reading of one
        reply). A call the submission fails (it raises, exits the call with SystemExit, returns what the
        channel refuses) leaves the worker to answer the next one; a call that ends the worker (a timeout,
        a crash, a malformed reply) gets that verdict, and the calls after it go to a fresh worker, as the
        next call() would. A call refused before it runs (no such function, the budget used up) is never
        sent; one whose turn comes after the budget ran out while the worker had already started it is
        stopped with the worker and gets the budget's verdict, as call() would have refused it.

        ValueError (return_args that do not index the arguments) and ProtocolError (arguments that are not
        plain data) are raised before any call runs.

        For a caller that replaces a loop of call()s which stops at the first failure (the checks engine's
        cases, gradients._directional's forward pairs): every call of the batch runs, also after one that
        failed or whose value the caller then refuses, so those later calls show in ``timings``, the budget and
        the captured output where the loop would not have made them. Equal results need a batch that stops
        where the loop did: send the calls up to the first one whose result may end the loop, or accept the
        difference for a submission that fails anyway, or give ``stop``: the worker then makes no call after the
        first one that fails (that one included: the list ends with its CallFailed) or, with Stop.like, whose
        value has another shape (the list ends with its Reply): the calls not made have no result, and a caller
        that goes on sends them again. A call refused before it runs ends the list as well; a call that ends the
        worker starts no fresh one.
        """
        self._ensure_started()
        if self._load_failure is not None:
            return [CallFailed(self._load_failure) for _ in calls[:1 if stop is not None else None]]
        for call in calls:
            if any(type(i) is not int or not 0 <= i < len(call.args) for i in call.return_args):
                raise ValueError(f"return_args {call.return_args!r} do not index the {len(call.args)} arguments")
        results: list[Reply | CallFailed] = []
        while len(results) < len(calls):
            first = len(results)
            refused = self._refusal(calls[first])
            if refused is not None:
                results.append(CallFailed(refused))
                if stop is not None:
                    break
                continue
            left_out = {i: lack for i in range(first, len(calls)) if (lack := self._missing(calls[i])) is not None}
            end = len(calls) if stop is None else min(left_out, default=len(calls))  # stopped there anyway
            sent = [i for i in range(first, end) if i not in left_out]
            ids = [secrets.randbits(62) for _ in sent]  # random, not sequential: a forged reply must guess them
            frame: dict[str, Any] = {"calls": [calls[i].request(call_id) for i, call_id in zip(sent, ids)]}
            if stop is not None:
                frame["stop"] = stop.request()
            request = protocol.encode(frame, self.limits.reply_bytes, allow_rng=True)
            if self._process is None:
                failure = self._spawn(describe_as=calls[first].function)
                if failure is not None:
                    results.append(CallFailed(failure))
                    if stop is not None:
                        break
                    continue
            if self._answers(calls, sent, ids, request, left_out, results, stop):
                break
        return results

    def _answers(self, calls: Sequence[Call], sent: list[int], ids: list[int], request: bytes,
                 left_out: dict[int, Failure], results: list[Reply | CallFailed], stop: Stop | None) -> bool:
        """Send the calls at `sent` (one request) and add each one's result to `results`, with those of the
        calls `left_out` between them; stop early when the worker stops. Whether the batch ended under ``stop``
        (with the worker stopped, or the worker's reply saying it makes no more calls)."""
        for n, (i, call_id) in enumerate(zip(sent, ids)):
            while len(results) < i:
                results.append(CallFailed(left_out[len(results)]))
            call = calls[i]
            if n > 0 and self.budget.remaining() <= 0:
                self._stop_worker()  # it has started the call already
                results.append(CallFailed(failures.budget(call.function, call.describe,
                                                          self.limits.total_seconds, False)))
                return stop is not None
            self._call_id = call_id
            stopped = False
            try:
                reply = self._exchange(request if n == 0 else None, call.function, call.describe,
                                       last=n == len(sent) - 1, stopping=stop is not None)
                if stop is not None and reply.get("stop") is True:
                    stopped = reply.pop("stop")
                result: Reply | CallFailed = self._accept(reply, call.function, call.describe,
                                                          sorted(set(call.return_args)), traced=call.trace is not None)
            except CallFailed as exc:
                result = exc
            results.append(result)
            if stop is not None and (stopped or isinstance(result, CallFailed)):
                return True
            if self._process is None:
                return False  # the calls after this one go to a fresh worker
        return False

    def _missing(self, call: Call) -> Failure | None:
        """Why `call` is refused before it runs for want of its function, or None."""
        info = self._functions.get(call.function)
        if call.function in self.function_names and (info is None or not info.is_callable):
            message = failures.missing_message(call.function)
            if info is not None:
                message = f"rnn.py defines {call.function}, but it is not a function."
            return Failure(FailureKind.missing_function, message)
        return None

    def _refusal(self, call: Call) -> Failure | None:
        """Why `call` is refused before it runs (its function missing, the budget used up), or None."""
        missing = self._missing(call)
        if missing is not None:
            return missing
        if self.budget.remaining() <= 0:
            return failures.budget(call.function, call.describe, self.limits.total_seconds, False)
        return None

    def output(self) -> CapturedOutput:
        for drain in self._drains:
            drain.settle()
        stdout, cut_out = self._stdout.text()
        stderr, cut_err = self._stderr.text()
        return CapturedOutput(stdout, stderr, cut_out or cut_err)

    def leftover_processes(self) -> list[int]:
        """Live processes of this sandbox (its uid, or the worker's tree); [] once closed."""
        if self._process is None:
            return self._isolation.leftovers(-1)
        return self._isolation.leftovers(self._process.pid)

    def close(self) -> None:
        if self._closed:
            return  # a second sweep could hit a uid another sandbox has leased since
        self._closed = True
        self._stop_worker()
        self._isolation.close()
        self._release()

    def _release(self) -> None:
        """Free the control group, the writable space and the sandbox's folder, once its processes are gone."""
        if self._group is not None:
            self._group.close()
        if self._space is not None:
            self._space.close()
        remove_tree(self._root)
        self._claim.release()

    def _statement(self, no_group: str) -> str:
        """How the limits apply to the sandbox as a whole, in words."""
        if self._isolation.on_students_machine:
            return ""
        if self._group is not None:
            group = f"memory, processes and CPU limited for the whole sandbox (cgroup v{self._group.version})"
        else:
            group = f"memory and processes limited per process only ({no_group})"
        return group if self._space is None else f"{group}; {self._space.statement()}"

    # --- worker lifecycle ----------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._started:
            return
        if not self._admitted:
            raise SandboxError("no submission was admitted to the sandbox")
        self._started = True
        if self.budget.remaining() <= 0:
            self._stop_worker()  # one started ahead never imported rnn.py
            self._load_failure = failures.budget(IMPORT, "", self.limits.total_seconds, False)
            return
        self._load_failure = self._spawn(describe_as=None) if self._process is None else self._load(IMPORT)

    def _spawn(self, describe_as: str | None) -> Failure | None:
        """Start a worker and wait for its import; return the import's failure, if any.

        `describe_as` names the call that needed a restart (None for the first start).
        """
        self._launch()
        return self._load(IMPORT if describe_as is None else f"{IMPORT} again before {describe_as}")

    def _launch(self) -> None:
        """Start a worker: it imports what it needs itself, applies the limits, drops its privileges and installs
        the system-call filter, then waits for _load's go-ahead before it imports rnn.py."""
        self._launches += 1
        inside = self._isolation.inside()
        config = {
            "protocol": f"{inside.worker_dir}/protocol.py",
            "max_bytes": self.limits.reply_bytes,
            "rlimits": self.limits.rlimits(self._isolation.uid is not None),
            "strict_limits": not self._isolation.on_students_machine,  # the kit applies what its platform has
            "submission": str(inside.scratch),
            "module": MODULE,
            "functions": list(self.function_names),
            "site": self._isolation.site_path(),
            "allowed": {"declared": list(self._exposed.declared), "modules": list(self._exposed.modules)},
            "protected": list(self._isolation.protected) if self._isolation.strong else None,
            **self._isolation.worker_config(),
        }
        worker = self._isolation.start(config)
        self._process = worker.process
        self._cpu_mark = self._cpu_clock()
        channel = SelectChannel if self._isolation.fd_channel else ThreadChannel
        self._channel = channel(worker.call, worker.reply)
        if worker.stdout is not None:
            self._drains.append(PipeDrain(worker.stdout, self._stdout))
        self._drains.append(PipeDrain(worker.stderr, self._stderr if worker.stdout is not None else self._stdout))

    def _load(self, what: str) -> Failure | None:
        """Have the launched worker import rnn.py and wait for it; return the import's failure, if any. Its
        start-up (the CPU it used since its launch and until it says it started) has an allowance as long as
        the import's, and both are charged to the budget."""
        try:
            self._started_up(what, self._allowance(self.limits.import_seconds))
        except CallFailed as exc:
            return exc.failure
        allowance = self._allowance(self.limits.import_seconds)
        try:
            self._running()[1].write(LOAD_REQUEST, allowance)
        except ChannelClosed:
            pass  # it ended before reading it: its death says why
        except ChannelTimeout:
            self._charge(allowance)
            return self._time_failure(what, "", allowance)
        try:
            reply = self._receive(what, "", allowance)
        except CallFailed as exc:
            return exc.failure
        if reply.get("ok") is True and type(reply.get("functions")) is dict:
            functions = self._check_functions(reply["functions"])
            if functions is not None:
                self._functions = functions
                return None
        elif reply.get("ok") is False and reply.get("kind") in LOAD_KINDS and _text_ok(reply):
            self._stop_worker()
            return failures.from_worker(reply, what, "", self.limits, self._isolation.space_mounted)
        self._stop_worker()
        return Failure(FailureKind.malformed,
                       failures.malformed_frame_message(what, "an unexpected message"))

    def _started_up(self, what: str, allowance: Allowance) -> None:
        """Wait for the worker's word that it started: limits, privileges, system-call filter, and nothing of the
        grader's within reach. Running out of time first is the import's CallFailed, as it was: the grading's
        budget may be all but spent.

        A worker started again after a failure (this sandbox has run the submission's code, which may have
        changed what a worker starts from: its folder's mode, say) that does not come up is the submission's
        failure, a CallFailed. The sandbox's first worker ran nothing of the submission's: one that does not come
        up is the sandbox's. The probes' kept passes (grader.sandbox.passes) are then forgotten and the worker
        started once more on what the probes find now; a second failure is SandboxUnavailable."""
        why = self._start_failure(what, allowance)
        if why is None:
            return
        if self._launches > 1:
            raise CallFailed(Failure(FailureKind.exited, f"{failures.during(what, '')} failed: the sandbox's worker "
                                     f"could not start again after the submission's code ran in it ({why})."))
        passes.forget_all()
        self._launch()
        why = self._start_failure(what, self._allowance(self.limits.import_seconds))
        if why is not None:
            raise SandboxUnavailable(f"the sandbox's worker could not start ({why}); no submission was run")

    def _start_failure(self, what: str, allowance: Allowance) -> str | None:
        """None once the worker said it started; else why it did not, in one line (the worker stopped)."""
        try:
            reply = self._receive(what, "", allowance)
        except CallFailed as exc:
            if exc.failure.kind in (FailureKind.timeout, FailureKind.stalled, FailureKind.budget):
                raise
            why = _last_line(self.output().stderr) or exc.failure.message
        else:
            if reply == READY:
                return None
            setup = reply.get("kind") == "setup" and _text_ok(reply)
            why = _last_line(str(reply.get("detail"))) if setup else "an unexpected message"
        self._stop_worker()
        return why

    def _check_functions(self, found: dict) -> dict[str, Defined] | None:
        checked = {}
        for name, info in found.items():
            if name not in self.function_names or type(info) is not dict:
                return None
            params = info.get("parameters")
            if type(info.get("callable")) is not bool or not (
                    params is None or (type(params) is list
                                       and all(type(p) is str for p in params))):
                return None
            checked[name] = Defined(info["callable"], None if params is None else tuple(params))
        return checked

    def _stop_worker(self) -> None:
        if self._process is None:
            return
        if self._channel is not None:
            self._channel.close()
        self._channel = None
        self._isolation.kill(self._process)
        self._process = None
        # Everything it printed up to its end is in the pipes: read it all before output() is asked.
        for drain in self._drains:
            drain.join(1.0)
        self._drains = []

    # --- one exchange ---------------------------------------------------------------------

    def _cpu_clock(self) -> float | None:
        return None if self._process is None else self._isolation.cpu_seconds(self._process)

    def _allowance(self, seconds: float) -> Allowance:
        return self.budget.allowance(seconds, self._cpu_clock, self._cpu_mark, self._sample_every)

    def _charge(self, allowance: Allowance) -> None:
        """Charge the call to the budget while the worker still runs (its CPU clock goes with it)."""
        self._cpu_mark = self.budget.charge(allowance)

    def _exchange(self, request: bytes | None, function: str, describe: str, last: bool,
                  stopping: bool = False) -> dict:
        """Send `request` (None: it was sent with an earlier call of the batch) and read the reply to this call;
        `last`: no other reply of the batch is to follow; `stopping`: nor after a reply that ends a batch sent
        with a Stop."""
        allowance = self._allowance(self.limits.call_seconds)
        try:
            if request is not None:
                self._running()[1].write(request, allowance)
        except ChannelTimeout:
            self._charge(allowance)
            raise CallFailed(self._time_failure(function, describe, allowance)) from None
        except ChannelClosed:
            self._charge(allowance)
            raise CallFailed(self._death(function, describe)) from None
        return self._receive(function, describe, allowance, last, stopping)

    def _receive(self, what: str, describe: str, allowance: Allowance, last: bool = True,
                 stopping: bool = False) -> dict:
        """Read one reply frame; every way this can go wrong becomes a CallFailed. Bytes after the `last`
        reply of an exchange are a forged frame (within a batch, the next reply may already be waiting), as
        are bytes after a reply that ends a batch sent with a Stop (``stopping``)."""
        try:
            try:
                prefix = self._read(protocol.PREFIX.size, allowance)
                header_len, payload_len = protocol.parse_prefix(prefix, self.limits.reply_bytes)
                body = self._read(header_len + payload_len, allowance)
            finally:
                self._charge(allowance)
            reply = protocol.decode(body[:header_len], body[header_len:])
            if type(reply) is not dict:
                raise protocol.ProtocolError(f"a reply of type {type(reply).__name__}")
            if last or (stopping and (reply.get("ok") is not True or reply.get("stop") is True)):
                self._check_no_extra_bytes()
        except ChannelTimeout:
            failure = self._time_failure(what, describe, allowance)
        except ChannelClosed:
            failure = self._death(what, describe)
        except protocol.ProtocolError as exc:
            failure = Failure(FailureKind.malformed,
                              failures.malformed_frame_message(what, str(exc)))
        else:
            return reply
        self._stop_worker()
        raise CallFailed(failure)

    def _running(self) -> tuple[subprocess.Popen, SelectChannel | ThreadChannel]:
        """The running worker and the grader's channel to it (a call starts the worker first)."""
        if self._process is None or self._channel is None:
            raise SandboxError("no worker is running")
        return self._process, self._channel

    def _read(self, n: int, allowance: Allowance) -> bytes:
        process, channel = self._running()
        return channel.read(n, allowance, lambda: process.poll() is not None)

    def _check_no_extra_bytes(self) -> None:
        extra = self._running()[1].pending()
        if extra:
            raise protocol.ProtocolError(f"extra bytes after the reply ({extra[:16]!r}...)")

    def _time_failure(self, what: str, describe: str, allowance: Allowance) -> Failure:
        self._stop_worker()
        if allowance.budget_first:
            kind = FailureKind.stalled if allowance.starved else FailureKind.budget
            return failures.budget(what, describe, self.limits.total_seconds, True, kind)
        if allowance.starved:
            return failures.stalled(what, describe, allowance.seconds, self.limits.wall_factor)
        if allowance.idle:
            return failures.waited(what, describe, allowance.seconds * self.limits.wall_factor)
        return failures.timeout(what, describe, allowance.seconds)

    def _death(self, what: str, describe: str) -> Failure:
        process = self._running()[0]
        try:
            process.wait(timeout=1.0)
        except Exception:  # noqa: BLE001 - still running: the kill below settles it
            pass
        self._stop_worker()
        if self._group is not None and self._group.new_out_of_memory():
            return failures.group_memory(what, describe, self.limits.memory_bytes)
        status = self._isolation.exit_status(process)
        return failures.death(what, describe, status, self.limits.cpu_seconds)

    def _accept(self, reply: dict, function: str, describe: str, wanted: list[int], traced: bool = False) -> Reply:
        if reply.get("id") != self._call_id:
            self._stop_worker()
            raise CallFailed(Failure(FailureKind.malformed, failures.malformed_frame_message(
                function, "a reply to a different call")))
        trace = Trace.read(reply.pop("trace", None)) if traced else None
        if reply.get("ok") is True:
            args = reply.get("args")
            seconds = reply.get("seconds")
            if (set(reply) == {"id", "ok", "value", "args", "seconds"}
                    and type(args) is dict and set(args) == {str(i) for i in wanted}
                    and type(seconds) is float and seconds >= 0):
                self.timings.setdefault(function, []).append(seconds)
                return Reply(reply["value"], {int(k): v for k, v in args.items()}, seconds, trace)
        elif reply.get("ok") is False and reply.get("kind") in WORKER_KINDS and _text_ok(reply):
            raise CallFailed(failures.from_worker(reply, function, describe, self.limits,
                                                  self._isolation.space_mounted), trace)
        self._stop_worker()
        raise CallFailed(Failure(FailureKind.malformed, failures.malformed_frame_message(
            function, "fields that do not form a valid reply")))


def _last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")[:300]


def _text_ok(reply: dict) -> bool:
    return all(type(reply.get(f, "")) is str and len(reply.get(f, "")) <= MAX_FIELD
               for f in TEXT_FIELDS) and (reply.get("code") is None
                                          or type(reply.get("code")) in (int, str))
