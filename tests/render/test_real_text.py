"""The course reports' figures on a real text (--text): the continuous run, the band, the gradient table."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import load_assignment
from grader.cli import main
from grader.diagnostics.band import BandRun, BandSettings, ReferenceBand, band_key, judge, perturbed
from grader.diagnostics.real_text import RealTextRequest, agreement, real_text_run, run_limits
from grader.oracle import LiveOracle, ReplayingOracle
from grader.render.html import render_html
from grader.results import SubmissionResult
from grader.sandbox import Limits, Sandbox
from grader.textgen import generate

ROOT = Path(__file__).resolve().parents[2]
ALICE = ROOT / "submissions" / "alice"
SPECS = ROOT / "specs"
TEXT = generate(3000)


@pytest.fixture(scope="module")
def assignment():
    return load_assignment()


@pytest.fixture(scope="module")
def oracle(assignment):
    return LiveOracle(assignment)


def _small(assignment, **overrides):
    """The assignment with a small real-text report: fewer samples, shorter texts, fewer band runs."""
    spec = dataclasses.replace(assignment.report.real_text, **{
        "samples": 4, "sample_chars": 50, "passage_chars": 120, "band_runs": 3, "gradient_entries": 3, **overrides})
    return dataclasses.replace(assignment, report=dataclasses.replace(assignment.report, real_text=spec))


def _alice_with(tmp_path: Path, old: str, new: str) -> Path:
    source = (ALICE / "rnn.py").read_text()
    assert old in source, f"alice's rnn.py changed: {old!r} not found"
    folder = tmp_path / "variant"
    folder.mkdir()
    (folder / "rnn.py").write_text(source.replace(old, new))
    return folder


def _run(folder, assignment, oracle, n, text=TEXT, cache_dir=None, limits=Limits()):
    return real_text_run(folder, assignment, oracle, RealTextRequest("book", text, n_updates=n, cache_dir=cache_dir),
                         limits)


# --- the band ---------------------------------------------------------------------------------------------

def test_band_members_differ_from_the_start_only_in_the_last_bit():
    start = {k: np.random.default_rng(0).standard_normal((4, 3)) * 0.01 for k in ("b", "c", "U", "W", "V")}
    assert all(np.array_equal(perturbed(start, 0, 1)[k], start[k]) for k in start)
    moved = perturbed(start, 2, 1)
    for k in ("U", "W", "V"):
        ulps = np.abs(moved[k] - start[k]) / np.spacing(np.abs(start[k]))
        assert np.all((ulps > 0.4) & (ulps <= 1.0)), k
    assert np.array_equal(moved["b"], start["b"])
    assert not np.array_equal(perturbed(start, 1, 1)["W"], perturbed(start, 2, 1)["W"])


@pytest.mark.long
def test_the_band_is_cached_by_content_and_a_damaged_cache_is_recomputed(tmp_path, oracle):
    settings = BandSettings(K=len(set(TEXT)), m=8, sigma=0.01, eta=0.1, seq_length=25, n_updates=40, seed=3, runs=3)
    rng = np.random.default_rng(3)
    start = {"b": np.zeros((8, 1)), "c": np.zeros((settings.K, 1)), "U": 0.01 * rng.standard_normal((8, settings.K)),
             "W": 0.01 * rng.standard_normal((8, 8)), "V": 0.01 * rng.standard_normal((settings.K, 8))}
    first = _band(start, settings, tmp_path, oracle)
    assert not first.cached and len(first.lo) == 40
    assert np.all(np.array(first.lo) <= np.array(first.center)) and np.all(np.array(first.center) <= np.array(first.hi))
    again = _band(start, settings, tmp_path, oracle)
    assert again.cached and again.lo == first.lo and again.hi == first.hi and again.center == first.center
    assert band_key(TEXT + "x", start, settings) != band_key(TEXT, start, settings)
    assert band_key(TEXT, start, dataclasses.replace(settings, eta=0.05)) != band_key(TEXT, start, settings)
    (cached,) = (tmp_path / "bands").glob("*.json")
    cached.write_text('{"format": 1, "runs": 3, "center": [1.0]')  # cut short
    repaired = _band(start, settings, tmp_path, oracle)
    assert not repaired.cached and repaired.lo == first.lo
    assert json.loads(cached.read_text())["lo"] == list(first.lo)
    unwritable = tmp_path / "a-file"
    unwritable.write_text("")
    assert _band(start, settings, unwritable, oracle).lo == first.lo  # no cache there: computed all the same


def _band(start, settings, cache_dir, oracle):
    with BandRun(TEXT, start, settings, cache_dir, SPECS, oracle) as run:
        band = run.result()
        assert run.problem == ""
    return band


def test_without_a_reference_or_when_it_fails_there_is_no_band_and_the_reason_is_given(tmp_path, oracle,
                                                                                        assignment):
    settings = BandSettings(K=3, m=2, sigma=0.01, eta=0.1, seq_length=25, n_updates=5, seed=3, runs=2)
    start = {"b": np.zeros((2, 1)), "c": np.zeros((3, 1)), "U": np.zeros((2, 3)), "W": np.zeros((2, 2)),
             "V": np.zeros((3, 2))}  # K=3, but TEXT has many more characters: the reference refuses
    with BandRun(TEXT, start, settings, tmp_path, SPECS, oracle) as run:
        assert run.result() is None and "could not be computed" in run.problem and "K=3" in run.problem
    assert not (tmp_path / "bands").exists() or not list((tmp_path / "bands").iterdir())
    kit = ReplayingOracle(assignment.contract, {})
    with BandRun(TEXT, start, settings, tmp_path, SPECS, kit) as run:
        assert run.result() is None and "student kit has no reference" in run.problem


def test_a_train_is_compared_with_the_contract_loop_run_with_its_own_functions():
    loop = 100 - np.arange(50) * 0.1
    assert "agree to rounding at all 50 updates" in agreement(loop * (1 + 1e-12), loop)
    early = loop.copy()
    early[2:] += 0.01
    assert "after update 3" in agreement(early, loop) and "differs from the contract's" in agreement(early, loop)
    late = loop.copy()
    late[30:] += 1e-6
    assert "after update 31" in agreement(late, loop) and "another order" in agreement(late, loop)
    assert agreement([], loop) == ""


def test_a_curve_is_judged_against_the_band_widened_by_its_own_spread():
    lo = np.linspace(100, 50, 1000)
    hi = lo + 4 * np.linspace(0, 1, 1000) ** 2  # a line at first, as the runs part
    band = ReferenceBand(tuple(lo), tuple(lo), tuple(hi), runs=5)
    inside = judge((lo + hi) / 2, band, "Yours")
    assert inside.consistent and "within the reference's spread" in inside.note
    slightly_out = judge(hi + 0.5 * (hi - lo), band, "Yours")
    assert slightly_out.consistent and slightly_out.inside < 0.01
    high = judge(hi + 6.0, band, "Yours")
    assert not high.consistent and high.worst_excess > 0 and "above" in high.note
    low_start = lo.copy()
    low_start[3] -= 0.01  # the band is a line at the start: a difference there is real
    early = judge(low_start, band, "Yours")
    assert not early.consistent and early.worst_update == 4 and "below" in early.note


# --- the run on alice --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def alice_run(assignment, oracle, tmp_path_factory):
    """alice's small real-text run of 80 updates, read by the test of the run and the test of its report."""
    return _run(ALICE, _small(assignment), oracle, 80, cache_dir=tmp_path_factory.mktemp("band-cache"))


