"""Fills the disk with many files, each under the per-file limit: in its own folder, or in its temporary one."""
import os
import tempfile


def forward(count, kib, where):
    folder = tempfile.gettempdir() if where == "tmp" else "."
    block = b"x" * (kib * 1024)
    for i in range(count):
        with open(os.path.join(folder, f"part{i}.bin"), "wb") as f:
            f.write(block)
    return count * kib
