"""Overrides and the late policy change the final score, never the raw one, and say why."""

import datetime as dt

import pytest

from grader.ledger import (
    Ledger,
    LedgerError,
    apply_ledger,
    load_late_policy,
    load_overrides,
)
from grader.results import AdjustmentKind, ClassSubmission, StudentIdentity

CHECKS = {"forward: loss": 40.0, "train: smooth loss": 60.0}


def submission(entry, score_forward, score_train, **student) -> ClassSubmission:
    scores = {"forward: loss": score_forward, "train: smooth loss": score_train}
    return ClassSubmission(name=entry, source=entry, score=sum(scores.values()), max_score=100.0, check_scores=scores,
                           seconds=1.0, student=StudentIdentity(**student), final_score=sum(scores.values()))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


OVERRIDES = """
- student: "1001"
  check: "forward: loss"
  points: 40
  reason: the loss is right; the case overflowed in float32
  by: Anna (TA)
  at: 2026-03-05T10:00:00+01:00
"""

POLICY = """
deadline: 2026-03-01T23:59:00+01:00
grace_minutes: 15
percent_per_day: 10
cap_percent: 30
extensions:
  "bob": 2
"""


def test_an_override_and_a_late_penalty_change_the_final_but_not_the_raw_score(tmp_path):
    rows = [
        submission("rita", 10.0, 60.0, name="Rita", student_id="1001", submitted_at="2026-03-03T09:00:00+01:00"),
        submission("bob", 40.0, 60.0, name="Bob", submitted_at="2026-03-03T09:00:00+01:00"),
        submission("carol", 40.0, 30.0, submitted_at="2026-03-02T00:10:00+01:00"),
    ]
    ledger = Ledger(load_overrides(write(tmp_path, "o.yaml", OVERRIDES)), load_late_policy(write(tmp_path, "l.yaml", POLICY)))
    outcome = apply_ledger(rows, CHECKS, ledger)
    rita, bob, carol = outcome.submissions
    # Rita: forward 10 -> 40 by the override (+30), then 2 started days late: 20% of 100 possible points.
    assert rita.score == 70.0 and rita.check_scores["forward: loss"] == 10.0
    assert [(a.kind, a.points) for a in rita.adjustments] == [(AdjustmentKind.OVERRIDE, 30.0), (AdjustmentKind.LATE, -20.0)]
    assert rita.adjustments[0].by == "Anna (TA)" and rita.adjustments[0].at == "2026-03-05T10:00:00+01:00"
    assert (rita.final_score, rita.late_days, rita.late_percent) == (80.0, 2, 20.0)
    # Bob has a two-day extension: on time.
    assert (bob.final_score, bob.adjustments) == (100.0, ())
    # Carol: 11 minutes late is within the grace.
    assert (carol.final_score, carol.late_days) == (70.0, 0)
    assert outcome.warnings == ()


def test_the_cap_and_the_floor_bound_the_penalty(tmp_path):
    policy = load_late_policy(write(tmp_path, "l.yaml", POLICY))
    rows = [submission("late", 5.0, 0.0, submitted_at="2026-03-20T09:00:00+01:00")]
    (late,) = apply_ledger(rows, CHECKS, Ledger((), policy)).submissions
    assert late.late_percent == 30.0 and late.final_score == 0.0 and late.score == 5.0


def test_earned_points_policy_deducts_a_share_of_the_score(tmp_path):
    policy = load_late_policy(write(tmp_path, "l.yaml", POLICY + "deduct_from: earned\n"))
    rows = [submission("x", 40.0, 40.0, submitted_at="2026-03-02T12:00:00+01:00")]
    (x,) = apply_ledger(rows, CHECKS, Ledger((), policy)).submissions
    assert x.final_score == pytest.approx(72.0)


