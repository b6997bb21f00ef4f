"""The submission contract (specs/contract.yaml) as data, and the rules for what a submission returns.

Return values arrive from the sandbox as plain data (numbers, lists, dicts, fresh ndarrays). Before a
check compares anything, ``conform`` turns them into exactly the contract's shapes and dtype, or raises
``ContractViolation`` with a message that says what was expected and what came back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from grader.specfile import SpecError, SpecFile

Dims = dict[str, int]


class ContractViolation(Exception):
    """A submission returned something of the wrong kind, shape or value range."""


class LossReduction(StrEnum):
    """How the per-step losses -log(y_t^T p_t) make the sequence's loss."""

    SUM = "sum"
    MEAN = "mean"


@dataclass(frozen=True)
class AdaGrad:
    """memory += g**2; theta -= eta * g / sqrt(memory + eps)."""

    eps: float
    function: ClassVar[str] = "adagrad_step"
    title: ClassVar[str] = "AdaGrad"


@dataclass(frozen=True)
class Adam:
    """m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g**2; with t the 1-based step,
    theta -= eta * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)."""

    beta1: float
    beta2: float
    eps: float
    function: ClassVar[str] = "adam_step"
    title: ClassVar[str] = "Adam"


Optimizer = AdaGrad | Adam
OPTIMIZERS: Mapping[str, type[AdaGrad] | type[Adam]] = MappingProxyType({"adagrad": AdaGrad, "adam": Adam})


@dataclass(frozen=True)
class Conventions:
    """The course's choices: they drive the reference, the checks' constants, the hints and the report."""

    loss: LossReduction
    optimizer: Optimizer
    clip_bound: float
    smooth_decay: float  # smooth = decay * smooth + (1 - decay) * loss
    m: int
    eta: float
    seq_length: int
    sigma: float

    def reference_options(self) -> dict[str, Any]:
        """The reference model's keyword arguments (reference.rnn.RNN), as plain values."""
        optimizer = self.optimizer
        return {
            "loss": self.loss.value, "optimizer": type(optimizer).__name__.lower(), "eps": optimizer.eps,
            "beta1": getattr(optimizer, "beta1", 0.9), "beta2": getattr(optimizer, "beta2", 0.999),
            "clip_bound": self.clip_bound, "smooth_decay": self.smooth_decay, "eta": self.eta,
            "seq_length": self.seq_length,
        }

    def describe(self) -> str:
        """One line for people: the choices a submission written for another year may get wrong."""
        return (f"loss {'summed' if self.loss is LossReduction.SUM else 'averaged'} over the sequence, "
                f"{self.optimizer.title}, clipping to [-{self.clip_bound:g}, {self.clip_bound:g}]")


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

    @property
    def mutated_positions(self) -> tuple[int, ...]:
        return tuple(i for i, arg in enumerate(self.args) if arg.name in self.mutates)


@dataclass(frozen=True)
class Contract:
    dimensions: dict[str, str]
    params: dict[str, tuple[str, ...]]
    conventions: Conventions
    functions: dict[str, Function]
    digest: str
    # The distributions a submission may import besides the standard library (their dependencies come along).
    allowed_imports: tuple[str, ...] = ("numpy",)

    def param_shapes(self, dims: Dims) -> dict[str, tuple[int, ...]]:
        return {k: _resolve(shape, dims) for k, shape in self.params.items()}

    def signature_problem(self, name: str, parameters: Sequence[str] | None) -> str:
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


ARG_KINDS = ("int", "float", "rng", "params", "onehot", "array", "index", "text")
RETURN_KINDS = ("params", "scalar", "array", "indices", "vector")
# Function arguments whose default must be the convention of the same meaning.
DEFAULTS = MappingProxyType({"bound": "clip_bound", "eta": "eta", "seq_length": "seq_length", "eps": "eps", "beta1": "beta1",
            "beta2": "beta2"})


def load_contract(path: Path) -> Contract:
    """Read and validate contract.yaml."""
    spec = SpecFile(path, "contract")
    raw = spec.mapping(spec.raw, "top level", ("dimensions", "params", "conventions", "functions"), ("dtype", "imports"))
    params = {
        str(k): _required_shape(spec, v, f"params.{k}")
        for k, v in spec.mapping(raw["params"], "field 'params'", optional=None).items()
    }
    functions = {
        str(name): _function(spec, str(name), f)
        for name, f in spec.mapping(raw["functions"], "field 'functions'", optional=None).items()
    }
    conventions = _conventions(spec, raw["conventions"], functions)
    return Contract(
        dimensions=dict(spec.mapping(raw["dimensions"], "field 'dimensions'", optional=None)),
        params=params, conventions=conventions, functions=functions, digest=spec.digest,
        allowed_imports=_allowed_imports(spec, raw.get("imports", {"allowed": ["numpy"]})),
    )


