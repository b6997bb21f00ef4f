"""specs/contract.yaml is the contract the reference, the template and alice implement."""

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest
from shipped_course import shipped

from grader.assignment import load_assignment, shipped_specs, spec_folder
from grader.contract import ContractViolation, SpecError, conform, load_contract
from reference import rnn as reference

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = shipped().contract
DIMS = {"K": 3, "m": 2, "tau": 4, "n": 5, "n_updates": 3}


def contract_signature(fn):
    return [(a.name, a.default) for a in fn.args]


def source_signatures(path):
    """Parameter names and defaults of the top-level functions in a file, read without importing it."""
    tree = ast.parse(path.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + [
                ast.literal_eval(d) for d in node.args.defaults
            ]
            out[node.name] = [(a.arg, d) for a, d in zip(node.args.args, defaults)]
    return out


def test_the_contract_lists_the_seven_functions_and_five_parameters():
    assert list(CONTRACT.functions) == [
        "init_params", "forward", "compute_gradients", "clip_gradients", "adagrad_step", "synthesize", "train"
    ]
    assert CONTRACT.params == {"b": ("m", "1"), "c": ("K", "1"), "U": ("m", "K"), "W": ("m", "m"), "V": ("K", "m")}
    assert CONTRACT.conventions.clip_bound == 5.0 and CONTRACT.conventions.seq_length == 25


@pytest.mark.parametrize("name", list(CONTRACT.functions))
def test_reference_implements_each_function_with_the_contract_signature(name):
    """Same parameter names; a default of None stands for the conventions' value."""
    params = inspect.signature(getattr(reference, name)).parameters.values()
    assert [p.name for p in params] == [n for n, _ in contract_signature(CONTRACT.functions[name])]


@pytest.mark.parametrize(("spec", "path"), [
    ("default", "specs/template/rnn.py"), ("default", "submissions/alice/rnn.py"),
    ("mean-adam", "specs/variants/mean-adam/template/rnn.py"), ("mean-adam", "submissions/mean_adam/rnn.py"),
])
def test_templates_and_examples_define_every_function_with_their_contracts_signature(spec, path):
    found = source_signatures(ROOT / path)
    for name, fn in load_assignment(spec).contract.functions.items():
        assert found[name] == contract_signature(fn), name


def test_every_template_function_is_documented_and_raises_not_implemented():
    tree = ast.parse((ROOT / "specs" / "template" / "rnn.py").read_text())
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert {f.name for f in functions} == set(CONTRACT.functions)
    for f in functions:
        assert ast.get_docstring(f), f.name
        assert isinstance(f.body[-1], ast.Raise) and f.body[-1].exc.id == "NotImplementedError", f.name


def test_conform_accepts_array_likes_the_contract_allows():
    loss, P, H = conform(CONTRACT, "forward", [np.array([[2.5]]), np.ones((3, 4)) / 3, np.zeros((2, 4))], DIMS)
    assert loss == 2.5 and P.dtype == np.float64 and H.shape == (2, 4)
    (indices,) = conform(CONTRACT, "synthesize", [0, 2, 1, 1, 0], DIMS)
    assert indices.tolist() == [0, 2, 1, 1, 0]
    params = reference.init_params(3, 2, 0.1, np.random.default_rng(0))
    (smooth,) = conform(CONTRACT, "train", [params, [3.0, 2.0, 1.0]], DIMS)[1:]
    assert smooth.shape == (3,)
    assert conform(CONTRACT, "adagrad_step", "ignored", DIMS) == ()


@pytest.mark.parametrize(
    ("function", "value", "message"),
    [
        ("forward", [1.0, np.ones((4, 3)), np.zeros((2, 4))], r"P with shape \(4, 3\); expected \(3, 4\) \(K=3, tau=4\)"),
        ("forward", [1.0, np.ones((3, 4))], r"should return 3 values \(loss, P, H\); it returned a list of 2"),
        ("forward", [np.nan, np.ones((3, 4)), np.zeros((2, 4))], "non-finite"),
        ("forward", ["1.0", np.ones((3, 4)), np.zeros((2, 4))], "loss as a str; expected numbers"),
        ("clip_gradients", {"b": np.zeros((2, 1))}, "wrong keys: missing c, U, W, V"),
        ("synthesize", [0, 1, 3, 0, 0], r"outside 0..2 \(K = 3\)"),
        ("synthesize", [0, 1, 1.5, 0, 0], "non-integer"),
        ("synthesize", [0, 1], r"expected 5 indices \(n = 5\)"),
    ],
)
def test_conform_says_what_was_expected_and_what_came_back(function, value, message):
    with pytest.raises(ContractViolation, match=message):
        conform(CONTRACT, function, value, DIMS)


def test_signature_problems_name_the_contract_call():
    assert CONTRACT.signature_problem("train", ["text", "params", "n_updates", "eta", "seq_length"]) == ""
    assert ("does not define a function train(text, params, n_updates, eta=0.1, seq_length=25)"
            in CONTRACT.signature_problem("train", None))
    assert "takes 3 parameter(s)" in CONTRACT.signature_problem("train", ["text", "params", "n"])
    assert ("takes 4 parameter(s) (text, params, n, **options)"
            in CONTRACT.signature_problem("train", ["text", "params", "n", "**options"]))
    assert CONTRACT.signature_problem("train", ["text", "*rest"]) == ""


def test_a_malformed_contract_is_reported_with_its_path(tmp_path):
    (tmp_path / "contract.yaml").write_text("functions: [not, a, mapping\n")
    with pytest.raises(SpecError, match="contract.yaml is not valid YAML"):
        load_contract(tmp_path / "contract.yaml")
    (tmp_path / "contract.yaml").write_text("functions: [not, a, mapping]\n")
    with pytest.raises(SpecError, match="contract.yaml: field 'dimensions': missing"):
        load_contract(tmp_path / "contract.yaml")
    with pytest.raises(SpecError, match="no contract at"):
        load_contract(tmp_path / "missing" / "contract.yaml")


# A rule of how a submission is read, by the example both README's "What a submission may be" and each contract.md
# students read give of it: the template passed over, a class's methods and an instance bound at top level, a
# NameError naming the left-out work, tqdm.notebook.
READING_RULES = ("`NotImplementedError`", "`forward = RNN.forward`", "`model = RNN()`", "`forward = model.forward`",
                 "NameError", "`tqdm.notebook`", "`tqdm.auto`")


@pytest.mark.parametrize("spec", shipped_specs())
def test_contract_md_states_how_a_submission_is_read_as_readme_does(spec):
    readme = (ROOT / "README.md").read_text().split("### What a submission may be")[1].split("\n## ")[0]
    contract_md = (spec_folder(spec) / "contract.md").read_text().split("## What you may hand in")[1].split("\n## ")[0]
    for rule in READING_RULES:
        assert rule in readme, rule
        assert rule in contract_md, f"{spec}'s contract.md does not state {rule}"
