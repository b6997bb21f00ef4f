"""Virtual environments for the tests that install the grader or the kit away from the checkout."""

import subprocess
import sys
from pathlib import Path


def pip(python: Path, *args: str, cwd: Path) -> None:
    """This interpreter's pip, working on the environment of `python` (which has no pip of its own)."""
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *args], check=True, cwd=cwd,
                   capture_output=True)


def venv_with(package: Path, venv: Path) -> Path:
    """The Python of a fresh venv at `venv` with `package` pip-installed; its dependencies are the packages this
    interpreter sees, through a .pth file. (Not --system-site-packages: from inside a venv, that would show the
    base interpreter's packages, e.g. another Hypothesis than the one the kit was built with.) Without a pip of
    its own: ensurepip costs 3-4 s of CPU a venv, and this interpreter's pip installs into it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    (Path(own) / "test-dependencies.pth").write_text("\n".join(ours) + "\n")
    # Into the venv even where this interpreter has the same version installed, which the .pth shows it:
    # pip would call a wheel of it satisfied and install nothing.
    pip(python, "install", "-q", "--no-deps", "--force-reinstall", str(package), cwd=venv.parent)
    return python