def _allowed_imports(spec: SpecFile, raw) -> tuple[str, ...]:
    """imports.allowed: the distributions (pip names) a submission may import."""
    allowed = spec.mapping(raw, "imports", ("allowed",))["allowed"]
    if not isinstance(allowed, list) or not allowed:
        spec.fail("imports.allowed", "expected a non-empty list of package names")
    return tuple(spec.text(name, f"imports.allowed[{i}]") for i, name in enumerate(allowed))


def _conventions(spec: SpecFile, raw, functions: dict[str, Function]) -> Conventions:
    where = "conventions"
    raw = spec.mapping(raw, where, ("loss", "optimizer", "clip_bound", "smooth_decay", "m", "eta", "seq_length", "sigma"))
    opt = spec.mapping(raw["optimizer"], f"{where}.optimizer", ("name",), ("eps", "beta1", "beta2"))
    kind = OPTIMIZERS[spec.choice(opt["name"], f"{where}.optimizer.name", tuple(OPTIMIZERS))]
    fields = [f for f in ("beta1", "beta2", "eps") if f in kind.__dataclass_fields__]
    spec.mapping(opt, f"{where}.optimizer", ("name", *fields))
    optimizer = kind(**{f: (spec.number if f == "eps" else spec.fraction)(opt[f], f"{where}.optimizer.{f}") for f in fields})
    conventions = Conventions(
        loss=LossReduction(spec.choice(raw["loss"], f"{where}.loss", [r.value for r in LossReduction])),
        optimizer=optimizer,
        clip_bound=spec.number(raw["clip_bound"], f"{where}.clip_bound"),
        smooth_decay=spec.fraction(raw["smooth_decay"], f"{where}.smooth_decay"),
        m=spec.whole(raw["m"], f"{where}.m"),
        eta=spec.number(raw["eta"], f"{where}.eta"),
        seq_length=spec.whole(raw["seq_length"], f"{where}.seq_length"),
        sigma=spec.number(raw["sigma"], f"{where}.sigma"),
    )
    if optimizer.function not in functions:
        spec.fail(f"{where}.optimizer", f"{optimizer.title} needs the function {optimizer.function} in 'functions'")
    if other := [f for f in functions if f.endswith("_step") and f != optimizer.function]:
        spec.fail("functions", f"{other[0]} is not the step of the optimizer {optimizer.title} ({optimizer.function})")
    values = {**vars(conventions), **vars(optimizer)}
    for fn in functions.values():
        for arg in fn.args:
            if arg.default is not None and arg.name in DEFAULTS and arg.default != values.get(DEFAULTS[arg.name]):
                spec.fail(f"functions.{fn.name}.{arg.name}", f"default {arg.default!r} differs from conventions' "
                          f"{DEFAULTS[arg.name]} = {values.get(DEFAULTS[arg.name])!r}")
    return conventions


def _function(spec: SpecFile, name: str, raw) -> Function:
    where = f"functions.{name}"
    raw = spec.mapping(raw, where, ("args", "returns", "summary"), ("mutates",))
    args = []
    for i, a in enumerate(raw["args"] if isinstance(raw["args"], list) else spec.fail(f"{where}.args", "expected a list")):
        a = spec.mapping(a, f"{where}.args[{i}]", ("name", "kind"), ("shape", "default"))
        args.append(Arg(str(a["name"]), spec.choice(a["kind"], f"{where}.args[{i}].kind", ARG_KINDS),
                        _shape(spec, a.get("shape"), f"{where}.args[{i}].shape"), a.get("default")))
    returns = []
    listed = raw["returns"] if isinstance(raw["returns"], list) else spec.fail(f"{where}.returns", "expected a list")
    for i, r in enumerate(listed):
        r = spec.mapping(r, f"{where}.returns[{i}]", ("name", "kind"), ("shape", "length"))
        returns.append(Returned(str(r["name"]), spec.choice(r["kind"], f"{where}.returns[{i}].kind", RETURN_KINDS),
                                _shape(spec, r.get("shape"), f"{where}.returns[{i}].shape"), r.get("length")))
    mutates = tuple(map(str, raw.get("mutates", ())))
    if unknown := [m for m in mutates if m not in {a.name for a in args}]:
        spec.fail(f"{where}.mutates", f"{unknown[0]!r} is not one of its arguments")
    return Function(name, tuple(args), tuple(returns), mutates, " ".join(str(raw["summary"]).split()))