@pytest.mark.long
@pytest.mark.xdist_group("real-text-alice")  # one worker makes alice's run
def test_alice_gets_one_continuous_run_samples_a_best_model_passage_and_the_course_table(assignment, alice_run):
    spec = _small(assignment).report.real_text
    run = alice_run
    assert run.failure == "" and run.gradient_failure == ""
    assert len(run.loop_smooth_loss) == len(run.train_smooth_loss) == len(run.band_lo) == 80
    # Same start as the unperturbed reference: equal to rounding at first, then within the band (drift).
    assert run.wrap_updates == ()  # 3000 characters: the position wraps after update 119
    np.testing.assert_allclose(run.loop_smooth_loss[:8], run.band_center[:8], rtol=1e-10)
    np.testing.assert_allclose(run.train_smooth_loss[:8], run.band_center[:8], rtol=1e-10)
    assert [s.update for s in run.samples] == [1, 20, 40, 60, 80]
    assert all(len(s.text) == spec.sample_chars for s in run.samples)
    assert run.best_update == int(np.argmin(run.loop_smooth_loss)) + 1
    assert run.best_smooth_loss == min(run.loop_smooth_loss) and len(run.passage) == spec.passage_chars
    assert run.drift and len(run.notes) == 3 and all("within the reference's spread" in n for n in run.notes[:2])
    assert "agree to rounding at all 80 updates" in run.notes[2]
    assert (run.K, run.m, run.eta, run.seq_length, run.sigma) == (len(set(TEXT)), 100, 0.1, 25, 0.01)
    assert [r.param for r in run.gradient_rows] == ["b", "c", "U", "W", "V"]
    for row in run.gradient_rows:
        assert row.vs_reference_norm < 1e-12 and row.vs_reference_max < 1e-10, row
        assert [e.step for e in row.numerical] == [1e-4, 1e-5]
        assert all(e.norm < 1e-5 for e in row.numerical), row
    assert "first 25 characters" in run.gradient_case and "m=100" in run.gradient_case


