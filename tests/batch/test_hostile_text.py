"""Text a submission makes up (lone surrogates, terminal escapes) reaches every output harmless and whole."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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

