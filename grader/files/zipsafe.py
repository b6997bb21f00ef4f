"""Opening a student's zip file with zipfile, bounded: what it declares at its end is read first.

zipfile.ZipFile reads the whole central directory into memory as it opens a file, however many entries
the directory holds: a 50 MiB zip of empty entries is some 700,000 of them, seconds of the grader's CPU
and hundreds of MiB. The end-of-central-directory record (zip64's when the numbers do not fit) says how
many entries there are and how many bytes the directory takes, so both can be refused first. zipfile looks
for the record the same way (the last one in the file's final 64 KiB), so what is checked here is what it
would read.
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

# signature, this disk, directory's disk, entries on this disk, entries, directory bytes, its offset, comment length
END = struct.Struct("<4s4H2LH")
END_SIGNATURE = b"PK\x05\x06"
# signature, directory's disk, zip64 record offset (zipfile does not use it), disks
LOCATOR = struct.Struct("<4sLQL")
LOCATOR_SIGNATURE = b"PK\x06\x07"
# signature, record size, versions (2), disks (2), entries on this disk, entries, directory bytes, its offset
END64 = struct.Struct("<4sQ2H2L4Q")
END64_SIGNATURE = b"PK\x06\x06"
MAX_COMMENT = 0xFFFF
# The most central directory any zip may declare before zipfile opens it: 50,000 entries with long names
# (a zipped repository's .git); zipfile parses 8 MiB of the shortest entries in about a second.
MAX_DIRECTORY_BYTES = 8 * 1024**2
# What zipfile raises on a corrupt file: opening it, or reading a member (a broken deflate or lzma stream).
CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, zlib.error,
           lzma.LZMAError)


@dataclass(frozen=True)
class Directory:
    entries: int  # as declared (the larger of the two counts)
    size: int  # the central directory's bytes, as declared


def listable(path: Path) -> bool:
    """Whether zipfile may open `path`: it has an end record, and a central directory of bounded size."""
    directory = read_end(path)
    return directory is not None and directory.size <= MAX_DIRECTORY_BYTES


def read_end(path: Path) -> Directory | None:
    """The central directory's declared entries and size; None if the file has no readable end record."""
    with open(path, "rb") as f:
        length = f.seek(0, 2)
        tail_length = min(length, END.size + MAX_COMMENT)
        f.seek(length - tail_length)
        tail = f.read(tail_length)
        at = tail.rfind(END_SIGNATURE)
        if at < 0 or at + END.size > len(tail):
            return None
        _, _, _, here, total, size, _, _ = END.unpack_from(tail, at)
        if 0xFFFF not in (here, total) and size != 0xFFFFFFFF:
            return Directory(max(here, total), size)
        locator_at = length - tail_length + at - LOCATOR.size
        if locator_at < 0:
            return Directory(max(here, total), size)
        f.seek(locator_at)
        signature, _, _, _ = LOCATOR.unpack(f.read(LOCATOR.size))
        if signature != LOCATOR_SIGNATURE:
            return Directory(max(here, total), size)  # zipfile reads the 16-bit numbers as they are too
        if locator_at < END64.size:
            return None
        f.seek(locator_at - END64.size)  # where zipfile reads it: just before the locator, whatever it says
        record = f.read(END64.size)
        if len(record) < END64.size or not record.startswith(END64_SIGNATURE):
            return None
        fields = END64.unpack(record)
        return Directory(max(fields[6], fields[7]), fields[8])
