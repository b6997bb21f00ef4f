"""The sandbox worker: imports one submission and runs calls the grader sends.

Runs as `python -S -P -u -B worker.py CONFIG_JSON` in a scrubbed environment, possibly
inside bubblewrap, so it must stay self-contained: standard library, numpy and the
siblings protocol.py, syscall_filter.py and reach.py (loaded by path under private names), never the
`grader` package.
It must also run on Windows for the student kit: POSIX-only modules (resource, ctypes'
prctl) are used only where they exist, and with "stdio" the channel is the standard
streams instead of inherited descriptors.

Order matters: everything the worker itself needs is imported and the resource limits,
privilege drop and system-call filter are applied before any student code runs; student code can then do
anything inside this process, which is why the grader trusts nothing it sends back.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import json
import os
import random
import signal
import sys
import time
import traceback
import types

# -S skips site-packages and its .pth hooks (an editable install of the grader would
# make `import grader` work); only the folder holding numpy is put back.
CONFIG = json.loads(sys.argv[1])
sys.path.extend(CONFIG["site"])
import site  # noqa: E402

import numpy as np  # noqa: E402 - importable only once its folder is on sys.path

MAX_TEXT = 4000
LOAD = {"load": True}  # the grader's go-ahead to import rnn.py (the same in sandbox.py)
READY = {"ok": True, "ready": True}  # the worker's word that it started (the same in sandbox.py)
MAX_FRAMES = 20


def load_sibling(path, name):
    """One of the grader's files copied beside this one, under a private name (never `grader.*`)."""
    spec = importlib.util.spec_from_file_location(f"_rnn_grader_sandbox_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def sibling(name):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


def apply_limits(rlimits, strict):
    """Set the rlimits; without `strict` (the kit), only those the platform supports."""
    try:
        import resource
    except ImportError:
        if strict:
            raise
        return
    for name, value in rlimits.items():
        soft = hard = value
        if name == "RLIMIT_CPU":
            # SIGXCPU at the soft limit names the cause; the hard limit is the backstop.
            hard = value + 1
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (AttributeError, ValueError, OSError):
            if strict:
                raise


def join_groups(paths):
    """Move this process into the sandbox's control groups before anything else runs, so every process
    the submission starts (setsid or not) is counted against the group's memory, processes and CPU."""
    for path in paths:
        with open(path, "w") as f:
            f.write("0")


class ImportRule(importlib.abc.MetaPathFinder):
    """Only the standard library, the allowed packages and the submission's own modules import.

    A disallowed import written in the submission gets one message naming the module, the file and line,
    and the allowed set; one made inside an allowed package reads like a package that is not installed,
    which is what optional imports expect.
    """

    def __init__(self, allowed, declared, root, stdlib_path):
        self.allowed = set(allowed) | set(sys.stdlib_module_names) | set(sys.builtin_module_names)
        self.declared = declared
        self.root = root
        self.stdlib_path = stdlib_path

    def find_spec(self, fullname, path=None, target=None):
        if path is not None or fullname in self.allowed or fullname.startswith("_rnn_grader"):
            return None
        if importlib.machinery.PathFinder.find_spec(fullname, self.stdlib_path) is not None:
            return None  # a private module of the standard library (_sysconfigdata_...)
        if os.path.exists(os.path.join(self.root, fullname + ".py")) or os.path.isdir(
                os.path.join(self.root, fullname)):
            return None  # the submission's own module
        raise ModuleNotFoundError(self.message(fullname), name=fullname)

    def message(self, name):
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None and (frame.f_code.co_filename.startswith("<frozen")
                                     or frame.f_code.co_filename == __file__):
            frame = frame.f_back
        shown = display_path(frame.f_code.co_filename, self.root) if frame is not None else None
        if shown is None or frame is None:
            return f"No module named {name!r}"
        return (f"{shown}, line {frame.f_lineno} imports {name}, which the grader does not offer; "
                f"a submission may import {', '.join(self.declared)} and Python's standard library")


def drop_privileges(uid, gid):
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgroups():
        raise SystemExit("sandbox worker: could not drop privileges")


PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid):
    """Have the kernel kill this worker if the grader process dies, even by SIGKILL.

    Set after the privilege drop, which clears it. Linux only; elsewhere the grader's own cleanup is
    all there is.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the grader died before the request took effect
        os._exit(1)


def safe_str(exc):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - str() of student exceptions may raise anything
        return "(the error message could not be turned into text)"
    if type(text) is not str:
        return "(the error message is not text)"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " [...]"


def display_path(filename, root):
    if not isinstance(filename, str) or not os.path.isabs(filename):
        return None  # "<frozen importlib...>" and the like
    try:
        path = os.path.realpath(filename)
    except (ValueError, OSError):
        return None
    if path == root or path.startswith(root + os.sep):
        return os.path.relpath(path, root)
    return None


class SubmissionFiles:
    """Which loaded files are the submission's, remembered per file name: a traced call looks at the file of
    every loaded module (numpy's hundreds among them), and each os.path.realpath costs a stat per path
    component, which made the look several milliseconds a call. A file name found once is not looked up again
    in this worker: modules are not re-imported from elsewhere, and what the tracer records is the
    submission's claim whatever it finds."""

    def __init__(self, root):
        self.root = root
        self._known = {}

    def owns(self, filename):
        if type(filename) is not str:
            return display_path(filename, self.root) is not None
        known = self._known.get(filename)
        if known is None:
            known = self._known[filename] = display_path(filename, self.root) is not None
        return known


def student_traceback(exc, root):
    """The traceback of `exc` limited to frames in the submission's own files."""
    lines = []
    try:
        extracted = list(traceback.extract_tb(exc.__traceback__))
    except BaseException:  # noqa: BLE001 - a hostile frame may break extraction
        extracted = []
    frames: list[traceback.FrameSummary | None] = [f for f in extracted if display_path(f.filename, root) is not None]
    if len(frames) > MAX_FRAMES:
        # Deep recursion: the first and last frames tell the story.
        half = MAX_FRAMES // 2
        skipped = len(frames) - MAX_FRAMES
        frames = frames[:half] + [None] + frames[-half:]
    for frame in frames:
        if frame is None:
            lines.append(f"  [... {skipped} more frames ...]")
            continue
        lines.append(f'  File "{display_path(frame.filename, root)}", line {frame.lineno}, '
                     f"in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line.strip()[:200]}")
    if isinstance(exc, SyntaxError):
        shown = display_path(exc.filename or "", root) or "rnn.py"
        lines.append(f'  File "{shown}", line {exc.lineno}')
        if exc.text:
            lines.append(f"    {exc.text.strip()[:200]}")  # a line may be the whole file
    head = ["Traceback (most recent call last):"] if lines else []
    return "\n".join(head + lines + [f"{type(exc).__name__}: {safe_str(exc)}"])


def failure(kind, exc=None, root=None, **extra):
    reply = {"ok": False, "kind": kind}
    if exc is not None:
        reply["error_type"] = type(exc).__name__
        reply["error"] = safe_str(exc)
        reply["detail"] = student_traceback(exc, root)
    reply.update(extra)
    return reply


def classify(exc):
    if isinstance(exc, SystemExit):
        return "exited"
    if isinstance(exc, MemoryError):
        return "memory"
    return "exception"


def exit_code(exc):
    code = exc.code
    if code is None or type(code) is int:
        return code
    return safe_str(code)


STAR: dict[object, str] = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}


