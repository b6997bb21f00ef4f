"""The submission contract (specs/contract.yaml) as data, and the rules for what a submission returns.

Return values arrive from the sandbox as plain data (numbers, lists, dicts, fresh ndarrays). Before a
check compares anything, ``conform`` turns them into exactly the contract's shapes and dtype, or raises
``ContractViolation`` with a message that says what was expected and what came back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

Dims = dict[str, int]


class ContractViolation(Exception):
    """A submission returned something of the wrong kind, shape or value range."""


class SpecError(Exception):
    """A spec file is missing or malformed."""


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str
    shape: tuple[str, ...] | None = None
    default: Any = None


@dataclass(frozen=True)
class Returned:
    name: str
    kind: str
    shape: tuple[str, ...] | None = None
    length: str | None = None


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[Arg, ...]
    returns: tuple[Returned, ...]
    mutates: tuple[str, ...]
    summary: str

    @property
    def signature(self) -> str:
        parts = [a.name if a.default is None else f"{a.name}={a.default}" for a in self.args]
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class Contract:
    dimensions: dict[str, str]
    params: dict[str, tuple[str, ...]]
    conventions: dict[str, float]
    functions: dict[str, Function]
    digest: str

    def param_shapes(self, dims: Dims) -> dict[str, tuple[int, ...]]:
        return {k: _resolve(shape, dims) for k, shape in self.params.items()}

    def signature_problem(self, name: str, parameters: list[str] | None) -> str:
        """Why a submission's function cannot be called as the contract calls it ('' if it can).

        ``parameters`` are the submission's parameter names (``*args`` marked with its star), None when
        the name is missing or not callable. The grader passes every argument by position, so names may
        differ and ``*args`` takes any number; otherwise the count may not fall short. Extra parameters
        are accepted here: if they lack defaults, the call itself reports it.
        """
        fn = self.functions[name]
        if parameters is None:
            return f"rnn.py does not define a function {fn.signature}."
        positional = [p for p in parameters if not p.startswith("**")]
        if any(p.startswith("*") for p in positional):
            return ""
        if len(positional) < len(fn.args):
            return (
                f"{name} takes {len(parameters)} parameter(s) ({', '.join(parameters) or 'none'}) "
                f"but the contract calls it as {fn.signature}."
            )
        return ""


def wraps(text_length: int, seq_length: int, n_updates: int) -> list[int]:
    """The updates (1-based) after which train's text position returns to 0, by the contract's rule:
    e += seq_length, and when e > len(text) - seq_length - 1, e = 0."""
    e, found = 0, []
    for update in range(1, n_updates + 1):
        e += seq_length
        if e > text_length - seq_length - 1:
            e = 0
            found.append(update)
    return found


def default_spec_dir() -> Path:
    return Path(str(resources.files("specs")))


def load_contract(spec_dir: Path | None = None) -> Contract:
    path = (spec_dir or default_spec_dir()) / "contract.yaml"
    try:
        raw_text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(raw_text)
        return Contract(
            dimensions=dict(raw["dimensions"]),
            params={k: tuple(str(d) for d in v) for k, v in raw["params"].items()},
            conventions=dict(raw["conventions"]),
            functions={name: _function(name, f) for name, f in raw["functions"].items()},
            digest=hashlib.sha256(raw_text.encode()).hexdigest()[:16],
        )
    except FileNotFoundError:
        raise SpecError(f"no contract at {path}") from None
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise SpecError(f"{path} is not a valid contract: {type(exc).__name__}: {exc}") from None


def _function(name: str, raw: dict) -> Function:
    return Function(
        name=name,
        args=tuple(
            Arg(a["name"], a["kind"], _shape(a.get("shape")), a.get("default")) for a in raw["args"]
        ),
        returns=tuple(
            Returned(r["name"], r["kind"], _shape(r.get("shape")), r.get("length")) for r in raw["returns"]
        ),
        mutates=tuple(raw.get("mutates", ())),
        summary=" ".join(str(raw.get("summary", "")).split()),
    )


def _shape(raw: list | None) -> tuple[str, ...] | None:
    return None if raw is None else tuple(str(d) for d in raw)


def _resolve(shape: tuple[str, ...], dims: Dims) -> tuple[int, ...]:
    return tuple(int(d) if d.isdigit() else dims[d] for d in shape)


def conform(contract: Contract, function: str, value: Any, dims: Dims, uses: Collection[str] | None = None) -> tuple[Any, ...]:
    """Check a function's return value against the contract; return its parts as exact float64 data.

    A function with one return value still gives a 1-tuple; one with none gives (). With ``uses``, only
    the parts of those names are checked and returned, the others are None: a check that reads dW must
    not fail because h_last has the wrong shape (the check that reads h_last fails for that).
    """
    fn = contract.functions[function]
    if not fn.returns:
        return ()
    if len(fn.returns) == 1:
        parts = [value]
    else:
        names = ", ".join(r.name for r in fn.returns)
        if not isinstance(value, list) or len(value) != len(fn.returns):
            raise ContractViolation(
                f"{function} should return {len(fn.returns)} values ({names}); it returned {_describe(value)}."
            )
        parts = value
    return tuple(
        _conform_one(contract, function, r, v, dims) if uses is None or r.name in uses else None
        for r, v in zip(fn.returns, parts)
    )


def _conform_one(contract: Contract, function: str, spec: Returned, value: Any, dims: Dims) -> Any:
    where = f"{function} returned {spec.name}"
    if spec.kind == "params":
        return conform_params(contract, value, dims, where)
    if spec.kind == "scalar":
        arr = _float_array(value, where)
        if arr.size != 1:
            raise ContractViolation(f"{where} as {_describe(value)}; expected one number.")
        return float(arr.reshape(()))
    if spec.kind == "array":
        return _exact_shape(value, _resolve(spec.shape, dims), spec.shape, where)
    if spec.kind == "vector":
        arr = _float_array(value, where)
        n = dims[spec.length]
        if arr.size != n or max(arr.shape, default=1) != arr.size:
            raise ContractViolation(f"{where} as {_describe(value)}; expected {n} numbers ({spec.length} = {n}).")
        return arr.reshape(n)
    if spec.kind == "indices":
        return _indices(value, dims[spec.length], dims["K"], spec.length, where)
    raise SpecError(f"unknown return kind {spec.kind!r} for {function}")


def conform_params(contract: Contract, value: Any, dims: Dims, where: str) -> dict[str, np.ndarray]:
    if not isinstance(value, dict):
        raise ContractViolation(f"{where} as {_describe(value)}; expected a dict with keys {', '.join(contract.params)}.")
    missing = [k for k in contract.params if k not in value]
    extra = [k for k in value if k not in contract.params]
    if missing or extra:
        said = "; ".join(
            s for s in (missing and f"missing {', '.join(missing)}", extra and f"unexpected {', '.join(map(str, extra))}") if s
        )
        raise ContractViolation(f"{where} with the wrong keys: {said}. Expected exactly {', '.join(contract.params)}.")
    shapes = contract.param_shapes(dims)
    return {
        k: _exact_shape(value[k], shapes[k], contract.params[k], f"{where}['{k}']") for k in contract.params
    }


def _exact_shape(value: Any, shape: tuple[int, ...], names: tuple[str, ...], where: str) -> np.ndarray:
    arr = _float_array(value, where)
    if arr.shape != shape:
        named = ", ".join(f"{n}={s}" if not n.isdigit() else n for n, s in zip(names, shape))
        raise ContractViolation(f"{where} with shape {arr.shape}; expected {shape} ({named}).")
    return arr


def _float_array(value: Any, where: str) -> np.ndarray:
    if isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        raise ContractViolation(f"{where} as {_describe(value)}; expected numbers.")
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != np.float64:
        # float32 rounding alone makes every comparison fail: say so instead of a dozen puzzling mismatches
        raise ContractViolation(f"{where} as {value.dtype} values; the contract computes in float64 throughout.")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int too large for any float
        raise ContractViolation(f"{where} as {_describe(value)}; expected numbers.") from None
    if not np.all(np.isfinite(arr)):
        raise ContractViolation(f"{where} with non-finite values (nan or inf).")
    return arr


def _indices(value: Any, n: int, K: int, length_name: str, where: str) -> np.ndarray:
    arr = _float_array(value, where)
    if arr.size != n or max(arr.shape, default=1) != arr.size:
        raise ContractViolation(f"{where} as {_describe(value)}; expected {n} indices ({length_name} = {n}).")
    arr = arr.reshape(n)
    if np.any(arr != np.round(arr)):
        raise ContractViolation(f"{where} with non-integer values; expected character indices.")
    if np.any((arr < 0) | (arr >= K)):
        raise ContractViolation(f"{where} with values outside 0..{K - 1} (K = {K}).")
    return arr.astype(np.int64)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"a dict with keys {', '.join(map(str, value))}"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
