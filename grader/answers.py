"""The reference's answers, kept: a costly answer is computed once, then read back in every grading after.

An answer of the reference (or of one of its hint variants) is a function of what computes it and of what
it is asked: the code (reference.rnn, grader.checks.variants and the grader modules they use, numpy's
version), the course's conventions the model is built with (its options), and the call's arguments, which
hold the case (drawn under the case salt: the salt is in its seeds and numbers). The key is a digest of all
of that, so a class's gradings, which ask the same cases, share answers, and a second run of the class reads
them instead of training the reference again. That holds because the reference and its variants read
nothing but their arguments (no global random state, no clock). Arguments that are not plain data (numbers,
strings, numpy arrays, lists, tuples, dicts, a numpy Generator; not a callable or an object, whose state the
key could not see) make a call that is simply not kept.

The checks engine keeps its passing runs (a check's drawn cases under a salt) here too, as answers of its own
name (grader.checks.core.KEPT_RUN) in the oracle's store.

Which answers are kept: those that took at least ``MIN_SECONDS`` of CPU time. In alice's grading six of
the reference's 349 answers (training runs: the report's curve, one check's long run) take 0.44 s of the
oracle's 0.49 s; reading one back costs about a millisecond, so cheaper answers are computed again. An answer
that changed its arguments in place, or shares memory with them, is not kept either: a value alone would not
replay it.

Where: ``<cache folder>/answers/<context>/<key>.npz``: numpy's npz read with pickles refused, the value's
structure as JSON (member ``entry``, which also names its key and format) and its arrays as .npy members.
Trust: the folder is the grader's own. It is made 0700 and used only while it is this user's and closed to
everyone else, since it holds the expected values of the hidden cases and a planted answer would change
grades; no strong sandbox tier sees it (bubblewrap binds no home or cache folder, the other-uid tier is kept
out by the mode). The plain-process tier, which runs only under --allow-weak-sandbox, runs the submission as
this user: it can write here as it can every file of the grader's (README, "The sandbox"). An entry is believed only when it is a regular file of this user whose zip checksums, format and
key all match; anything else (torn, foreign, from another version) is ignored, computed again and rewritten.
Concurrent gradings write through grader.atomic, so a reader sees a whole entry or none, and two writers of
one key write the same answer.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import json
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.atomic import write_whole
from grader.private import private_folder, read_private

FOLDER = "answers"
FORMAT = 1
MIN_SECONDS = 1e-3  # CPU time of an answer worth keeping: reading one back costs about a millisecond
MAX_ENTRY_BYTES = 256 * 1024**2
_ENTRY = "entry"
_MISSING = object()


class _NotPlain(Exception):
    """A value the store does not key or keep (an object, a subclass of a plain type, an object array)."""


class Answers:
    """The kept answers of one context (the code and the conventions that compute them)."""

    def __init__(self, folder: Path, context: str, min_seconds: float = MIN_SECONDS):
        self.folder = folder  # <cache folder>/answers/<context>, checked private by ``open``
        self.context = context
        self.min_seconds = min_seconds

    @classmethod
    def open(cls, cache_dir: Path, context: str, min_seconds: float = MIN_SECONDS) -> Answers | None:
        """The store under ``cache_dir``, made if missing; None when it cannot be made, or is not private to
        this user (then every answer is computed, as without a cache)."""
        folder = private_folder(Path(cache_dir), FOLDER, context)
        return None if folder is None else cls(folder, context, min_seconds)

    def answer(self, name: str, args: tuple, kwargs: dict, compute: Callable[[], Any]) -> Any:
        """The kept answer of ``name(*args, **kwargs)``, or ``compute()``'s, kept when it was costly."""
        try:
            before = _argument_digests(args, kwargs)
        except _NotPlain:
            return compute()
        key = hashlib.sha256("\0".join([self.context, name, *before]).encode()).hexdigest()
        found = self._read(key)
        if found is not _MISSING:
            return found
        started = time.thread_time()  # this thread's: the report's diagnostics may run beside the checks
        value = compute()
        if time.thread_time() - started >= self.min_seconds and _kept_as_is(value, args, kwargs, before):
            self._write(key, value)
        return value

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def _read(self, key: str) -> Any:
        data = read_private(self._path(key), MAX_ENTRY_BYTES)
        if data is None:
            return _MISSING
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as members:
                entry = json.loads(members[_ENTRY].tobytes())
                if entry.get("format") != FORMAT or entry.get("key") != key:
                    return _MISSING
                arrays = [members[f"a{i}"] for i in range(int(entry["arrays"]))]
            return _decode(entry["value"], arrays)
        except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile):
            return _MISSING  # torn, foreign or not the grader's: computed again and rewritten

    def _write(self, key: str, value: Any) -> None:
        arrays: list[np.ndarray] = []
        try:
            tree = _encode(value, arrays)
        except _NotPlain:
            return
        entry = json.dumps({"format": FORMAT, "key": key, "arrays": len(arrays), "value": tree}).encode()
        buffer = io.BytesIO()
        members = {f"a{i}": a for i, a in enumerate(arrays)}
        members[_ENTRY] = np.frombuffer(entry, dtype=np.uint8)
        # No object arrays reach here (_encode refuses them); numpy 1.26's savez has no allow_pickle to say so.
        np.savez(buffer, **members)  # type: ignore[arg-type]
        try:
            write_whole(self._path(key), buffer.getvalue(), mode=0o600)
        except OSError:
            pass  # a full disk or a removed folder: the answer is computed again next time


