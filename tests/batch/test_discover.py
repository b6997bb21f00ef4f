import os

from grader.batch.discover import FOLDER, MAX_ENTRY_NAME_BYTES, ZIP, discover

from .conftest import make_folder, make_zip


def test_folders_and_zips_are_found_and_junk_is_ignored(class_dir):
    make_folder(class_dir, "alice")
    make_zip(class_dir, "bob.zip", {"rnn.py": "x = 1\n"})
    (class_dir / ".DS_Store").write_bytes(b"\0")
    (class_dir / "__MACOSX").mkdir()
    (class_dir / "._bob.zip").write_bytes(b"\0")
    (class_dir / "notes.txt").write_text("grade these")
    found = discover(class_dir)
    assert [(e.name, e.kind, e.note) for e in found.entries] == [("alice", FOLDER, ""), ("bob", ZIP, "")]
    assert found.ignored == ("notes.txt",)


def test_name_collisions_are_disambiguated_deterministically_with_a_note(class_dir):
    make_folder(class_dir, "alice")
    make_zip(class_dir, "alice.zip", {"rnn.py": ""})
    make_zip(class_dir, "Alice.ZIP", {"rnn.py": ""})
    make_folder(class_dir, "alice-2")  # a real name the suffix must not take
    entries = discover(class_dir).entries
    assert [(e.name, e.path.name) for e in entries] == [
        ("alice", "alice"), ("alice-2", "alice-2"), ("Alice-3", "Alice.ZIP"), ("alice-4", "alice.zip"),
    ]
    assert "Alice.ZIP was graded as 'Alice-3' because 'Alice' is already the name of alice" in entries[2].note
    assert entries[0].note == entries[1].note == ""
    assert [e.name for e in discover(class_dir).entries] == [e.name for e in entries]


def test_names_of_class_outputs_are_not_given_to_submissions(class_dir):
    make_folder(class_dir, "index.html")
    (entry,) = discover(class_dir).entries
    assert entry.name == "index.html-2" and "class-level output" in entry.note


def test_an_output_folder_inside_the_class_folder_is_not_a_submission(class_dir):
    make_folder(class_dir, "alice")
    (class_dir / "out" / "alice").mkdir(parents=True)
    assert [e.name for e in discover(class_dir, exclude=class_dir / "out").entries] == ["alice"]


def test_a_name_that_is_not_utf8_is_spelled_out_so_every_output_can_hold_it(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    os.mkdir(os.path.join(os.fsencode(folder), b"Jos\xe9"))
    (entry,) = discover(folder).entries
    assert entry.name == "Jos\\xe9" and entry.name.encode("utf-8")


def test_terminal_escapes_in_a_name_are_spelled_out_before_any_output_sees_them(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "\x1b[2Jmallory\x07").mkdir()
    (entry,) = discover(folder).entries
    assert entry.name == "\\x1b[2Jmallory\\x07"


def test_a_name_too_long_for_an_output_folder_once_spelled_out_is_shortened_with_a_note(tmp_path):
    # 250 bytes that are not UTF-8 spell out to 1000 characters, and 255 bytes of name plus "-2" is 257: no
    # file system takes them, so those students' results folders could not be written.
    make_folder(tmp_path, os.fsdecode(b"\xff" * 250))
    make_folder(tmp_path, "x" * 255)
    make_folder(tmp_path, "X" * 255)
    entries = discover(tmp_path).entries
    names = [e.name for e in entries]
    assert all(len(name.encode()) <= MAX_ENTRY_NAME_BYTES for name in names)
    assert names == ["X" * MAX_ENTRY_NAME_BYTES, "x" * (MAX_ENTRY_NAME_BYTES - 2) + "-2",
                     "\\xff" * (MAX_ENTRY_NAME_BYTES // 4)]
    assert entries[0].note.endswith(f"because a results folder's name may be at most {MAX_ENTRY_NAME_BYTES} bytes")
    assert entries[1].note.endswith(f"because {'x' * MAX_ENTRY_NAME_BYTES!r} is already the name of {'X' * 255}")


def test_links_at_the_class_folders_top_are_the_staffs_and_followed_once_to_what_they_point_to(class_dir, tmp_path):
    """A student's folder or zip linked into the class folder on purpose was graded when a folder and counted
    by nothing else; read_path left linked folders out. Now every link at the top is followed, here, and
    grading reads the target itself."""
    elsewhere = tmp_path / "elsewhere"
    real = make_folder(elsewhere, "bob_real")
    (class_dir / "bob").symlink_to(real)
    zipped = make_zip(elsewhere, "carol_real.zip", {"rnn.py": "x = 1\n"})
    (class_dir / "carol.zip").symlink_to(zipped)
    (class_dir / "loop.zip").symlink_to(class_dir / "loop.zip")
    found = discover(class_dir)
    assert [(e.name, e.kind, e.path) for e in found.entries] == [("bob", FOLDER, real), ("carol", ZIP, zipped)]
    assert found.ignored == ("loop.zip",)