def test_a_wrong_adagrad_leaves_the_band_and_the_note_says_so(assignment, oracle, tmp_path):
    folder = _alice_with(tmp_path, "params[k] -= eta * grads[k]", "params[k] -= 2 * eta * grads[k]")
    run = _run(folder, _small(assignment, samples=1, band_runs=2), oracle, 40)
    assert len(run.loop_smooth_loss) == 40
    assert all("leaves the reference's spread" in n for n in run.notes[:2]), run.notes


def test_a_loop_that_crashes_midway_keeps_its_curve_and_says_where(assignment, oracle, tmp_path):
    folder = _alice_with(tmp_path, "def clip_gradients(grads, bound=5.0):\n",
                         "def clip_gradients(grads, bound=5.0, _n=[]):\n    _n.append(1)\n"
                         "    if len(_n) == 31: raise ValueError('tired')\n")
    run = _run(folder, _small(assignment, samples=2, band_runs=2), oracle, 40)
    assert len(run.loop_smooth_loss) == run.updates_done == 30
    assert "stopped at update 31 of 40" in run.failure and "tired" in run.failure
    assert run.best_update == int(np.argmin(run.loop_smooth_loss)) + 1 and run.passage  # the best so far speaks
    assert len(run.train_smooth_loss) == 40  # its own train ran on, the counter being past 31


@pytest.mark.long
def test_the_run_has_its_own_budget_apart_from_the_checks_limits(assignment, oracle, monkeypatch):
    checks = Limits(call_seconds=0.5, total_seconds=1.0, cpu_seconds=5)
    own = run_limits(checks, 460.0)
    assert (own.call_seconds, own.total_seconds, own.cpu_seconds) == (460.0, 460.0, 460)
    assert dataclasses.replace(own, call_seconds=0.5, total_seconds=1.0, cpu_seconds=5) == checks  # the rest kept
    opened = []

    class Recording(Sandbox):
        def __init__(self, path, limits, **kwargs):
            opened.append(limits)
            super().__init__(path, limits=limits, **kwargs)

    monkeypatch.setattr("grader.diagnostics.real_text.Sandbox", Recording)
    small = _small(assignment, samples=1, band_runs=1, base_seconds=300.0, seconds_per_update=0.5)
    run = _run(ALICE, small, oracle, 4, limits=checks)
    assert opened == [run_limits(checks, 302.0)] and run.budget_seconds == 302.0  # 300 s + 0.5 s per update
    request = RealTextRequest("book", TEXT, n_updates=4, run_seconds=42.0)
    assert real_text_run(ALICE, small, oracle, request, checks).budget_seconds == 42.0 == opened[-1].total_seconds