def context(options: dict[str, Any], modules: tuple[ModuleType, ...]) -> str:
    """The digest of what computes the answers: the model's options, the code of ``modules`` and of the
    grader and reference modules they use, numpy's version and this store's format."""
    digest = hashlib.sha256(json.dumps({"format": FORMAT, "numpy": np.__version__, "options": options},
                                       sort_keys=True).encode())
    digest.update(_code_digest(tuple(m.__name__ for m in modules)).encode())
    return digest.hexdigest()[:32]


@functools.cache
def _code_digest(names: tuple[str, ...]) -> str:
    """Digest of the source files of the modules ``names`` and of every grader or reference module they
    reach through their globals (a changed helper of the variants changes their answers too)."""
    seen: dict[str, bytes] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        module = sys.modules.get(name) or importlib.import_module(name)
        origin = getattr(module, "__file__", None)
        seen[name] = Path(origin).read_bytes() if origin else b""
        pending.extend(used for used in map(_home_module, vars(module).values()) if used and used not in seen)
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(f"{name}\0{hashlib.sha256(seen[name]).hexdigest()}\0".encode())
    return digest.hexdigest()


def _home_module(value: Any) -> str | None:
    """The grader or reference module that defines ``value`` (a module, class or function), else None."""
    name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
    if not isinstance(name, str) or name.split(".")[0] not in ("grader", "reference"):
        return None
    return name


def _digest(value: Any) -> str:
    digest = hashlib.sha256()
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    """Every plain value by its exact type and content, so no two different arguments feed the same bytes."""
    kind = type(value)
    if value is None or kind is bool:
        digest.update(repr(value).encode() + b";")
    elif isinstance(value, np.generic):
        digest.update(f"g{value.dtype.str};".encode() + value.tobytes())
    elif kind is int or kind is float:
        digest.update(f"{kind.__name__[0]}{value.hex() if kind is float else value};".encode())
    elif kind is str:
        raw = value.encode("utf-8", "surrogatepass")
        digest.update(f"s{len(raw)};".encode() + raw)
    elif kind is np.ndarray:
        if value.dtype.hasobject:
            raise _NotPlain(value.dtype)
        layout = "C" if value.flags.c_contiguous else "F" if value.flags.f_contiguous else "N"
        digest.update(f"a{value.dtype.str}{value.shape}{layout};".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif kind is list or kind is tuple:
        digest.update(f"{kind.__name__[0]}{len(value)};".encode())
        for item in value:
            _feed(digest, item)
    elif kind is dict:
        digest.update(f"d{len(value)};".encode())
        for k, item in value.items():
            _feed(digest, k)
            _feed(digest, item)
    elif kind is np.random.Generator:
        try:
            state = json.dumps(value.bit_generator.state, sort_keys=True)
        except TypeError:  # a bit generator whose state holds arrays
            raise _NotPlain(kind) from None
        digest.update(f"r{len(state)};{state}".encode())
    else:
        raise _NotPlain(kind)


def _argument_digests(args: tuple, kwargs: dict) -> list[str]:
    """One digest per argument, keyword arguments by name; _NotPlain for one the store does not key."""
    return [_digest(a) for a in args] + [_digest((k, v)) for k, v in sorted(kwargs.items())]


def _kept_as_is(value: Any, args: tuple, kwargs: dict, before: list[str]) -> bool:
    """Whether ``value`` alone replays the call: the arguments are as they were, and ``value`` shares no
    object or memory with them."""
    try:
        after = _argument_digests(args, kwargs)
    except _NotPlain:
        return False
    if after != before:
        return False
    given = list(_parts((args, kwargs)))
    ids = {id(p) for p in given}
    given_arrays = [p for p in given if isinstance(p, np.ndarray)]
    for part in _parts(value):
        if id(part) in ids:
            return False
        if isinstance(part, np.ndarray) and any(np.may_share_memory(part, a) for a in given_arrays):
            return False
    return True


def _parts(value: Any) -> Iterator[Any]:
    """The containers and arrays in ``value``, itself included."""
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        yield value
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _parts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _parts(item)


def _encode(value: Any, arrays: list[np.ndarray]) -> Any:
    """``value`` as JSON, its arrays (and numpy scalars, as 0-d arrays) appended to ``arrays``. Every type
    comes back exact: a tuple as a tuple, np.float64 as np.float64, a Fortran-ordered array as one."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if isinstance(value, np.generic) or kind is np.ndarray:
        array = np.asarray(value)
        if array.dtype.hasobject or not (array.flags.c_contiguous or array.flags.f_contiguous):
            raise _NotPlain(kind)
        arrays.append(array)
        return {"scalar" if isinstance(value, np.generic) else "array": len(arrays) - 1}
    if kind is list:
        return [_encode(v, arrays) for v in value]
    if kind is tuple:
        return {"tuple": [_encode(v, arrays) for v in value]}
    if kind is dict and all(type(k) is str for k in value):
        return {"dict": [[k, _encode(v, arrays)] for k, v in value.items()]}
    raise _NotPlain(kind)


def _decode(tree: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(tree, list):
        return [_decode(v, arrays) for v in tree]
    if not isinstance(tree, dict):
        return tree
    (tag, content), = tree.items()
    if tag == "scalar":
        scalar = arrays[content]
        if scalar.ndim:
            raise ValueError("a scalar entry holds an array")
        return scalar[()]
    if tag == "array":
        return arrays[content]
    if tag == "tuple":
        return tuple(_decode(v, arrays) for v in content)
    if tag == "dict":
        return {str(k): _decode(v, arrays) for k, v in content}
    raise ValueError(f"unknown entry tag {tag!r}")
