"""Where expected values come from: the reference itself, or the outputs the student kit recorded from it.

The checks and the report's diagnostics never import the reference: they call ``oracle.reference.NAME``
and ``oracle.variants.NAME``. In the full grader those are ``reference.rnn`` and ``grader.checks.variants``
(the reference with one classic mistake switched on, for hints). The student kit ships neither: its
builder grades the reference itself while ``recording()``, and the kit grades while ``replaying()``.

A recorded output is keyed by where it was asked for, not by its arguments: the scope (a check and its
Hypothesis case, or a diagnostics step) and the call's position within that scope. Arguments may carry
a student's own outputs, which differ from the reference's in the last bits, so they cannot be the key.
A case the kit never recorded (Hypothesis invents them while shrinking) raises ``NotRecorded``; the
check runner rejects such a case, so the kit shrinks through recorded cases only. A hint asked for after
the search has no scope, so in the kit it is simply not given.
"""

from __future__ import annotations

import hashlib
import importlib
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from grader.contract import load_contract
from grader.sandbox import protocol

SOURCES = {"reference": "reference.rnn", "variants": "grader.checks.variants"}
FIXTURES = "fixtures.bin"
MAX_FIXTURE_BYTES = 512 * 1024**2


class NotRecorded(Exception):
    """The kit has no recorded output for this call."""


class FixtureError(Exception):
    """A fixtures file is missing or unreadable."""


class _State:
    def __init__(self):
        self.scope: str | None = None
        self.index = 0
        self.recording: dict[str, Any] | None = None
        self.replaying: dict[str, Any] | None = None


_state = _State()


@contextmanager
def scope(name: str):
    """Calls made inside are numbered from 0 under ``name``; scopes do not nest."""
    outer = _state.scope, _state.index
    _state.scope, _state.index = name, 0
    try:
        yield
    finally:
        _state.scope, _state.index = outer


def case_scope(check_name: str, case: Any) -> str:
    """The scope of one Hypothesis case of one check: its name and a digest of the case's repr."""
    return f"{check_name}|{hashlib.sha256(repr(case).encode()).hexdigest()[:24]}"


@contextmanager
def recording():
    """Record every call made inside a scope; yields the dict the recordings go into."""
    _state.recording = {}
    try:
        yield _state.recording
    finally:
        _state.recording = None


@contextmanager
def replaying(fixtures: dict[str, Any]):
    """Answer every call from ``fixtures`` instead of running the reference."""
    _state.replaying = fixtures
    try:
        yield
    finally:
        _state.replaying = None


class _Source:
    """Stands for one module of expected-value functions; ``reference.forward(...)`` and so on."""

    def __init__(self, label: str):
        self._label = label

    def __getattr__(self, function: str):
        name = f"{self._label}.{function}"

        def call(*args, **kwargs):
            key = _next_key()
            if _state.replaying is not None:
                return _replay(key, name, args)
            result = getattr(importlib.import_module(SOURCES[self._label]), function)(*args, **kwargs)
            if _state.recording is not None and key is not None:
                mutated = {str(i): args[i] for i in _mutated_args(name)}
                _state.recording[key] = _snapshot({"call": name, "value": result, "mutated": mutated})
            return result

        return call


reference = _Source("reference")
variants = _Source("variants")


def _next_key() -> str | None:
    if _state.scope is None:
        return None
    key = f"{_state.scope}#{_state.index}"
    _state.index += 1
    return key


def _replay(key: str | None, name: str, args: tuple) -> Any:
    entry = _state.replaying.get(key) if key is not None else None
    if entry is None or entry["call"] != name:
        raise NotRecorded(f"no recorded output of {name} at {key or 'an unscoped call'}")
    for index, state in entry["mutated"].items():
        for k, array in state.items():
            args[int(index)][k][...] = array  # the reference updated this argument in place
    return entry["value"]


@cache
def _mutated_args(name: str) -> tuple[int, ...]:
    """Positions of the arguments a reference function updates in place, as the contract says."""
    label, function = name.split(".")
    fn = load_contract().functions.get(function) if label == "reference" else None
    return tuple(i for i, arg in enumerate(fn.args) if arg.name in fn.mutates) if fn else ()


def _snapshot(value: Any) -> Any:
    """A deep copy in the form replay gives back: lists for tuples, numbers for 0-d arrays."""
    return _numbers(protocol.decode_frame(protocol.encode(value, MAX_FIXTURE_BYTES), MAX_FIXTURE_BYTES))


def _numbers(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def save_fixtures(fixtures: dict[str, Any], path: Path) -> None:
    """Write recordings as one frame of the sandbox's plain-data format: no pickle, no code."""
    path.write_bytes(protocol.encode(fixtures, MAX_FIXTURE_BYTES))


def load_fixtures(path: Path) -> dict[str, Any]:
    try:
        return _numbers(protocol.decode_frame(path.read_bytes(), MAX_FIXTURE_BYTES))
    except FileNotFoundError:
        raise FixtureError(f"no recorded expected values at {path}; rebuild the kit") from None
    except protocol.ProtocolError as exc:
        raise FixtureError(f"{path} is not a fixtures file the grader wrote: {exc}") from None