@pytest.mark.long
@pytest.mark.xdist_group("real-text-alice")  # one worker makes alice's run
def test_the_report_shows_the_band_the_notes_samples_passage_and_both_tables(alice_run, make_result, hostile):
    run = dataclasses.replace(alice_run, passage=hostile + alice_run.passage)
    result = _with_real_text(make_result(), run)
    page = render_html(result)
    assert page.count("<polygon") == 1 and "reference, 3 exact runs" in page
    assert "your functions in the contract&#39;s loop" in page and "your train" in page
    assert run.drift in page.replace("&#39;", "'") and all(n.replace("'", "&#39;") in page for n in run.notes)
    assert page.count('class="sample"') >= len(run.samples) + 5  # beside the default run's five
    assert "A passage from the best model" in page and f"after update {run.best_update}" in page
    assert hostile not in page and "&lt;script&gt;" in page
    assert 'id="course-gradients"' in page and "h = 0.0001" in page and "h = 1e-05" in page
    assert page.count('<table class="gradients">') == 2
    again = SubmissionResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    # As in the student kit: no reference, so neither band nor reference line, and no legend for them.
    bare = render_html(_with_real_text(make_result(), dataclasses.replace(
        run, band_lo=(), band_hi=(), band_center=(), band_runs=0, notes=(), drift="")))
    assert "<polygon" not in bare and "reference, same start" not in bare and "your train" in bare


def _with_real_text(result, run):
    return dataclasses.replace(result, diagnostics=dataclasses.replace(result.diagnostics, real_text=run))


def test_without_a_text_the_report_has_no_real_text_section(make_result):
    page = render_html(make_result())
    assert 'id="real-text"' not in page and 'id="course-gradients"' not in page


# --- the command line --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["--updates", "100"], "give it with --text PATH"),
    (["--text", "no/such/book.txt"], "no such text file"),
    (["--text", "{folder}"], "is a folder"),
    (["--text", "{binary}"], "not UTF-8"),
    (["--text", "{short}"], "at least seq_length + 1 = 26"),
])
def test_bad_text_options_are_one_clear_usage_error(tmp_path, capsys, args, message):
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00abc")
    (tmp_path / "short.txt").write_text("just a few words")
    names = {"folder": tmp_path, "binary": tmp_path / "binary.txt", "short": tmp_path / "short.txt"}
    argv = [str(ALICE), "--out", str(tmp_path / "out")] + [a.format(**names) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_class_folder_refuses_text(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "rnn.py").write_text((ALICE / "rnn.py").read_text())
    book = tmp_path / "book.txt"
    book.write_text(TEXT)
    assert main([str(tmp_path), "--text", str(book)]) == 2
    assert "--text is for one submission" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_updates_must_be_a_positive_number(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([str(ALICE), "--text", "x.txt", "--updates", value])
    assert exit_.value.code == 2 and "--updates" in capsys.readouterr().err


@pytest.mark.slow
def test_alice_with_text_scores_as_without_and_gets_the_figures(tmp_path, capsys):
    book = tmp_path / "book.txt"
    book.write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))  # read with universal newlines
    assert main([str(ALICE), "--out", str(tmp_path / "plain")]) == 0
    capsys.readouterr()
    assert main([str(ALICE), "--out", str(tmp_path / "real"), "--text", str(book), "--updates", "50",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "On book: 50 of 50 updates" in printed and "11 samples" in printed
    plain, real = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("plain", "real"))
    assert real["score"] == plain["score"] == 100
    run = real["extra_data"]["result"]["diagnostics"]["real_text"]
    assert run["text_name"] == "book" and run["text_chars"] == len(TEXT) and run["K"] == len(set(TEXT))
    assert len(run["loop_smooth_loss"]) == 50 and len(run["samples"]) == 11 and run["passage"]
    assert "\r" not in "".join(s["text"] for s in run["samples"]) + run["passage"]
    assert list((tmp_path / "cache" / "bands").glob("*.json"))


def test_a_long_run_is_stored_thinned_with_its_last_update():
    from grader.diagnostics.real_text import STORED_POINTS, stored_indices

    assert stored_indices(80).tolist() == list(range(80))
    kept = stored_indices(10_001)
    assert len(kept) <= STORED_POINTS + 1 and kept[0] == 0 and kept[-1] == 10_000
