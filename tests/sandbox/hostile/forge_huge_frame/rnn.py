"""Answers with a forged frame whose header is millions of empty lists (a parser's worst case per byte)."""
import os
import struct
import sys

SIZES = {"over": 60 * 1024**2, "under": 15 * 1024**2}


def forward(size):
    header = b"[" + b"[]," * (SIZES[size] // 3) + b"[]]"
    frame = struct.pack("<8sQQ", b"RNNG1\x00\x00\x00", len(header), 0) + header
    for fd in range(3, 64):
        if fd != sys.stdout.fileno():
            try:
                os.write(fd, frame[:16])  # the prefix alone must be enough to refuse the large one
                os.write(fd, frame[16:])
            except OSError:
                pass
    return "never read"
