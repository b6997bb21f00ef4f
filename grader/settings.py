"""Reading an environment variable the grader takes a setting from: one way for every variable.

Each setting is read by the module it configures (the sandbox's tier and uids, its scratch folder, the
reference bands' cache), through these helpers, so a value it cannot use is a ``SettingError`` naming the
variable. The command line reads them all at its edge before anything runs, as it checks its options.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.errors import SettingError


def folder_setting(name: str) -> Path | None:
    """The folder the variable ``name`` names (made later if missing), or None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingError(f"{name}={value!r} is not a folder")
    return path


CACHE_ENV = "RNN_GRADER_CACHE"


def default_cache_dir() -> Path:
    """The grader's cache folder (the reference's answers and bands, the sandbox probes' passes):
    $RNN_GRADER_CACHE, else $XDG_CACHE_HOME/rnn-grader, else ~/.cache/rnn-grader."""
    if configured := folder_setting(CACHE_ENV):
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rnn-grader"
