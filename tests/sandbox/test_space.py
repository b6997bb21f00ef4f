"""The sandbox's writable space as a whole (grader.sandbox.space): a size-limited tmpfs on its root folder,
shrunk to the copy plus its cap, and unmounted by the next grader when a killed one left it behind. What a
submission meets when it fills it is in test_hostile.py, in every tier."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import space

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root mounts a size-limited folder")
MIB = 1024**2


def mounted(path: Path) -> bool:
    return path in space._tmpfs_mounts()


@pytest.fixture
def base(tmp_path):
    return tmp_path


@needs_root
def test_the_space_is_shrunk_to_the_copy_plus_its_cap_and_unmounted_on_close(base):
    root = base / f"{space.PREFIX}one"
    root.mkdir()
    box = space.Space(root, 2 * MIB, 0o700)
    try:
        assert box.mounted and mounted(root)
        (root / "copy.bin").write_bytes(b"c" * 3 * MIB)  # the submission's own files
        box.fit()
        (root / "written.bin").write_bytes(b"w" * (2 * MIB - 64 * 1024))
        with pytest.raises(OSError) as raised:
            (root / "more.bin").write_bytes(b"m" * 256 * 1024)
        assert raised.value.errno == 28
    finally:
        box.close()
    assert not mounted(root) and list(root.iterdir()) == []


@needs_root
def test_a_space_left_by_a_killed_grader_is_unmounted_by_the_next_one(base):
    stale = base / f"{space.PREFIX}killed"
    stale.mkdir()
    code = (f"import os, signal\nfrom grader.sandbox.space import Space\n"
            f"Space({str(stale)!r}, 1 << 20, 0o700)\nos.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], check=False)
    assert mounted(stale)
    root = base / f"{space.PREFIX}next"
    root.mkdir()
    box = space.Space(root, MIB, 0o700)
    try:
        assert not mounted(stale) and not stale.exists()
    finally:
        box.close()


@needs_root
def test_a_live_space_is_left_alone_by_another(base):
    first, second = base / f"{space.PREFIX}a", base / f"{space.PREFIX}b"
    first.mkdir()
    second.mkdir()
    one = space.Space(first, MIB, 0o700)
    two = space.Space(second, MIB, 0o700)
    try:
        assert mounted(first) and mounted(second)
    finally:
        one.close()
        two.close()


def test_without_root_there_is_no_cap_and_the_description_says_why(base, monkeypatch):
    monkeypatch.setattr(space.os, "geteuid", lambda: 1000)
    box = space.Space(base, MIB, 0o700)
    assert not box.mounted
    assert box.statement() == ("no cap on the files written in all (the grader is not root, so it cannot mount a "
                               "size-limited folder)")
    box.fit()
    box.close()
