"""specs/report.yaml as data: what the report's diagnostics compute, and how much work they may do."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from grader.contract import SpecError, default_spec_dir


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


@dataclass(frozen=True)
class ReportSpec:
    gradients: GradientSpec
    training: TrainingSpec


def load_report_spec(spec_dir: Path | None = None) -> ReportSpec:
    path = (spec_dir or default_spec_dir()) / "report.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = ReportSpec(
            gradients=_section(GradientSpec, raw["gradients"]),
            training=_section(TrainingSpec, raw["training"]),
        )
    except FileNotFoundError:
        raise SpecError(f"no report spec at {path}") from None
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"{path} is not a valid report spec: {type(exc).__name__}: {exc}") from None
    if not 1 <= spec.training.chunks <= spec.training.n_updates:
        raise SpecError(f"{path}: training.chunks must be between 1 and n_updates")
    return spec


def _section(cls, raw: dict):
    """Build a spec section, converting each value to the field's type so '1e-5' typos fail here, not mid-run."""
    names = {f.name: f.type for f in fields(cls)}
    unknown = set(raw) - set(names)
    if unknown:
        raise KeyError(f"unknown key(s) {', '.join(sorted(unknown))} in {cls.__name__}")
    convert = {"int": int, "float": float, "str": str}
    return cls(**{name: convert[kind](raw[name]) for name, kind in names.items()})
