"""The spec folder is read once, at the edge: importing the grader reads nothing, and a grading from the command
line reads each spec file exactly once, whatever the sandbox, the checks, the oracle and the report need."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

COUNTING = """
import collections, importlib, pkgutil, sys
import grader.specfile as specfile

reads = collections.Counter()
original = specfile.SpecFile.__init__

def counting(self, path, what):
    reads[str(path)] += 1
    original(self, path, what)

specfile.SpecFile.__init__ = counting
import grader
for module in pkgutil.walk_packages(grader.__path__, "grader."):
    if module.name not in ("grader.__main__", "grader.sandbox.worker"):  # worker.py runs as a script in the sandbox
        importlib.import_module(module.name)
print("after imports", sum(reads.values()))
from grader.cli import main
main(sys.argv[1:])
print("after grading", sorted(reads.values()), len(reads))
"""


@pytest.mark.long
def test_importing_every_module_reads_no_spec_and_grading_reads_each_spec_file_once(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rnn.py").write_text("def forward(:\n")  # fails to load: every check runs, quickly
    done = subprocess.run([sys.executable, "-c", COUNTING, str(tmp_path / "sub"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "after imports 0" in done.stdout
    assert "after grading [1, 1, 1, 1] 4" in done.stdout  # contract.yaml, grading.yaml, report.yaml, mistakes.yaml


CONTAINERS = """
import importlib, pkgutil
import grader
for module in pkgutil.walk_packages(grader.__path__, "grader."):
    if module.name in ("grader.__main__", "grader.sandbox.worker"):  # worker.py runs as a script in the sandbox
        continue
    for name, value in vars(importlib.import_module(module.name)).items():
        if isinstance(value, (dict, list, set)) and not name.startswith("__"):
            print(f"{module.name}.{name}")
"""


def test_no_module_defines_a_mutable_container_at_module_level():
    """Module constants are immutable (tuple, frozenset, MappingProxyType): nothing at module level that code
    could fill as it runs. Checked in a fresh interpreter, right after every module is imported."""
    done = subprocess.run([sys.executable, "-c", CONTAINERS], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_grading_yaml_is_checked_against_the_suite_when_the_assignment_loads(tmp_path, capsys):
    """A single run stops at load too, before the submission is read, with the same one line."""
    import shutil

    from grader.cli import main
    from grader.secret import SECRET_FILE
    from grader.specfile import default_spec_dir

    spec = tmp_path / "spec"
    shutil.copytree(default_spec_dir(), spec, ignore=shutil.ignore_patterns("__pycache__", SECRET_FILE))
    grading = spec / "grading.yaml"
    grading.write_text(grading.read_text().replace('"forward: H matches reference":', '"forward: H matches":'))
    assert main([str(ROOT / "submissions" / "alice"), "--spec", str(spec), "--out", str(tmp_path / "out")]) == 2
    printed = capsys.readouterr()
    assert printed.err == f"error: {grading}: check 'forward: H matches': no such check in the suite (grader.checks)\n"
    assert printed.out == "" and not (tmp_path / "out").exists()
