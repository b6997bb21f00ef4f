"""The real pipeline, end to end: grade a broken submission, add the diagnostics, write and print everything."""

import dataclasses
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
import yaml

from grader.assignment import load_assignment
from grader.diagnostics import run_diagnostics
from grader.grading import grade_submission
from grader.oracle import LiveOracle
from grader.outputs import read_instructor_json, write_outputs
from grader.render.terminal import make_console, render_terminal
from grader.results import SubmissionResult, student_copy
from grader.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_PRINT = '<script>alert("from rnn.py")</script>'


@pytest.fixture
def broken(tmp_path) -> Path:
    """alice with dW built from h_t instead of h_{t-1}, printing something hostile when imported."""
    source = (ROOT / "submissions/alice/rnn.py").read_text()
    assert 'grads["W"] += da @ h_prev.T' in source
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "rnn.py").write_text(
        source.replace('grads["W"] += da @ h_prev.T', 'grads["W"] += da @ h.T') + f"\nprint({HOSTILE_PRINT!r})\n"
    )
    return folder


@pytest.fixture
def short_run_specs(tmp_path) -> Path:
    folder = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", folder, ignore=shutil.ignore_patterns("__pycache__"))
    report = yaml.safe_load((ROOT / "specs/report.yaml").read_text())
    report["training"].update(text=str(ROOT / "specs/texts/prose.txt"), n_updates=150, chunks=3, passage_chars=200)
    (folder / "report.yaml").write_text(yaml.safe_dump(report))
    return folder


@pytest.mark.slow
def test_a_broken_submission_through_every_output(tmp_path, broken, short_run_specs):
    assignment = load_assignment(short_run_specs)
    result = grade_submission(broken, assignment)
    with Sandbox(broken, functions=assignment.functions) as box:
        diagnostics = run_diagnostics(box, assignment, LiveOracle(assignment))
    result = dataclasses.replace(result, diagnostics=diagnostics)
    assert 0 < result.score < result.max_score

    paths = write_outputs(result, tmp_path / "grading-output" / result.name)
    document = json.loads(paths["results"].read_text())
    schema = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["score"] == result.score
    assert SubmissionResult.from_dict(document["extra_data"]["result"]) == student_copy(result)
    assert read_instructor_json(paths["instructor_results"]) == result
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    assert any(t["name"] == "compute_gradients: gradients match reference" and "dW" in t["output"] for t in failed)

    html = paths["report"].read_text()
    scripts = []

    class Scripts(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "script":
                scripts.append(attrs)

    Scripts().feed(html)
    assert scripts == [] and "&lt;script&gt;alert(&#34;from rnn.py&#34;)&lt;/script&gt;" in html
    assert "compute_gradients: gradients match reference" in html and "<polyline" in html
    rows = {r.param: r for r in result.diagnostics.gradients.rows}
    assert rows["W"].vs_reference > 1e-2 and rows["b"].vs_reference < 1e-10

    stream = io.StringIO()
    render_terminal(result, make_console(stream), paths)
    text = stream.getvalue()
    assert "FAIL" in text and "compute_gradients: gradients match reference" in text and str(paths["report"]) in text
    assert "\x1b" not in text
