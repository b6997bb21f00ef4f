"""Wire format between the grader and the sandbox worker.

This module is loaded on both sides, including inside the sandbox, so it may use
only the standard library and numpy, and must not import anything from `grader`.

A frame is: MAGIC, the JSON header length and the payload length (little-endian
uint64 each), the UTF-8 JSON header, then the raw bytes of every array in the order
the header mentions them. JSON values are plain data; two tagged objects carry the
rest, so nothing a student returns can be confused with a tag:

    {"dict": {...}}                                  a dict with str keys
    {"array": {"dtype": "float64", "shape": [2, 3], "nbytes": 48}}
    {"rng": 7}                                       RngSeed (grader to worker only)

Decoding never evaluates code (no pickle), and every array is copied out of the
frame into a fresh base-class numpy.ndarray. The decoder trusts nothing the frame
says: before the header is parsed, its items are counted (a forged header of a
million empty lists would otherwise cost gigabytes), and every string is made
printable (no lone surrogates, control or escape characters reach the grader's
outputs or terminal).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import struct
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

MAGIC = b"RNNG1\x00\x00\x00"
PREFIX = struct.Struct("<8sQQ")
DTYPES: Mapping[str, np.dtype] = MappingProxyType({
    "float64": np.dtype("<f8"),
    "float32": np.dtype("<f4"),
    "int64": np.dtype("<i8"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("bool"),
})
_WIRE_NAMES: Mapping[np.dtype, str] = MappingProxyType({dtype: name for name, dtype in DTYPES.items()})  # looked up at once
MAX_DEPTH = 32
MAX_NODES = 1_000_000
# Bulk data travels as arrays in the payload; the JSON header holds the structure and small values.
MAX_HEADER_BYTES = 16 * 1024**2
# Kept: tab and newline. Escaped: other controls (ESC starts terminal sequences, CR overwrites lines),
# lone surrogates (not encodable as UTF-8) and the bidirectional overrides that reorder what is shown.
UNPRINTABLE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"  # a character class's inside
_UNPRINTABLE = re.compile(f"[{UNPRINTABLE}]")


def printable(text: str) -> str:
    """``text`` with every character that could break a file's encoding or steer a terminal spelled out."""
    if text.isascii() and text.isprintable():
        return text  # nothing to escape (the common case: every dict key), found without the expression
    return _UNPRINTABLE.sub(escape, text)


