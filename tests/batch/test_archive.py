"""Zip files as an LMS exports them, and hostile ones: each hostile one is a graded, broken submission."""

import re
import stat
import zipfile

import pytest
from shipped_course import shipped

from grader.batch.run import grade_class
from grader.files.archive import (
    MAX_ENTRIES,
    MAX_FILES,
    MAX_RATIO,
    MAX_TOTAL_BYTES,
    BrokenSubmission,
    unpack,
)
from grader.files.zipsafe import MAX_DIRECTORY_BYTES
from grader.results import Problem

from .conftest import make_zip, zip_bytes
from .fakes import fake_grade

ASSIGNMENT = shipped()


def _symlink_zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("rnn.py", "# score: 6\n")
        link = zipfile.ZipInfo("data.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")


def _bomb_zip(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("rnn.py", "# score: 6\n")
        with zf.open("zeros.bin", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(MAX_TOTAL_BYTES // len(chunk) + 1):
                f.write(chunk)


def _folders_zip(path, count=300):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("rnn.py", "# score: 6\n")
        for i in range(count):
            zf.writestr(zipfile.ZipInfo(f"d{i}/"), b"")


def _broken_deflate_zip(path):
    """A member whose deflate stream starts with the reserved block type: zlib.error when it is read."""
    data = bytearray(zip_bytes({"rnn.py": "def f(x):\n    return x\n" * 50}))
    data[30 + len("rnn.py")] = 0x07  # after the local header and the name: final block, type 11
    path.write_bytes(bytes(data))


def _dense_zip(path):
    """2 MiB of one repeated line, which deflate packs about 500 times."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("rnn.py", "# score: 6\n")
        zf.writestr("data.txt", "all work and no play\n" * (2 * 1024**2 // 21))


def _long_directory_zip(path):
    """A central directory over the bound, whatever its end record says of the number of entries."""
    data = bytearray(zip_bytes({"rnn.py": "# score: 6\n"}))
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = (MAX_DIRECTORY_BYTES + 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))


HOSTILE = {
    "traversal": (lambda p: make_zip(p.parent, p.name, {"rnn.py": "", "../../evil.py": "x"}), "leaves its folder"),
    "backslash": (lambda p: make_zip(p.parent, p.name, {"rnn.py": "", "..\\evil.py": "x"}), "leaves its folder"),
    "absolute": (lambda p: make_zip(p.parent, p.name, {"rnn.py": "", "/tmp/evil.py": "x"}), "absolute path"),
    "symlink": (_symlink_zip, "symbolic link"),
    "bomb": (_bomb_zip, f"unpacks to more than {MAX_TOTAL_BYTES // 1024**2} MiB"),
    "many": (lambda p: make_zip(p.parent, p.name, {f"f{i}.py": "" for i in range(MAX_FILES + 1)}),
             f"more than {MAX_FILES} files"),
    "corrupt": (lambda p: p.write_bytes(b"PK\x03\x04 this is not really a zip file"), "corrupt or not a zip file"),
    "empty": (lambda p: make_zip(p.parent, p.name, {}), "empty"),
    "long_name": (lambda p: make_zip(p.parent, p.name, {"rnn.py": "", "x" * 300 + ".py": ""}), "name longer than 255 bytes"),
    "deep": (lambda p: make_zip(p.parent, p.name, {"rnn.py": "", "d/" * 3000 + "f.py": ""}), "folders deep"),
    "long_path": (lambda p: make_zip(p.parent, p.name, {"rnn.py": "", "/".join(["y" * 200] * 8) + ".py": ""}),
                  "longer than 1024 bytes"),
    "folders": (_folders_zip, "more than 200 folders"),
    "entries": (lambda p: _folders_zip(p, MAX_ENTRIES), f"{MAX_ENTRIES + 1} entries, more than the {MAX_ENTRIES} allowed"),
    "escapes": (lambda p: make_zip(p.parent, p.name, {"rnn.py": "", "\x1b[2J\x1b]0;owned\x07/../x.py": ""}),
                "leaves its folder (\\x1b[2J\\x1b]0;owned\\x07/../x.py)"),
    "deflate": (_broken_deflate_zip, "corrupt or not a zip file (Error -3 while decompressing data: invalid block type)"),
    "ratio": (_dense_zip, f"more than the {MAX_RATIO} allowed (a zip bomb)"),
    "directory": (_long_directory_zip, f"more than the {MAX_DIRECTORY_BYTES // 1024**2} MiB allowed"),
}


def test_a_zip_is_unpacked_whole_with_macos_junk_skipped(tmp_path):
    archive = make_zip(tmp_path, "s.zip", {
        "alice/rnn.py": "x = 1\n", "alice/helpers/util.py": "", "__MACOSX/alice/._rnn.py": "junk", "alice/.DS_Store": "",
    })
    (tmp_path / "out").mkdir()
    unpack(archive, tmp_path / "out")
    root = tmp_path / "out"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "alice", "alice/helpers", "alice/helpers/util.py", "alice/rnn.py"]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_zip_is_refused_before_anything_leaves_the_folder(tmp_path, kind):
    make, words = HOSTILE[kind]
    make(tmp_path / "s.zip")
    (tmp_path / "out").mkdir()
    with pytest.raises(BrokenSubmission, match=re.escape(words)):
        unpack(tmp_path / "s.zip", tmp_path / "out")
    assert not (tmp_path / "evil.py").exists() and not (tmp_path.parent / "evil.py").exists()


@pytest.mark.long
def test_hostile_zips_are_graded_as_broken_and_do_not_stop_the_class(class_dir, tmp_path):
    for kind, (make, _) in HOSTILE.items():
        make(class_dir / f"{kind}.zip")
    make_zip(class_dir, "good.zip", {"good/rnn.py": "# score: 6\n"})
    result = grade_class(class_dir, tmp_path / "out", ASSIGNMENT, jobs=1, grade=fake_grade, progress=False)
    rows = {s.name: s for s in result.submissions}
    assert rows["good"].score == 10 and rows["good"].problem == ""
    for kind, (_, words) in HOSTILE.items():
        assert rows[kind].problem is Problem.NOT_GRADED, kind
        assert words in rows[kind].problem_detail, (kind, rows[kind].problem_detail)
        assert rows[kind].score == 0
        assert (tmp_path / "out" / kind / "report.html").is_file()
    assert set(result.troubled) == set(HOSTILE)


@pytest.mark.slow
def test_a_zip_of_a_hundred_thousand_empty_folders_is_one_clear_line_not_a_long_unpacking(class_dir, tmp_path):
    """It used to be unpacked and copied folder by folder (15 minutes); now its table of contents decides."""
    _folders_zip(class_dir / "folders.zip", 100_000)
    make_zip(class_dir, "good.zip", {"rnn.py": "# score: 6\n"})
    result = grade_class(class_dir, tmp_path / "out", ASSIGNMENT, jobs=1, grade=fake_grade, progress=False)
    rows = {s.name: s for s in result.submissions}
    assert rows["good"].score == 10
    assert f"100001 entries, more than the {MAX_ENTRIES} allowed" in rows["folders"].problem_detail


def test_a_zipped_repository_with_a_large_git_folder_is_unpacked_without_it(tmp_path):
    objects = {f"alice/.git/objects/{i:02x}/{i:038x}": "x" for i in range(3 * MAX_FILES)}
    archive = make_zip(tmp_path, "s.zip", {"alice/rnn.py": "x = 1\n", **objects})
    (tmp_path / "out").mkdir()
    unpack(archive, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")) == ["alice", "alice/rnn.py"]
