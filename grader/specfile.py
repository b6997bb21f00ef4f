"""Reading one spec file, the same way for every file: one error type, messages naming file, place and problem.

Every loader (contract, grading, report) goes through ``SpecFile``: a missing file, invalid YAML, an
unknown or missing key, a value of the wrong type all become ``SpecError("<path>: <where>: <problem>")``
before anything is graded, instead of a KeyError half-way through a class.
"""

from __future__ import annotations

import hashlib
import math
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import yaml

from grader.errors import GraderError

VARIANTS = "variants"  # the shipped spec folder's sub-folder holding other years' spec folders
DEFAULT = "default"  # the shipped spec folder's own name
# libyaml's parser where PyYAML has it (its wheels do): the same documents as the pure-Python SafeLoader,
# read ten times faster (0.04 -> 0.004 s of CPU for the four shipped spec files), and every command, kit
# build and test module loads the spec.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_spec_dir() -> Path:
    """The spec folder installed with the grader (the ``specs`` package)."""
    return Path(str(resources.files("specs")))


class SpecError(GraderError):
    """A spec file is missing or malformed."""


class SpecFile:
    """One YAML spec file, parsed; the helpers check a value and return it converted, or fail naming it."""

    def __init__(self, path: Path, what: str):
        self.path = Path(path)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"no {what} at {self.path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{self.path} cannot be read: {exc}") from None
        try:
            self.raw = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            raise SpecError(f"{self.path} is not valid YAML: {exc}") from None
        self.digest = hashlib.sha256(text.encode()).hexdigest()[:16]

    def fail(self, where: str, problem: str) -> NoReturn:
        raise SpecError(f"{self.path}: {where}: {problem}")

    def mapping(self, value: Any, where: str, required=(), optional=()) -> dict:
        """``value`` as a dict with every ``required`` key and no key outside ``required`` + ``optional``.

        ``optional=None`` allows any further key.
        """
        if not isinstance(value, dict):
            self.fail(where, "expected a mapping" + (f" with {', '.join(required)}" if required else ""))
        if optional is not None and (unknown := [k for k in value if k not in required and k not in optional]):
            self.fail(where, f"unknown field(s) {', '.join(map(str, unknown))}")
        if missing := [k for k in required if k not in value]:
            self.fail(f"{where}, field {missing[0]!r}" if where != "top level" else f"field {missing[0]!r}", "missing")
        return value

    def number(self, value: Any, where: str, *, positive: bool = True) -> float:
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or (positive and value <= 0)):
            self.fail(where, f"must be a {'positive ' if positive else ''}number, not {value!r}")
        return float(value)

    def fraction(self, value: Any, where: str) -> float:
        """A number strictly between 0 and 1."""
        number = self.number(value, where)
        if number >= 1:
            self.fail(where, f"must be below 1, not {value!r}")
        return number

    def whole(self, value: Any, where: str, minimum: int = 1) -> int:
        if type(value) is not int or value < minimum:
            self.fail(where, f"must be a whole number of at least {minimum}, not {value!r}")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"must be a non-empty string, not {value!r}")
        return value

    def choice(self, value: Any, where: str, options) -> str:
        if value not in options:
            self.fail(where, f"must be one of {', '.join(options)}, not {value!r}")
        return value
