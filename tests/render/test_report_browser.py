"""The report as a browser draws it: headless Chromium takes a screenshot, and the plot's curves must show."""

import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from grader.outputs import write_outputs
from grader.render.html import REFERENCE_COLOR, SUBMISSION_COLOR

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--hide-scrollbars",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]


def read_png(path: Path) -> np.ndarray:
    """An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) as an (h, w, channels) array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    assert depth == 8 and color_type in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    channels = 3 if color_type == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8).reshape(height, 1 + width * channels)
    rows = []
    previous = np.zeros(width * channels, dtype=np.uint8)
    for kind, line in zip(raw[:, 0], raw[:, 1:], strict=True):
        previous = _unfilter(int(kind), line, previous, channels)
        rows.append(previous)
    return np.array(rows).reshape(height, width, channels)[:, :, :3].astype(np.int32)


def _unfilter(kind: int, line: np.ndarray, up: np.ndarray, channels: int) -> np.ndarray:
    """Undo one row's PNG filter (None, Sub, Up, Average, Paeth); the last two go byte by byte."""
    if kind == 0:
        return line
    if kind == 1:
        return (np.cumsum(line.reshape(-1, channels), axis=0, dtype=np.uint64) % 256).astype(np.uint8).reshape(-1)
    if kind == 2:
        return line + up  # uint8 arithmetic wraps modulo 256, as the filter does
    row = [0] * len(line)
    current, above = line.tolist(), up.tolist()
    for x in range(len(row)):
        a = row[x - channels] if x >= channels else 0
        b = above[x]
        if kind == 3:
            predicted = (a + b) // 2
        else:
            c = above[x - channels] if x >= channels else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predicted = a if pa <= pb and pa <= pc else b if pb <= pc else c
        row[x] = (current[x] + predicted) & 0xFF
    return np.array(row, dtype=np.uint8)


def _pixels_of(image: np.ndarray, color: str, tolerance: int = 12) -> int:
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    return int(np.all(np.abs(image - rgb) <= tolerance, axis=2).sum())


def test_the_report_draws_both_curves(tmp_path, result):
    report = write_outputs(result, tmp_path / "out")["report"]
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=900,1700",
            report.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = read_png(shot)
    assert image.shape[:2] == (1700, 900)
    assert _pixels_of(image, SUBMISSION_COLOR) > 300, "the submission's curve is not drawn"
    assert _pixels_of(image, REFERENCE_COLOR) > 300, "the reference's curve is not drawn"
