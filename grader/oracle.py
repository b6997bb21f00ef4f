"""Where expected values come from: an oracle object that the check context and the diagnostics carry.

The checks and the report's diagnostics never import the reference: they call ``oracle.reference.NAME``
and ``oracle.variants.NAME`` on the oracle they were given. Three kinds:

* ``LiveOracle``: the reference (reference.rnn) bound to the assignment's conventions, and
  ``grader.checks.variants`` (the reference with one classic mistake switched on, for hints); given a
  cache folder, it keeps its costly answers there and reads them back (grader.answers).
* ``RecordingOracle``: live, and it keeps every scoped answer; the kit builder grades the reference
  itself with one to record the public checks' expected values.
* ``ReplayingOracle``: answers from those recordings; the student kit, which ships neither the reference
  nor the variants, grades with one.

A recorded output is keyed by where it was asked for, not by its arguments: the scope (a check and its
Hypothesis case, or a diagnostics step) and the call's position within that scope. Arguments may carry
a student's own outputs, which differ from the reference's in the last bits, so they cannot be the key.
A case the kit never recorded (Hypothesis invents them while shrinking) raises ``NotRecorded``; the
check runner rejects such a case, so the kit shrinks through recorded cases only.

Calls made ``aside`` (a diagnosis, error carried forward, a hint: what only some answers ask for) are
keyed by their arguments within the scope instead, so they leave the numbering alone. The reference
passes every check, so grading it never asks them; the kit builder has each check's ``probes`` ask them
for every recorded case (the known mistakes' outputs on that case), and the kit, which resolves a hint
inside its failing case's scope, finds them there. An aside call whose arguments carry the student's own
outputs finds nothing and raises ``NotRecorded``: the kit then says it cannot tell.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grader.answers import Answers, context
from grader.contract import Contract
from grader.errors import GraderError
from grader.sandbox import protocol

if TYPE_CHECKING:  # only for the annotations: importing them here would make an import cycle
    from grader.assignment import Assignment

FIXTURES = "fixtures.bin"
MAX_FIXTURE_BYTES = 512 * 1024**2
LABELS = ("reference", "variants")


class NotRecorded(Exception):
    """The kit has no recorded output for this call."""


class FixtureError(GraderError):
    """A fixtures file is missing or unreadable."""


def argument_key(scope: str, name: str, args: tuple, kwargs: dict) -> str | None:
    """The key of a call made aside: its scope, the function and a digest of its arguments in the sandbox's
    plain-data encoding (the same arrays give the same bytes, whichever process made them)."""
    try:
        data = protocol.encode([list(args), dict(sorted(kwargs.items()))], MAX_FIXTURE_BYTES)
    except protocol.ProtocolError:  # not plain data: a call nobody records
        return None
    return f"{scope}|{name}|{hashlib.sha256(data).hexdigest()[:24]}"


def case_scope(check_name: str, case: Any) -> str:
    """The scope of one Hypothesis case of one check: its name and a digest of the case's repr."""
    return f"{check_name}|{hashlib.sha256(repr(case).encode()).hexdigest()[:24]}"


class _Source:
    """Stands for one set of expected-value functions: ``oracle.reference.forward(...)`` and so on."""

    def __init__(self, oracle: Oracle, label: str):
        self._oracle = oracle
        self._label = label

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        return lambda *args, **kwargs: self._oracle.call(self._label, function, args, kwargs)


class _Position(threading.local):
    """Where the calls of one thread are: the report's diagnostics may run in a thread beside the checks
    (grader.grading), each numbering its own scopes."""

    scope: str | None = None
    index = 0
    aside = False  # calls are keyed by their arguments (Oracle.aside)


class Oracle:
    """Numbers the calls made inside a scope, each thread its own; subclasses decide how a call is answered."""

    keys_asides = False  # whether calls made aside need their key (a digest of their arguments) at all
    asks_probes = False  # whether the checks' probes run on every case (to record what they ask aside)

    def __init__(self, contract: Contract):
        self.contract = contract
        self._at = _Position()
        self.reference = _Source(self, "reference")
        self.variants = _Source(self, "variants")

    @contextmanager
    def scope(self, name: str):
        """Calls made inside are numbered from 0 under ``name``; scopes do not nest."""
        outer = self._at.scope, self._at.index, self._at.aside
        self._at.scope, self._at.index, self._at.aside = name, 0, False
        try:
            yield
        finally:
            self._at.scope, self._at.index, self._at.aside = outer

    @contextmanager
    def aside(self):
        """Calls made inside neither use nor move the current scope's numbering: they are keyed by their
        arguments within the scope (``argument_key``), recorded by the kit builder's probes only.

        For expected values that only some answers need (a diagnosis, error carried forward, a hint): the
        kit records what grading the reference asks for, and the calls after these must still find their
        recordings under the same numbers.
        """
        outer = self._at.aside
        self._at.aside = True
        try:
            yield
        finally:
            self._at.aside = outer

    def call(self, label: str, function: str, args: tuple, kwargs: dict) -> Any:
        name = f"{label}.{function}"
        key = None
        at = self._at
        if at.scope is not None and at.aside:
            key = argument_key(at.scope, name, args, kwargs) if self.keys_asides else None
        elif at.scope is not None:
            key = f"{at.scope}#{at.index}"
            at.index += 1
        return self._answer(key, name, args, kwargs)

    def _answer(self, key: str | None, name: str, args: tuple, kwargs: dict) -> Any:
        raise NotImplementedError

    def _mutated(self, name: str) -> tuple[int, ...]:
        """Positions of the arguments a reference function updates in place, as the contract says."""
        label, function = name.split(".")
        fn = self.contract.functions.get(function) if label == "reference" else None
        return fn.mutated_positions if fn else ()


