"""No file of the submission configures the pytest session that grades it.

pytest looks for its configuration (pytest.toml, pytest.ini, pyproject.toml, tox.ini, setup.cfg...) from the
paths on its command line upwards, and loads the conftest.py files of those paths and their parents.
``pytest --rnn-submission DIR`` gives DIR as a separate word, which pytest's first look at the command
line, made before any plugin's option is known, takes for a test path: a pytest.ini in DIR becomes the
session's configuration and DIR's conftest.py runs in the grader's process. Written
``--rnn-submission=DIR``, the folder is one option word and pytest never looks there.

Where the submission's files could still be read, the plugin refuses before any conftest is loaded, in
one line and with pytest's usage-error status: when the session's ini file, rootdir or working folder
lies inside the submission, when a test path or a sys.path entry does, when a plugin already loaded
comes from it, or when pytest found its ini file only because DIR was on the command line. Later, no
folder inside the submission is collected (so none of its conftest.py files is loaded), and before
grading no plugin may come from it.

What this cannot cover: an ini file that blocks this plugin (``-p no:rnn_grader``) and loads code of its
own. Code that runs before the plugin is loaded can do anything the grader's process can, so the safe
command keeps pytest from reading the submission's files at all: ``--rnn-submission=DIR``, run from
outside the submission, or ``-c FILE`` with the instructor's own configuration (README: With pytest).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

FIX = ("Write --rnn-submission={path} (one word) and run pytest from outside the submission, or pin the "
       "configuration with -c FILE.")


def inside(path: Path | str | None, folder: Path) -> bool:
    if path is None:
        return False
    path = Path(path).resolve()
    return path == folder or folder in path.parents


def refuse_foreign_configuration(config: pytest.Config, submission: Path) -> None:
    """Raise pytest.UsageError when the session has read, or is about to read, a file of `submission`."""
    folder = submission.resolve()
    ns = config.known_args_namespace
    found = [
        ("pytest read its configuration from", config.inipath),
        ("pytest's rootdir is", config.rootpath),
        ("pytest runs in", config.invocation_params.dir),
        *(("a test path is", arg) for arg in ns.file_or_dir or ()),
        *(("sys.path holds", entry) for entry in sys.path if entry),
        *(("a plugin was loaded from", origin) for origin in plugin_files(config)),
    ]
    for what, path in found:
        if inside(path, folder):
            raise pytest.UsageError(f"rnn-grader: {what} {path}, inside the submission {submission}: "
                                       f"nothing was graded. {FIX.format(path=submission)}")
    if ini_found_without_the_submission(config) != config.inipath:
        raise pytest.UsageError(f"rnn-grader: pytest took its configuration from {config.inipath}, found from the "
                                   f"submission's path ({submission}) on the command line: nothing was graded. "
                                   f"{FIX.format(path=submission)}")


def refuse_plugins_from(config: pytest.Config, submission: Path) -> None:
    """Raise pytest.UsageError if any plugin or conftest module in the session comes from `submission`."""
    folder = submission.resolve()
    for origin in plugin_files(config):
        if inside(origin, folder):
            raise pytest.UsageError(f"rnn-grader: a plugin or conftest.py was loaded from {origin}, inside the "
                                       f"submission {submission}: nothing was graded. {FIX.format(path=submission)}")


def plugin_files(config: pytest.Config) -> list[str]:
    files = []
    for plugin in config.pluginmanager.get_plugins():
        origin = getattr(plugin, "__file__", None) or getattr(sys.modules.get(type(plugin).__module__), "__file__", None)
        if origin:
            files.append(origin)
    return files


def ini_found_without_the_submission(config: pytest.Config) -> Path | None:
    """The ini file pytest picks from the same command line without the submission's path as a word of its
    own (the session's own where pytest gives no way to ask: the checks on paths inside still hold)."""
    try:
        from _pytest.config.findpaths import determine_setup
    except ImportError:
        return config.inipath
    ns = config.known_args_namespace
    known = {"inifile": ns.inifilename, "override_ini": ns.override_ini, "args": list(ns.file_or_dir or ()),
             "rootdir_cmd_arg": ns.rootdir or None, "invocation_dir": config.invocation_params.dir}
    accepted = inspect.signature(determine_setup).parameters
    _, inipath, *_ = determine_setup(**{name: value for name, value in known.items() if name in accepted})
    return inipath
