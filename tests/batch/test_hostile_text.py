"""Text a submission makes up (lone surrogates, terminal escapes) reaches every output harmless and whole."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from .conftest import make_folder

ESCAPES = "\\x1b[2J\\x1b]0;owned\\x07\\x1b[31m red \\r\\u202e"
HOSTILE_TEXT = "\\ud800 " + ESCAPES
ALICE = (Path(__file__).resolve().parents[2] / "submissions" / "alice" / "rnn.py").read_text()
SUBMISSION = f'''
import sys
print("{ESCAPES}")
print("{ESCAPES}", file=sys.stderr)

def _fail(*args, **kwargs):
    raise ValueError("{HOSTILE_TEXT}")

init_params = forward = compute_gradients = clip_gradients = adagrad_step = synthesize = train = _fail
'''


def _no_hostile_characters(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text
    text.encode("utf-8")  # no lone surrogate


@pytest.mark.slow
def test_a_surrogate_and_escapes_in_a_students_messages_stop_nothing_in_a_class(class_dir, tmp_path):
    make_folder(class_dir, "mallory", SUBMISSION)
    make_folder(class_dir, "alice", ALICE)
    done = subprocess.run([sys.executable, "-m", "grader", str(class_dir), "--out", str(tmp_path / "out"),
                           "--jobs", "1"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    _no_hostile_characters(done.stdout)
    out = tmp_path / "out"
    for path in (out / "summary.json", out / "index.html", out / "grades.csv", out / "mallory" / "results.json",
                 out / "mallory" / "report.html"):
        _no_hostile_characters(path.read_text(encoding="utf-8"))
    summary = json.loads((out / "summary.json").read_text())
    scores = {s["name"]: s["score"] for s in summary["submissions"]}
    assert scores["mallory"] == 0 and scores["alice"] == 100
    feedback = json.loads((out / "mallory" / "results.json").read_text())["tests"][0]["output"]
    assert "\\ud800 \\x1b[2J" in feedback  # shown, spelled out



# Quoted from the student's own bytes, not made up by running them: file and folder names (one not UTF-8), a
# line of top-level work, a notebook's cell magic. Each reaches some output through a different message.
QUOTED = "\x1b]0;owned\x07\x1b[31m\r\u202e<img src=x onerror=alert(1)>"


def _raw(text: str, where: str) -> list[str]:
    """What of QUOTED reaches `where` raw."""
    bad = ["\x1b", "\x07", "\u202e", *(["<img src=x"] if where.endswith(".html") else [])]
    found = [f"{b!r} in {where}" for b in bad if b in text]
    found += [f"a carriage return in {where}"] if "\r" in text.replace("\r\n", "\n") else []
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        found.append(f"a lone surrogate in {where}")
    return found


@pytest.mark.slow
@pytest.mark.long
def test_student_names_and_content_quoted_in_every_class_output_are_spelled_out(class_dir, tmp_path):
    work = f'\nprint("{QUOTED}")\nKEY = "{QUOTED}"\n'
    make_folder(class_dir, "alice", ALICE)
    # Canvas's flat download: the name of the file uploaded is the student's, the rest Canvas's.
    (class_dir / f"mallory_1001_2002_rnn{QUOTED}.py").write_text(ALICE + work)
    eve = make_folder(class_dir, os.fsdecode(b"eve\xff" + QUOTED.encode()), ALICE + work)
    (eve / f"{QUOTED}.py").write_text(ALICE)  # a second candidate: named in the note on the one chosen
    moodle = class_dir / f"Rita {QUOTED}_1003_assignsubmission_file_"
    moodle.mkdir()
    cells = [new_code_cell(ALICE), new_code_cell(f"%%{QUOTED}\nx = 1"), new_code_cell(f"x = ({QUOTED}")]
    nbformat.write(new_notebook(cells=cells), moodle / f"rnn{QUOTED}.ipynb")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "grader", str(class_dir), "--out", str(out), "--jobs", "2"],
                          capture_output=True, text=True, errors="surrogateescape", timeout=900)
    raw = _raw(done.stdout + done.stderr, "the terminal")
    assert done.returncode == 0, done.stdout + done.stderr
    written = {path.relative_to(out).as_posix(): path for path in out.rglob("*")
               if path.suffix in (".json", ".html", ".csv")}
    for name in ("grades.csv", "canvas.csv", "moodle.csv", "similarity.html", "index.html", "summary.json"):
        assert name in written
    assert sum(name.endswith("results.json") for name in written) == 4
    assert sum(name.endswith("report.html") for name in written) == 4
    raw += [found for name, path in written.items() for found in _raw(path.read_text(encoding="utf-8"), name)]
    assert raw == [], "\n".join(raw)
