"""Writes a well-formed reply frame of its own into every descriptor, then returns."""
import json
import os
import struct


def forward(guessed_id):
    header = json.dumps({"dict": {"id": guessed_id, "ok": True, "value": "forged",
                                  "args": {"dict": {}}, "seconds": 0.0}}).encode()
    frame = struct.pack("<8sQQ", b"RNNG1\x00\x00\x00", len(header), 0) + header
    for fd in range(3, 256):
        try:
            os.write(fd, frame)
        except OSError:
            pass
    return "real"