def describe_functions(module, names):
    """Name, callability and parameter names (``*args``/``**kw`` marked) of each contract function."""
    found = {}
    for name in names:
        if name not in vars(module):
            continue
        obj = vars(module)[name]
        try:
            params = inspect.signature(obj).parameters.values() if callable(obj) else ()
            parameters = [STAR.get(p.kind, "") + p.name for p in params]
        except Exception:  # noqa: BLE001 - a hostile __signature__ may raise anything
            parameters = None
        found[name] = {"callable": bool(callable(obj)), "parameters": parameters}
    return found


class Channel:
    def __init__(self, protocol, call_fd, reply_fd, max_bytes):
        self.protocol = protocol
        self.call_fd = call_fd
        self.reply_fd = reply_fd
        self.max_bytes = max_bytes

    def _read_exactly(self, n):
        chunks = []
        while n:
            chunk = os.read(self.call_fd, min(n, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        prefix = self._read_exactly(self.protocol.PREFIX.size)
        if prefix is None:
            return None
        header_len, payload_len = self.protocol.parse_prefix(prefix, self.max_bytes)
        body = self._read_exactly(header_len + payload_len)
        if body is None:
            return None
        return self.protocol.decode(body[:header_len], body[header_len:], allow_rng=True)

    def send(self, message):
        frame = self.protocol.encode(message, self.max_bytes)
        view = memoryview(frame)
        while view:
            view = view[os.write(self.reply_fd, view):]


def malformed_reply(protocol, max_bytes, call_id, value, args_after):
    """Explain which part of a reply could not be sent, and why."""
    parts = [("value", value)] + [(f"argument {i}", v) for i, v in args_after.items()]
    for where, part in parts:
        try:
            protocol.encode(part, max_bytes)
        except protocol.ProtocolError as exc:
            problem = str(exc)
        except BaseException as exc:  # noqa: BLE001 - student objects may raise anything
            problem = (
                f"an object of type {type(part).__name__} whose conversion raised "
                f"{type(exc).__name__}: {safe_str(exc)}"
            )
        else:
            continue
        return {"id": call_id, "ok": False, "kind": "malformed", "where": where, "problem": problem}
    return {
        "id": call_id, "ok": False, "kind": "malformed", "where": "value",
        "problem": f"a reply larger than {max_bytes} bytes",
    }


def after_call(arg):
    """An argument as the grader gets it back; a generator by its next draw, which shows whether the
    call drew from it (a generator itself cannot cross the channel)."""
    if isinstance(arg, np.random.Generator):
        return int(arg.integers(2**53))
    return arg


TRACE_RECORDS = 4096  # calls kept per traced call; the grader refuses a longer trace
TRACE_ARRAY = 4096  # entries of one recorded array; a larger one is recorded as None
TRACE_FLOATS = 250_000  # numbers kept per traced call (2 MB), well inside the reply limit


def trace_copy(value, depth=0):
    """A bounded plain copy of a traced argument or return value: small numeric arrays as float64, numbers,
    a tuple or list of them and of dicts of them (compute_gradients' (grads, loss, h_last)); anything else is
    None. Never raises."""
    try:
        if isinstance(value, np.ndarray):
            if value.size > TRACE_ARRAY or value.dtype.kind not in "biuf":
                return None
            return np.array(value, dtype=np.float64)
        if isinstance(value, (bool, int, float, np.integer, np.floating)):
            return float(value)
        if depth <= 1 and type(value) is dict:  # a params-shaped dict, alone or in a returned tuple
            return {k: trace_copy(v, 2) for k, v in list(value.items())[:8] if type(k) is str}
        if depth == 0 and isinstance(value, (tuple, list)):
            return [trace_copy(v, 1) for v in list(value)[:8]]
    except BaseException:  # noqa: BLE001 - a hostile object breaks its own record, not the call
        pass
    return None


def _pick(result, positions):
    """The returned tuple's values at ``positions`` (a bounded copy of each), or None if it is no tuple."""
    try:
        if isinstance(result, (tuple, list)):
            return [trace_copy(result[i], 1) if i < len(result) else None for i in positions]
    except BaseException:  # noqa: BLE001 - a hostile sequence breaks its own record
        pass
    return None


def _size(copy):
    if isinstance(copy, np.ndarray):
        return copy.size
    if isinstance(copy, dict):
        return sum(_size(v) for v in copy.values())
    if isinstance(copy, list):
        return sum(_size(v) for v in copy)
    return 1


class Tracer:
    """Records the calls a submission's function makes to the contract's own functions (module-level, or
    methods of the submission's classes with the same names) while one call runs: for each, the arguments
    at the requested positions before the call and the returned value. It changes nothing the functions
    compute; the grader treats what it records as the submission's claim, checked against the call's result."""

    def __init__(self, module, files, wanted):
        self.wanted = {name: ([int(i) for i in spec["args"]][:6],
                              None if spec["ret"] is None else [int(i) for i in spec["ret"]][:6])
                       for name, spec in wanted.items()}
        self.records = []
        self.complete = True  # False once a bound stopped the recording
        self.room = TRACE_FLOATS
        self.undo = []
        self.module = module
        self.files = files

    def _record(self, name, function, method):
        tracer = self
        positions, returned = self.wanted[name]

        signature: list[inspect.Signature] = []  # read on the first traced call: a train makes hundreds

        def traced(*args, **kwargs):
            if not tracer.complete or len(tracer.records) >= TRACE_RECORDS or tracer.room <= 0:
                tracer.complete = False
                return function(*args, **kwargs)
            try:
                if not signature:
                    signature.append(inspect.signature(function))
                bound = signature[0].bind(*args, **kwargs)
                values = list(bound.arguments.values())[1 if method else 0:]
                entry = {"f": name, "args": [trace_copy(values[i]) if i < len(values) else None for i in positions]}
            except BaseException:  # noqa: BLE001 - a call the signature does not take fails as it would anyway
                entry = {"f": name, "args": [None] * len(positions)}
            tracer.records.append(entry)
            result = function(*args, **kwargs)
            entry["ret"] = trace_copy(result) if returned is None else _pick(result, returned)
            tracer.room -= sum(_size(v) for v in (*entry["args"], entry["ret"]))
            return result

        traced.__name__ = getattr(function, "__name__", name)
        traced.__doc__ = getattr(function, "__doc__", None)
        traced.__wrapped__ = function  # type: ignore[attr-defined]  # what inspect.unwrap follows
        return traced

    def report(self):
        return {"calls": self.records, "complete": self.complete}

    def _classes(self):
        for loaded in list(sys.modules.values()):
            if not self.files.owns(getattr(loaded, "__file__", None)):
                continue
            for obj in list(vars(loaded).values()):
                if isinstance(obj, type) and self.files.owns(getattr(sys.modules.get(obj.__module__), "__file__", None)):
                    yield obj

    def __enter__(self):
        namespace = vars(self.module)
        for name in self.wanted:
            if inspect.isfunction(namespace.get(name)):
                self.undo.append((namespace, name, namespace[name]))
                namespace[name] = self._record(name, namespace[name], method=False)
        for cls in set(self._classes()):
            for name in self.wanted:
                if inspect.isfunction(vars(cls).get(name)):
                    original = vars(cls)[name]
                    self.undo.append((cls, name, original))
                    setattr(cls, name, self._record(name, original, method=True))
        return self

    def __exit__(self, *exc):
        for owner, name, original in reversed(self.undo):
            try:
                if isinstance(owner, dict):
                    owner[name] = original
                else:
                    setattr(owner, name, original)
            except BaseException:  # noqa: BLE001 - a class that refuses the restore keeps the recorder
                pass
        return False


def serve(channel, module, root):
    """Answer each request's calls in order, one reply frame per call, sent as soon as the call ends (the grader
    judges each call's time on its own); a batch of several costs the grader one request, not one each.

    A request with "stop" ends at the first call that fails or, with stop["like"], whose value's
    protocol.shape_key is another (or cannot be told): the calls after it are not made, as a loop of single calls that stops there
    would not make them (Sandbox.call_many's Stop)."""
    files = SubmissionFiles(root)
    while True:
        request = channel.receive()
        if request is None:
            return
        stop = request.get("stop")
        for call in request["calls"]:
            if not answer(channel, module, root, files, call, stop) and stop is not None:
                break


def answer(channel, module, root, files, call, stop=None):
    """Make one call and send its reply; whether it answered and, under ``stop``, its value is like stop["like"]
    (a reply that is not says "stop")."""
    protocol = channel.protocol
    call_id, name = call["id"], call["function"]
    args, wanted = call["args"], call["return_args"]
    function = vars(module).get(name)
    if not callable(function):
        channel.send({"id": call_id, **failure("missing_function")})
        return False
    tracer = Tracer(module, files, call["trace"]) if type(call.get("trace")) is dict else None
    start = time.perf_counter()
    try:
        if tracer is None:
            value = function(*args)
        else:
            with tracer:
                value = function(*args)
    except BaseException as exc:  # noqa: BLE001 - every student failure is reported
        seconds = time.perf_counter() - start
        extra = {"code": exit_code(exc)} if isinstance(exc, SystemExit) else {}
        if tracer is not None:
            extra["trace"] = tracer.report()
        channel.send({"id": call_id, "seconds": seconds,
                      **failure(classify(exc), exc, root, **extra)})
        return False
    seconds = time.perf_counter() - start
    args_after = {str(i): after_call(args[i]) for i in wanted}
    reply = {"id": call_id, "ok": True, "value": value, "args": args_after, "seconds": seconds}
    if tracer is not None:
        reply["trace"] = tracer.report()
    alike = stop is None or stop.get("like") is None or like(protocol, value, stop["like"])
    if not alike:
        reply["stop"] = True
    try:
        channel.send(reply)
    except BaseException:  # noqa: BLE001 - explained by malformed_reply
        channel.send(malformed_reply(protocol, channel.max_bytes, call_id, value, args_after))
        return False
    return alike


def like(protocol, value, expected):
    """Whether ``value``'s protocol.shape_key is ``expected``; a value whose shape cannot be told is not alike."""
    try:
        key = protocol.shape_key(value)
    except BaseException:  # noqa: BLE001 - student objects may raise anything
        return False
    return key is not None and key == expected


def setup(config):
    """Everything before student code runs: limits, privileges, the system-call filter, seeds, sys.path."""
    site.setquit()  # exit() and quit() as students know them, without site's .pth hooks
    join_groups(config["cgroups"])
    apply_limits(config["rlimits"], config["strict_limits"])
    if config["user"] is not None:
        drop_privileges(*config["user"])
    if config["parent_pid"] is not None:
        die_with_parent(config["parent_pid"])
    if config["syscall_filter"]:
        # Fail closed: the tier promised no network and no keyring, so an error here stops the worker before
        # rnn.py runs.
        load_sibling(sibling("syscall_filter.py"), "syscall_filter").install()
    # A strong tier's probe checked this; checked here too, since the tier may have been chosen on a pass kept
    # from an earlier grading (grader.sandbox.passes).
    if config["protected"] is not None:
        seen = load_sibling(sibling("reach.py"), "reach").reachable(config["protected"])
        if seen:
            raise PermissionError("the worker could still read " + ", ".join(seen))
    sys.dont_write_bytecode = True
    root = os.path.realpath(config["submission"])
    os.chdir(root)
    stdlib_path = [p for p in sys.path if p not in config["site"]]
    sys.path.insert(0, root)
    sys.meta_path.insert(0, ImportRule(config["allowed"]["modules"], config["allowed"]["declared"], root,
                                       stdlib_path))
    np.random.seed(0)
    random.seed(0)
    return root


def standard_stream_channel():
    """The channel on stdin/stdout (the portable tier): keep private copies of both, then give the
    submission an empty stdin and send its prints to stderr, where the grader captures them."""
    call_fd, reply_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(0, closefd=False)  # fd 0 now reads the null device
    if sys.platform == "win32":
        import msvcrt

        for fd in (call_fd, reply_fd):
            msvcrt.setmode(fd, os.O_BINARY)
    return call_fd, reply_fd


def main():
    config = CONFIG
    protocol = load_sibling(config["protocol"], "protocol")
    call_fd, reply_fd = standard_stream_channel() if config.get("stdio") else (config["call_fd"], config["reply_fd"])
    channel = Channel(protocol, call_fd, reply_fd, config["max_bytes"])
    try:
        root = setup(config)
    except BaseException:  # noqa: BLE001 - a sandbox fault, reported as such, not the student's
        channel.send({"ok": False, "kind": "setup", "detail": traceback.format_exc()})
        raise
    channel.send(READY)
    # The grader may start a worker ahead of its use: rnn.py is imported only once it says so.
    if channel.receive() != LOAD:
        return
    # The submission may have been copied in after this worker started (Sandbox.admit): directory listings
    # cached since then, at a file time too coarse to tell, would hide its helper modules.
    importlib.invalidate_caches()
    path = os.path.join(root, config["module"] + ".py")
    # As `python rnn.py` sets it: a top-level argparse would otherwise parse this worker's configuration.
    sys.argv = [config["module"] + ".py"]
    try:
        spec = importlib.util.spec_from_file_location(config["module"], path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[config["module"]] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - every import failure is reported
        kind = "import_error" if classify(exc) == "exception" else classify(exc)
        extra = {"code": exit_code(exc)} if isinstance(exc, SystemExit) else {}
        channel.send(failure(kind, exc, root, **extra))
        return
    channel.send({"ok": True, "functions": describe_functions(module, config["functions"])})
    serve(channel, module, root)


if __name__ == "__main__":
    main()