class LiveOracle(Oracle):
    """Runs the reference bound to the assignment's conventions, and the hints' variants of it.

    With ``cache_dir``, a costly answer is kept there and read back by every later call with the same
    arguments, in this grading, the class's others and later runs (grader.answers); without, or where that
    folder is not private to this user, every answer is computed.
    """

    def __init__(self, assignment: Assignment, cache_dir: Path | None = None):
        super().__init__(assignment.contract)
        rnn = importlib.import_module("reference.rnn")
        variants = importlib.import_module("grader.checks.variants")
        options = assignment.conventions.reference_options()
        model = rnn.RNN(**options)
        self._sources = {"reference": model, "variants": variants.Variants(model)}
        self.answers = None if cache_dir is None else Answers.open(cache_dir, context(options, (rnn, variants)))

    def _answer(self, key, name, args, kwargs):
        label, function = name.split(".")
        compute = getattr(self._sources[label], function)
        if self.answers is None or not self._asked_by_others():
            return compute(*args, **kwargs)
        return self.answers.answer(name, args, kwargs, lambda: compute(*args, **kwargs))

    def _asked_by_others(self) -> bool:
        """Whether other gradings ask this call too: a case's or the report's expected values are, while a call
        made aside (a diagnosis, a hint) or after the search mostly carries one submission's own outputs, so
        keeping it would only grow the cache."""
        return self._at.scope is not None and not self._at.aside


class RecordingOracle(LiveOracle):
    """Live, keeping a plain-data copy of every scoped answer (and of the arguments it updated in place)."""

    keys_asides = True
    asks_probes = True

    def __init__(self, assignment: Assignment):
        super().__init__(assignment)
        self.recorded: dict[str, Any] = {}

    def _answer(self, key, name, args, kwargs):
        if key is None:
            return super()._answer(key, name, args, kwargs)
        try:
            result = super()._answer(key, name, args, kwargs)
        except ValueError as exc:  # a known mistake that cannot run on this case: the kit must know that too
            self.recorded[key] = {"call": name, "raised": str(exc)}
            raise
        mutated = {str(i): args[i] for i in self._mutated(name)}
        self.recorded[key] = _snapshot({"call": name, "value": result, "mutated": mutated})
        return result


class ReplayingOracle(Oracle):
    """Answers every call from recorded fixtures instead of running the reference."""

    keys_asides = True

    def __init__(self, contract: Contract, fixtures: dict[str, Any]):
        super().__init__(contract)
        self._fixtures = fixtures

    def _answer(self, key, name, args, kwargs):
        entry = self._fixtures.get(key) if key is not None else None
        if entry is None or entry["call"] != name:
            raise NotRecorded(f"no recorded output of {name} at {key or 'an unscoped call'}")
        if "raised" in entry:
            raise ValueError(entry["raised"])
        for index, state in entry["mutated"].items():
            for k, array in state.items():
                args[int(index)][k][...] = array  # the reference updated this argument in place
        return entry["value"]


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
    """Write recordings as one frame of the sandbox's plain-data format: no pickle, no code. In key order: the
    report's diagnostics may record in a thread beside the checks, so the order they came in varies."""
    path.write_bytes(protocol.encode(dict(sorted(fixtures.items())), MAX_FIXTURE_BYTES))


def load_fixtures(path: Path) -> dict[str, Any]:
    try:
        return _numbers(protocol.decode_frame(path.read_bytes(), MAX_FIXTURE_BYTES))
    except FileNotFoundError:
        raise FixtureError(f"no recorded expected values at {path}; rebuild the kit") from None
    except protocol.ProtocolError as exc:
        raise FixtureError(f"{path} is not a fixtures file the grader wrote: {exc}") from None