def escape(match: re.Match) -> str:
    """A character `_UNPRINTABLE` matched, spelled out."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class ProtocolError(ValueError):
    """The data is not what the protocol allows; the message says what and why."""


@dataclasses.dataclass(frozen=True)
class RngSeed:
    """Stands for `np.random.default_rng(seed)`, which the worker builds itself."""

    seed: int

    def __post_init__(self):
        if type(self.seed) is not int or self.seed < 0:
            raise ValueError(f"RngSeed needs a non-negative int, not {self.seed!r}")


def _type_name(obj) -> str:
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", None) or cls.__name__
    return name if module in ("builtins", "") else f"{module}.{name}"


class _Encoder:
    """Turns plain data into (JSON-able tree, list of array byte strings)."""

    def __init__(self, max_bytes: int, allow_rng: bool):
        self.max_bytes = max_bytes
        self.allow_rng = allow_rng
        self.blobs: list[bytes] = []
        self.total = 0
        self.nodes = 0

    def encode(self, obj, depth: int = 0):
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise ProtocolError(f"data is nested more than {MAX_DEPTH} levels deep")
        if self.nodes > MAX_NODES:
            raise ProtocolError(f"data has more than {MAX_NODES} items; use arrays for large data")
        # type() rather than isinstance(): a fake __class__ must not pass for a number.
        cls = type(obj)
        if cls is int or cls is float or cls is str or cls is bool or obj is None:
            return obj  # already plain (told by identity, which no metaclass can fake)
        # Array types come first: numpy scalars subclass float and must stay arrays.
        if issubclass(cls, (np.ndarray, np.generic)):
            return self._array(obj)
        if obj is None or cls is bool:
            return obj
        if issubclass(cls, int):
            return self._exact(int(obj), int)
        if issubclass(cls, float):
            return self._exact(float(obj), float)
        if issubclass(cls, str):
            return self._exact(str(obj), str)
        if issubclass(cls, (list, tuple)):
            return [self.encode(item, depth + 1) for item in list(obj)]
        if issubclass(cls, dict):
            out = {}
            for key, value in list(dict.items(obj)):
                if not issubclass(type(key), str):
                    raise ProtocolError(
                        f"a dict key of type {_type_name(key)}; only str keys are allowed"
                    )
                out[self._exact(str(key), str)] = self.encode(value, depth + 1)
            return {"dict": out}
        if cls is RngSeed:
            if not self.allow_rng:
                raise ProtocolError("a random generator cannot be sent back")
            return {"rng": int(obj.seed)}
        if hasattr(cls, "__array__"):
            return self._array(obj)
        raise ProtocolError(
            f"an object of type {_type_name(obj)} where plain numbers/arrays were expected"
        )

    @staticmethod
    def _exact(value, kind):
        if type(value) is not kind:
            name = kind.__name__
            raise ProtocolError(f"a {name} that does not convert to a plain {name}")
        return value

    def _array(self, obj):
        name = _WIRE_NAMES.get(obj.dtype) if type(obj) is np.ndarray else None
        if name is not None:
            data = obj.tobytes()  # a plain little-endian array already: its bytes in C order are the copy
            arr = obj
        else:
            arr, name = self._converted(obj)
            data = np.ascontiguousarray(arr, dtype=DTYPES[name]).tobytes()
        self.total += len(data)
        if self.total > self.max_bytes:
            raise ProtocolError(
                f"more than {self.max_bytes} bytes of array data (limit of the sandbox)"
            )
        self.blobs.append(data)
        return {"array": {"dtype": name, "shape": [int(n) for n in arr.shape], "nbytes": len(data)}}

    @staticmethod
    def _converted(obj) -> tuple[np.ndarray, str]:
        """``obj`` as a plain array of its own, and the name of its dtype on the wire."""
        try:
            # subok=False and copy: whatever the object is, what we send is a plain array.
            arr = np.array(obj, subok=False, copy=True)
        except Exception as exc:  # noqa: BLE001 - any failure means "not an array"
            raise ProtocolError(
                f"an object of type {_type_name(obj)} that could not be turned into an array "
                f"({type(exc).__name__})"
            ) from None
        if type(arr) is not np.ndarray:
            raise ProtocolError(f"an object of type {_type_name(obj)} that is not a plain array")
        # Byte order is a representation detail; the wire is always little-endian.
        little = arr.dtype.newbyteorder("<")
        name = next((n for n, dt in DTYPES.items() if little == dt), None)
        if name is None:
            allowed = ", ".join(DTYPES)
            raise ProtocolError(f"an array of dtype {arr.dtype}; allowed dtypes are {allowed}")
        return arr, name


def encode(message, max_bytes: int, allow_rng: bool = False) -> bytes:
    """Encode `message` as one frame. Raises ProtocolError for anything not plain data."""
    encoder = _Encoder(max_bytes, allow_rng)
    tree = encoder.encode(message)
    try:
        header = json.dumps(tree, allow_nan=True, separators=(",", ":")).encode("utf-8")
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"data that cannot be written as plain data ({exc})") from None
    if len(header) > MAX_HEADER_BYTES:
        raise ProtocolError(f"more than {MAX_HEADER_BYTES} bytes of numbers outside arrays; use arrays "
                            "for large data")
    payload = b"".join(encoder.blobs)
    if len(header) + len(payload) > max_bytes:
        raise ProtocolError(f"more than {max_bytes} bytes of data (limit of the sandbox)")
    return PREFIX.pack(MAGIC, len(header), len(payload)) + header + payload


MAX_SHAPE_NODES = 10_000
_SCALARS = frozenset({np.float64, np.float32, np.int64, np.int32, np.bool_})  # numpy's own, sent as 0-d arrays


def shape(value) -> list:
    """What a value is as the channel carries it, bar its numbers: each array's dtype, its dimensions and whether
    every entry is finite; each float's finiteness; ints, bools and None as they are; str as "str"; a dict's keys
    (as printable() shows them) in order. A value the grader decoded has the shape the worker's value had before
    it was sent; something the encoder would have to convert (a subclass, a big-endian array, an object with
    __array__), deeper than MAX_DEPTH or with more than MAX_SHAPE_NODES items is ["other"] there."""
    return _shape(value)[0]


def shape_key(value) -> str | None:
    """A digest of ``value``'s shape, of one size whatever the value's depth and length, so that it fits in a
    request (Sandbox.call_many's Stop: a shape as deep as the value could exceed MAX_DEPTH); None when part
    of the shape cannot be told (["other"]): such a value is like no other, not like every other."""
    told, complete = _shape(value)
    if not complete:
        return None
    return hashlib.sha256(json.dumps(told, separators=(",", ":")).encode()).hexdigest()


def _shape(value) -> tuple[list, bool]:
    """shape(value), and whether no part of it is ["other"]."""
    nodes, complete = [0], [True]

    def other() -> list:
        complete[0] = False
        return ["other"]

    def walk(obj, depth: int) -> list:
        nodes[0] += 1
        if depth > MAX_DEPTH or nodes[0] > MAX_SHAPE_NODES:
            return other()
        cls = type(obj)
        if cls is bool or cls is int or obj is None:
            return [_type_name(obj), obj]
        if cls is float:
            return ["float", math.isfinite(obj)]
        if cls is str:
            return ["str"]
        if cls is list or cls is tuple:
            return ["list", [walk(item, depth + 1) for item in obj]]
        if cls is dict:
            if not all(type(key) is str for key in obj):
                return other()
            return ["dict", [[printable(key), walk(item, depth + 1)] for key, item in obj.items()]]
        name = _WIRE_NAMES.get(obj.dtype) if cls is np.ndarray or cls in _SCALARS else None
        if name is None:
            return other()
        finite = obj.dtype.kind != "f" or bool(np.isfinite(obj).all())
        return ["array", name, [int(n) for n in np.shape(obj)], finite]

    return walk(value, 0), complete[0]


def parse_prefix(prefix: bytes, max_bytes: int) -> tuple[int, int]:
    """Check a frame prefix; return (header length, payload length)."""
    if len(prefix) != PREFIX.size:
        raise ProtocolError(f"a truncated frame ({len(prefix)} of {PREFIX.size} prefix bytes)")
    magic, header_len, payload_len = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ProtocolError(
            f"bytes that are not a sandbox frame (starting {prefix[:16]!r}); "
            "something other than the worker wrote to the grader's channel"
        )
    if header_len + payload_len > max_bytes:
        raise ProtocolError(
            f"a reply of {header_len + payload_len} bytes, over the limit of {max_bytes} bytes"
        )
    if header_len > MAX_HEADER_BYTES:
        raise ProtocolError(
            f"a frame header of {header_len} bytes, over the limit of {MAX_HEADER_BYTES} bytes"
        )
    return header_len, payload_len


class _Decoder:
    def __init__(self, payload: bytes, allow_rng: bool):
        self.payload = payload
        self.offset = 0
        self.allow_rng = allow_rng

    def decode(self, node, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ProtocolError(f"data nested more than {MAX_DEPTH} levels deep")
        kind = type(node)
        if kind is int or kind is float or kind is bool or node is None:
            return node
        if kind is str:
            return printable(node)
        if kind is list:
            return [self.decode(item, depth + 1) for item in node]
        if type(node) is dict and len(node) == 1:
            (tag, body), = node.items()
            if tag == "dict" and type(body) is dict:
                return {printable(key): self.decode(value, depth + 1) for key, value in body.items()}
            if tag == "array" and type(body) is dict:
                return self._array(body)
            if tag == "rng" and self.allow_rng and type(body) is int and body >= 0:
                return np.random.default_rng(body)
        raise ProtocolError(f"an unexpected element {str(node)[:80]!r} in the frame header")

    def _array(self, body: dict) -> np.ndarray:
        if set(body) != {"dtype", "shape", "nbytes"}:
            raise ProtocolError(f"an array header with fields {sorted(body)}")
        dtype, shape, nbytes = body["dtype"], body["shape"], body["nbytes"]
        if type(dtype) is not str or dtype not in DTYPES:
            raise ProtocolError(f"an array of dtype {dtype!r}; allowed are {', '.join(DTYPES)}")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError(f"an array with an invalid shape {shape!r}")
        if len(shape) > MAX_DEPTH:
            raise ProtocolError(f"an array with {len(shape)} dimensions")
        expected = math.prod(shape) * DTYPES[dtype].itemsize
        if type(nbytes) is not int or nbytes != expected:
            raise ProtocolError(
                f"an array of shape {tuple(shape)} and dtype {dtype} announcing {nbytes!r} bytes "
                f"instead of {expected}"
            )
        end = self.offset + nbytes
        if end > len(self.payload):
            raise ProtocolError("array data shorter than its header announces")
        raw = self.payload[self.offset:end]
        self.offset = end
        # frombuffer views the frame; copy() gives a fresh, writable, base-class ndarray.
        return np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape).copy()


def decode(header: bytes, payload: bytes, allow_rng: bool = False):
    """Decode a frame body (after parse_prefix). Raises ProtocolError when malformed."""
    _count_items(header)
    try:
        tree = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        problem = f"a frame header that is not valid JSON ({type(exc).__name__})"
        raise ProtocolError(problem) from None
    decoder = _Decoder(payload, allow_rng)
    value = decoder.decode(tree)
    if decoder.offset != len(payload):
        raise ProtocolError(
            f"{len(payload) - decoder.offset} bytes of array data that no header describes"
        )
    return value


def _count_items(header: bytes) -> None:
    """Refuse a header that would parse into more than MAX_NODES items, before parsing it.

    Every item but a container's first follows a comma, and every container opens with a bracket; so
    items <= commas + 2 * brackets + 1. Commas and brackets inside strings count too, which can only
    overestimate (the worker keeps its strings short).
    """
    items = header.count(b",") + 2 * (header.count(b"[") + header.count(b"{")) + 1
    if items > MAX_NODES:
        raise ProtocolError(f"a frame header of about {items} items, more than the {MAX_NODES} allowed")


def decode_frame(frame: bytes, max_bytes: int, allow_rng: bool = False):
    """Decode a whole frame held in memory (prefix included)."""
    header_len, payload_len = parse_prefix(frame[:PREFIX.size], max_bytes)
    body = frame[PREFIX.size:]
    if len(body) != header_len + payload_len:
        raise ProtocolError(
            f"a frame of {len(body)} bytes where its prefix announces {header_len + payload_len}"
        )
    return decode(body[:header_len], body[header_len:], allow_rng)
