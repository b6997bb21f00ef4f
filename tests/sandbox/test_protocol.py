"""The wire codec: round trips and refusals, independent of any worker."""

import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from grader.sandbox import RngSeed
from grader.sandbox.protocol import MAGIC, MAX_HEADER_BYTES, PREFIX, ProtocolError, decode_frame, encode

CAP = 1 << 20


def roundtrip(value, allow_rng=False):
    return decode_frame(encode(value, CAP, allow_rng), CAP, allow_rng)


def frame(header: bytes, payload: bytes = b"") -> bytes:
    return PREFIX.pack(MAGIC, len(header), len(payload)) + header + payload


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, True, None, "text", float("nan")], "b": {"c": (3, 4)}, "big": 2**70}
    back = roundtrip(value)
    assert back["a"][:5] == [1, 2.5, True, None, "text"] and np.isnan(back["a"][5])
    assert back["b"] == {"c": [3, 4]} and back["big"] == 2**70


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "bool"])
def test_arrays_roundtrip_as_fresh_base_arrays(dtype):
    original = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    back = roundtrip({"x": original, "empty": np.zeros((0, 2), dtype)})
    assert type(back["x"]) is np.ndarray and back["x"].dtype == np.dtype(dtype)
    assert np.array_equal(back["x"], original) and back["x"].flags.writeable
    assert back["x"].flags.owndata and back["empty"].shape == (0, 2)


def test_numpy_scalars_become_zero_d_arrays():
    back = roundtrip([np.float64(1.5), np.int32(3), np.bool_(True)])
    assert [(type(v), v.shape, v.dtype.name) for v in back] == [
        (np.ndarray, (), "float64"), (np.ndarray, (), "int32"), (np.ndarray, (), "bool")]


def test_non_contiguous_and_big_endian_arrays_are_normalised():
    a = np.arange(20.0).reshape(4, 5)[:, ::2]
    assert np.array_equal(roundtrip(a), a)
    assert np.array_equal(roundtrip(a.astype(">f8")), a)


def test_rng_seed_only_where_allowed():
    rng = roundtrip(RngSeed(5), allow_rng=True)
    assert isinstance(rng, np.random.Generator)
    assert rng.random() == np.random.default_rng(5).random()
    with pytest.raises(ProtocolError, match="random generator"):
        encode(RngSeed(5), CAP)
    with pytest.raises(ProtocolError, match="unexpected element"):
        decode_frame(frame(b'{"rng": 5}'), CAP)


@pytest.mark.parametrize("value, message", [
    (np.zeros(3, dtype=complex), "dtype complex128"),
    (np.zeros(3, dtype=np.float16), "dtype float16"),
    (np.array([object()]), "dtype object"),
    ({1: 2}, "dict key of type int"),
    ({1.5: 2}, "dict key of type float"),
    (object(), "object of type object where plain numbers/arrays were expected"),
    ({"s": {1, 2}}, "object of type set"),
    (np.zeros(CAP), "more than"),
])
def test_encoder_refuses(value, message):
    with pytest.raises(ProtocolError, match=message):
        encode(value, CAP)


def test_cycles_and_depth_are_refused():
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ProtocolError, match="nested"):
        encode(cyclic, CAP)


def test_subclasses_are_flattened_to_exact_types():
    class Num(float):
        def __eq__(self, other):
            return True

    class Sub(np.ndarray):
        pass

    back = roundtrip([Num(2.0), np.zeros(2).view(Sub)])
    assert type(back[0]) is float and back[0] == 2.0 and back[0] != 3.0
    assert type(back[1]) is np.ndarray


@pytest.mark.parametrize("raw, message", [
    (b"\x80\x04pickle-junk-000000000000000000", "not a sandbox frame"),
    (PREFIX.pack(MAGIC, 10**9, 0), "over the limit"),
    (PREFIX.pack(MAGIC, 0, 0)[:10], "truncated"),
    (frame(b'{"array": {"dtype": "object", "shape": [1], "nbytes": 8}}', b"\0" * 8), "dtype"),
    (frame(b'{"array": {"dtype": "float64", "shape": [2], "nbytes": 8}}', b"\0" * 8),
     "instead of 16"),
    (frame(b'{"array": {"dtype": "float64", "shape": [-1], "nbytes": 8}}', b"\0" * 8), "shape"),
    (frame(b'{"array": {"dtype": "float64", "shape": [1], "nbytes": 8}}', b"\0" * 4),
     "announces"),
    (frame(b'{"dict": {"a": 1}, "x": 2}'), "unexpected element"),
    (frame(b'{"__reduce__": 1}'), "unexpected element"),
    (frame(b"[1, 2"), "not valid JSON"),
    (frame(b"1", b"extra"), "no header describes"),
])
def test_decoder_refuses_malformed_frames(raw, message):
    with pytest.raises(ProtocolError, match=message):
        decode_frame(raw, CAP)


def test_header_lengths_are_checked_before_reading():
    # A prefix announcing 2**63 bytes must fail on the numbers alone.
    with pytest.raises(ProtocolError, match="over the limit"):
        decode_frame(struct.pack("<8sQQ", MAGIC, 2**62, 2**62), CAP)


FORGED = """
import resource, sys
from grader.sandbox import protocol
resource.setrlimit(resource.RLIMIT_AS, (768 * 1024**2,) * 2)  # the unbounded decoder needed 3.3 GB here
size = 64 * 1024**2
headers = {{
    "empty lists": b"[" + b"[]," * (size // 3 - 1) + b"[]]",
    "zeros": b"[" + b"0," * (size // 2 - 1) + b"0]",
    "one long string": b'["' + b"ab" * (size // 2 - 2) + b'"]',
    "empty lists under the header limit": b"[" + b"[]," * ({limit} // 3 - 1) + b"[]]",
}}
for name, header in headers.items():
    frame = protocol.PREFIX.pack(protocol.MAGIC, len(header), 0) + header
    try:
        protocol.decode_frame(frame, size + 64)
    except protocol.ProtocolError as exc:
        print(name, "->", exc)
    del frame, header
"""


def test_a_forged_reply_frame_is_refused_before_it_can_grow_the_graders_memory():
    """A 64 MiB header of empty lists took 3.3 GB and 41 s to refuse; now the sizes and counts decide."""
    done = subprocess.run([sys.executable, "-c", FORGED.format(limit=MAX_HEADER_BYTES)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 4, done.stdout
    assert all("over the limit" in line for line in lines[:3])
    assert "more than the 1000000 allowed" in lines[3]


def test_a_header_of_too_many_numbers_is_refused_by_the_encoder_with_a_hint_to_use_arrays():
    with pytest.raises(ProtocolError, match="use arrays"):
        encode([0.123456789] * (MAX_HEADER_BYTES // 10), 1 << 30)


def test_strings_come_out_printable_whatever_the_sandbox_sent():
    hostile = "\x1b[2J\x1b]0;pwned\x07 tab\tnew\nline\r\ud800 \u202eevil \x9b"
    back = decode_frame(frame(json.dumps({"dict": {hostile: hostile}}).encode()), CAP)
    (key, value), = back.items()
    assert key == value
    assert value == "\\x1b[2J\\x1b]0;pwned\\x07 tab\tnew\nline\\x0d\\ud800 \\u202eevil \\x9b"
    value.encode("utf-8")  # no lone surrogate left