def _shape(spec: SpecFile, raw, where: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        spec.fail(where, f"expected a list of dimensions, not {raw!r}")
    return tuple(str(d) for d in raw)


def _required_shape(spec: SpecFile, raw, where: str) -> tuple[str, ...]:
    shape = _shape(spec, raw, where)
    if shape is None:
        spec.fail(where, "expected a list of dimensions, not null")
    return shape


def _resolve(shape: tuple[str, ...], dims: Dims) -> tuple[int, ...]:
    return tuple(int(d) if d.isdigit() else dims[d] for d in shape)


def conform(contract: Contract, function: str, value: Any, dims: Dims, uses: Collection[str] | None = None,
            float32: list[str] | None = None) -> tuple[Any, ...]:
    """Check a function's return value against the contract; return its parts as exact float64 data.

    A function with one return value still gives a 1-tuple; one with none gives (). With ``uses``, only
    the parts of those names are checked and returned, the others are None: a check that reads dW must
    not fail because h_last has the wrong shape (the check that reads h_last fails for that).

    float32 arrays are refused, unless ``float32`` is a list: then they are converted, and what came back
    as float32 is appended to it (the caller names float32 once, and allows for its rounding elsewhere).
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
    if float32 is not None:
        parts = [_upcast(v, f"{function}'s {r.name}", float32) for r, v in zip(fn.returns, parts)]
    return tuple(
        _conform_one(contract, function, r, v, dims) if uses is None or r.name in uses else None
        for r, v in zip(fn.returns, parts)
    )


def _upcast(value: Any, where: str, seen: list[str]) -> Any:
    """float32 arrays (also inside a params dict) as float64, each one's place noted in ``seen``; so is a
    float64 array that holds float32 numbers only (computed in float32, then converted)."""
    if isinstance(value, np.ndarray) and value.dtype == np.float32:
        seen.append(f"{where} is a float32 array")
        return value.astype(np.float64)
    if isinstance(value, np.ndarray) and value.dtype == np.float64 and float32_valued(value):
        seen.append(f"{where} holds float32 numbers")
        return value
    if isinstance(value, dict):
        return {k: _upcast(v, f"{where}['{k}']", seen) for k, v in value.items()}
    return value


def float32_valued(values: np.ndarray) -> bool:
    """Whether every entry is a float32 number and at least three have more than 12 significant bits: a
    float64 computation gives such entries with probability about 2**-29 each, so these were computed in
    float32 (and converted), not merely short numbers such as 0, 0.5, 1 or 2**-54."""
    flat = values.ravel()
    if flat.size < 3 or not np.all(np.isfinite(flat)):
        return False
    with np.errstate(over="ignore"):
        if not np.array_equal(flat.astype(np.float32).astype(np.float64), flat):
            return False
    mantissa, _ = np.frexp(flat)
    return int(np.count_nonzero(mantissa * 4096 != np.round(mantissa * 4096))) >= 3


def _conform_one(contract: Contract, function: str, spec: Returned, value: Any, dims: Dims) -> Any:
    where = f"{function} returned {spec.name}"
    if spec.kind == "params":
        return conform_params(contract, value, dims, where)
    if spec.kind == "scalar":
        arr = _float_array(value, where)
        if arr.size != 1:
            raise ContractViolation(f"{where} as {_describe(value)}; expected one number.")
        return float(arr.reshape(()))
    if spec.kind == "array" and spec.shape is not None:  # the contract's loader requires a shape for arrays
        return _exact_shape(value, _resolve(spec.shape, dims), spec.shape, where)
    if spec.kind == "vector" and spec.length is not None:  # ... and a length for vectors and indices
        arr = _float_array(value, where)
        n = dims[spec.length]
        if arr.size != n or max(arr.shape, default=1) != arr.size:
            raise ContractViolation(f"{where} as {_describe(value)}; expected {n} numbers ({spec.length} = {n}).")
        return arr.reshape(n)
    if spec.kind == "indices" and spec.length is not None:
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