def test_entries_that_match_nobody_or_no_check_are_not_applied_and_said(tmp_path):
    text = OVERRIDES.replace('"1001"', "ghost") + OVERRIDES.replace("forward: loss", "nope")
    overrides = load_overrides(write(tmp_path, "o.yaml", text))
    policy = load_late_policy(write(tmp_path, "l.yaml", POLICY))
    rows = [submission("rita", 10.0, 60.0, student_id="1001"), submission("twin", 0, 0, name="rita")]
    outcome = apply_ledger(rows, CHECKS, Ledger(overrides, policy))
    text = "\n".join(outcome.warnings)
    assert "no submission belongs to 'ghost'" in text
    assert "has no check named 'nope'" in text
    assert "extension for 'bob'" in text
    assert "no submission time is known for 2 submission(s)" in text
    assert all(s.final_score == s.score for s in outcome.submissions)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {student: a, check: b, points: 1, reason: r, by: me}\n", "missing at"),
        ("- {student: a, check: b, points: -1, reason: r, by: me, at: 2026-03-01T10:00:00+01:00}\n", "at least 0"),
        ("- {student: a, check: b, points: 1, reason: r, by: me, at: 2026-03-01T10:00:00}\n", "no UTC offset"),
        ("- {student: a, check: b, points: 1, reason: r, by: me, at: 2026-03-01}\n", "is a date"),
        ("- {student: a, check: b, points: 1, reason: r, by: me, at: 2026-03-01T10:00:00+01:00, extra: 1}\n",
         "unknown field extra"),
        ("student: a\n", "expected a list"),
        ("- [unclosed\n", "not valid YAML"),
    ],
)
def test_a_bad_overrides_file_gets_one_clear_message(tmp_path, text, message):
    with pytest.raises(LedgerError, match=message):
        load_overrides(write(tmp_path, "o.yaml", text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("percent_per_day: 10\n", "needs at least deadline"),
        ("deadline: 2026-03-01T23:59:00\npercent_per_day: 10\n", "no UTC offset"),
        ("deadline: 2026-03-01T23:59:00+01:00\npercent_per_day: ten\n", "percent_per_day must be a number"),
        ("deadline: 2026-03-01T23:59:00+01:00\npercent_per_day: 10\ncap_percent: 150\n", "at most 100"),
        ("deadline: 2026-03-01T23:59:00+01:00\npercent_per_day: 10\ndeduct_from: all\n", "deduct_from"),
    ],
)
def test_a_bad_late_policy_gets_one_clear_message(tmp_path, text, message):
    with pytest.raises(LedgerError, match=message):
        load_late_policy(write(tmp_path, "l.yaml", text))


def test_days_late_counts_started_days_after_the_grace(tmp_path):
    policy = load_late_policy(write(tmp_path, "l.yaml", POLICY))
    due = policy.deadline
    assert policy.days_late(due + dt.timedelta(minutes=15), due) == 0
    assert policy.days_late(due + dt.timedelta(minutes=16), due) == 1
    assert policy.days_late(due + dt.timedelta(days=1, minutes=15), due) == 1
    assert policy.days_late(due + dt.timedelta(days=1, minutes=16), due) == 2


def test_a_canvas_late_mark_without_a_time_counts_as_the_policys_days(tmp_path):
    policy = load_late_policy(write(tmp_path, "l.yaml", POLICY))
    rows = [
        submission("quistrita_1002", 40.0, 60.0, name="quistrita", student_id="1002", source="canvas", late_marked=True),
        submission("andersonalice_1001", 40.0, 60.0, name="andersonalice", student_id="1001", source="canvas"),
        submission("bob", 40.0, 60.0, name="bob", student_id="1003", source="canvas", late_marked=True),
        submission("carol", 40.0, 60.0, name="carol"),
    ]
    outcome = apply_ledger(rows, CHECKS, Ledger((), policy))
    rita, alice, bob, carol = outcome.submissions
    # Marked late by Canvas, no time: one day late by default, 10% of the points possible.
    assert (rita.final_score, rita.late_days, rita.late_percent) == (90.0, 1, 10.0)
    assert "marked late by the LMS, no time known: counted as 1 day (late_marker_days)" in rita.adjustments[0].reason
    assert (alice.final_score, alice.adjustments) == (100.0, ())  # Canvas did not mark it: on time
    # An extension Canvas does not know of makes its mark meaningless; a folder says nothing at all.
    assert (bob.final_score, carol.final_score) == (100.0, 100.0)
    assert outcome.warnings == ("no submission time is known for 2 submission(s), so no late penalty was applied to "
                                "them (give submitted_at in the mapping file): bob (marked late by the LMS, but "
                                "extended here), carol",)
    two_days = load_late_policy(write(tmp_path, "l2.yaml", POLICY + "late_marker_days: 2\n"))
    assert apply_ledger(rows[:1], CHECKS, Ledger((), two_days)).submissions[0].final_score == 80.0
    with pytest.raises(LedgerError, match="late_marker_days must be a whole number"):
        load_late_policy(write(tmp_path, "l3.yaml", POLICY + "late_marker_days: -1\n"))
