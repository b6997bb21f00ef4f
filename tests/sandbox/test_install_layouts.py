"""The grader installed as courses install it, each attacked by a submission that reads what it can reach.

Each layout is a real interpreter with the grader pip-installed into it; the probe (layout_probe.py) runs
there and reports the tier and what the hostile submission could read, import or connect to: the reference
and the grader (installed in the venv), a package of the base installation's site-packages (yaml), a
classmate's scratch copy graded at the same time, and a TCP port on 127.0.0.1. Slow: each builds a venv and
installs the grader.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import HOSTILE

PROBE = Path(__file__).with_name("layout_probe.py")
DEBIAN_PYTHON = "/usr/bin/python3.11"
pytestmark = pytest.mark.slow


def run(*command, **kwargs) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def make_venv(python: str, where: Path, system_site: bool, wheel: Path) -> Path:
    """A venv with the grader (its ``wheel``) installed, and those of its dependencies that the venv does not
    already see (with ``system_site``, the base installation's: all of them where the tests run from the base,
    none where they run from a venv, whose own site-packages a new venv never sees). Without a pip of its own
    (ensurepip costs 3-4 s of CPU a venv): this interpreter's pip installs into it."""
    run(python, "-m", "venv", "--without-pip", *(["--system-site-packages"] if system_site else []), str(where))
    venv_python = where / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", str(venv_python), "install", "-q")
    # Into the venv even where the base has the same version installed (pip would call that satisfied), then
    # whatever of its dependencies the venv does not see.
    run(*pip, "--no-deps", "--force-reinstall", str(wheel))
    run(*pip, str(wheel))
    return venv_python


def probe(python: Path, *options: str) -> dict:
    site = run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    base_yaml = run(sys.executable, "-c", "import yaml; print(yaml.__file__)").strip()
    targets = [f"{site}/reference/rnn.py", f"{site}/grader/__init__.py", f"{site}/specs/grading.yaml", base_yaml]
    # From / so that the worktree's grader does not shadow the installed one.
    found = json.loads(run(str(python), str(PROBE), str(HOSTILE), *options, *targets, cwd="/").splitlines()[-1])
    found["site"] = site
    return found


def world_readable(path: str) -> bool:
    """Whether every user may read `path` by its mode bits and those of the folders above it."""
    path = Path(path)
    return (all(os.stat(folder).st_mode & stat.S_IXOTH for folder in path.parents)
            and bool(os.stat(path).st_mode & stat.S_IROTH))


def assert_nothing_reached(found: dict, but_world_readable: bool = False) -> None:
    """Nothing of the probe's targets was reached; with `but_world_readable` (the unprivileged-user tier's
    stated limit), none but files every user of the machine may read, which the grader's never are."""
    assert str(found["imports"]).lower() == "agg", "the allowed packages must import"
    readable = [p for p in found["readable"] if not (but_world_readable and world_readable(p))]
    assert readable == [] and found["imported"] == []
    assert found["network"] != "ok"


@pytest.fixture
def outside_tmp():
    """A folder outside /tmp (bwrap's private /tmp hides nothing there)."""
    folder = Path(os.environ.get("RNN_GRADER_TEST_DIR", "/var/tmp")) / f"rnn-grader-layouts-{os.getpid()}"
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def bwrap_here() -> bool:
    from grader.sandbox import available_tiers

    return "bubblewrap" in available_tiers()


@pytest.mark.skipif(not bwrap_here(), reason="needs a working bwrap")
def test_venv_under_tmp_gets_bubblewrap_and_hides_the_venv_and_the_base(tmp_path, grader_wheel):
    found = probe(make_venv(sys.executable, tmp_path / "venv", system_site=True, wheel=grader_wheel))
    assert found["grader"].startswith(str(tmp_path)), found
    assert found["tier"] == "bubblewrap", found
    assert_nothing_reached(found)


@pytest.mark.skipif(not bwrap_here(), reason="needs a working bwrap")
def test_venv_beside_a_base_install_hides_the_base_site_packages(outside_tmp, grader_wheel):
    found = probe(make_venv(sys.executable, outside_tmp / "venv", system_site=True, wheel=grader_wheel))
    assert found["tier"] == "bubblewrap", found
    assert_nothing_reached(found)


@pytest.mark.first  # a venv with the dependencies installed
@pytest.mark.skipif(not os.path.exists(DEBIAN_PYTHON) or os.geteuid() != 0, reason="needs Debian's python and root")
def test_debian_python_without_bwrap_refuses_until_the_grader_is_unreadable_then_runs_as_a_uid(outside_tmp, grader_wheel):
    """Like the Gradescope container: no bwrap, root. setup.sh's chmod makes the unprivileged tier safe."""
    os.chmod(outside_tmp, 0o755)
    python = make_venv(DEBIAN_PYTHON, outside_tmp / "venv", system_site=False, wheel=grader_wheel)
    if bwrap_here():
        found = probe(python)
        assert found["tier"] == "bubblewrap", found
        assert_nothing_reached(found)
    refused = probe(python, "--no-bwrap")
    assert "can read the grader's files" in refused["refused"] and "chmod" in refused["refused"], refused
    weak = probe(python, "--no-bwrap", "--allow-weak")
    assert weak["tier"] == "plain-process" and weak["weak"] and weak["readable"], weak  # recorded: it reads all
    assert weak["network"] == "PermissionError", weak  # but it has no network where seccomp works
    run("chmod", "-R", "o-rwx", *(f"{refused['site']}/{name}" for name in ("grader", "reference", "specs")))
    found = probe(python, "--no-bwrap")
    assert found["tier"] == "unprivileged-user", found
    assert_nothing_reached(found, but_world_readable=True)
    assert found["network"] == "PermissionError", found  # the seccomp filter: no network namespace here
