"""report.yaml as data: what the report's diagnostics compute, and how much work they may do."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from grader.contract import Conventions
from grader.specfile import SpecFile


@dataclass(frozen=True)
class GradientSpec:
    seed: int
    K: int
    m: int
    tau: int
    param_scale: float
    h0_scale: float
    step: float
    entries_per_param: int
    error_floor: float


@dataclass(frozen=True)
class TrainingSpec:
    text: str
    text_chars: int
    seed: int
    m: int
    sigma: float
    eta: float
    seq_length: int
    n_updates: int
    chunks: int
    sample_chars: int
    passage_chars: int


# Training settings that default to the contract's conventions when report.yaml leaves them out.
FROM_CONVENTIONS = ("m", "sigma", "eta", "seq_length")


@dataclass(frozen=True)
class ReportSpec:
    gradients: GradientSpec
    training: TrainingSpec


def load_report_spec(path: Path, conventions: Conventions) -> ReportSpec:
    spec = SpecFile(path, "report spec")
    raw = spec.mapping(spec.raw, "top level", ("gradients", "training"))
    training = {**{k: getattr(conventions, k) for k in FROM_CONVENTIONS}, **spec.mapping(raw["training"], "training", optional=None)}
    report = ReportSpec(
        gradients=_section(spec, GradientSpec, raw["gradients"], "gradients"),
        training=_section(spec, TrainingSpec, training, "training"),
    )
    if not 1 <= report.training.chunks <= report.training.n_updates:
        spec.fail("training.chunks", "must be between 1 and n_updates")
    return report


def _section(spec: SpecFile, cls, raw, where: str):
    """One section, each value checked against its field's type, so that a '1e-5' typo fails here, not mid-run."""
    names = {f.name: f.type for f in fields(cls)}
    raw = spec.mapping(raw, where, tuple(names))
    convert = {
        "int": lambda v, at: spec.whole(v, at, minimum=0),
        "float": lambda v, at: spec.number(v, at),
        "str": lambda v, at: spec.text(v, at),
    }
    return cls(**{name: convert[kind](raw[name], f"{where}.{name}") for name, kind in names.items()})
