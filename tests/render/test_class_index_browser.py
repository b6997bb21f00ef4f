"""index.html as a browser lays it out at 1280 px: every column in view, no sideways scrolling, whatever the
names, notes and ledger reasons a class brings."""

import re
import subprocess
from pathlib import Path

import pytest

from grader.render.class_overview import render_class_html
from grader.results import (
    Adjustment,
    AdjustmentKind,
    ClassResult,
    ClassSubmission,
    StudentIdentity,
)

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]

LATE = Adjustment(AdjustmentKind.LATE, -10.0, "1 day late (marked late by the LMS, no time known: counted as 1 day "
                  "(late_marker_days)): 10% of the points possible")
OVERRIDE = Adjustment(AdjustmentKind.OVERRIDE, 4.0, "the loss is right; the case overflowed in float32",
                      "forward: loss matches reference", "Anna (TA)", "2026-03-05T10:00:00+01:00")


def _class() -> ClassResult:
    people = [("andersonalice_1001", "Anderson, Alice", (), ""),
              ("quistrita_1002", "Quist, Rita", (LATE, OVERRIDE), ""),
              ("Rita Quist_1001_assignsubmission_file_", "Rita Quist", (),
               "also downloaded for this student, not graded: Rita Quist_1001_assignsubmission_onlinetext_"),
              ("x" * 120, "y" * 90, (LATE,), "z" * 200)]
    rows = tuple(
        ClassSubmission(name=entry, source=entry, score=91.5, max_score=100.0, check_scores={}, seconds=12.0,
                        student=StudentIdentity(name=name, student_id=str(1001 + i), source="canvas"),
                        final_score=91.5 + sum(a.points for a in adjustments), adjustments=adjustments,
                        report=f"{entry}/report-instructor.html", note=note,
                        problem="crashed" if i == 3 else "", problem_detail="raised ModuleNotFoundError: " + "m" * 150)
        for i, (entry, name, adjustments, note) in enumerate(people))
    return ClassResult(folder="/home/ta/download", submissions=rows, checks=(), histogram=(), max_score=100.0,
                       mean_score=91.5, median_score=91.5, troubled=(rows[3].name,), slowest=(rows[3].name,),
                       graded_now=4, reused=0)


def test_at_1280_px_name_score_and_final_score_are_in_view_without_scrolling(tmp_path):
    page = render_class_html(_class())
    assert "Anderson, Alice" in page and "andersonalice (1001)" not in page  # the gradebook's name, not the login
    # The page has no script of its own; a copy measures itself and writes the figures into its title.
    measured = page.replace("</body>", "<script>document.title = [document.documentElement.scrollWidth, "
                            "Math.max(...[...document.querySelectorAll('th')].map(e => e.getBoundingClientRect().right))]"
                            ".join(' ')</script></body>")
    copy = tmp_path / "index.html"
    copy.write_text(measured)
    dom = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900",
                          "--dump-dom", copy.as_uri()], check=True, capture_output=True, text=True, timeout=120).stdout
    width, rightmost = map(float, re.search(r"<title>([\d.]+) ([\d.]+)</title>", dom).groups())
    assert width <= 1280 and rightmost <= 1280
