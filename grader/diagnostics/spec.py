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
class RealTextSpec:
    """The course reports' figures on a real text (--text); hyper-parameters other than m are the contract's."""

    seed: int
    m: int
    n_updates: int
    samples: int
    sample_chars: int
    passage_chars: int
    band_runs: int
    base_seconds: float
    seconds_per_update: float
    gradient_steps: tuple[float, ...]
    gradient_entries: int

    def budget_seconds(self, n_updates: int) -> float:
        """The run's time budget for n_updates updates."""
        return self.base_seconds + self.seconds_per_update * n_updates


@dataclass(frozen=True)
class ReportSpec:
    gradients: GradientSpec
    training: TrainingSpec
    real_text: RealTextSpec | None  # None: this course's report.yaml has no section for --text


def load_report_spec(path: Path, conventions: Conventions) -> ReportSpec:
    spec = SpecFile(path, "report spec")
    raw = spec.mapping(spec.raw, "top level", ("gradients", "training"), ("real_text",))
    training = {**{k: getattr(conventions, k) for k in FROM_CONVENTIONS},
                **spec.mapping(raw["training"], "training", optional=None)}
    report = ReportSpec(
        gradients=_section(spec, GradientSpec, raw["gradients"], "gradients"),
        training=_section(spec, TrainingSpec, training, "training"),
        real_text=_section(spec, RealTextSpec, raw["real_text"], "real_text") if "real_text" in raw else None,
    )
    if not 1 <= report.training.chunks <= report.training.n_updates:
        spec.fail("training.chunks", "must be between 1 and n_updates")
    for name in ("m", "n_updates", "samples", "band_runs", "gradient_entries") if report.real_text else ():
        spec.whole(getattr(report.real_text, name), f"real_text.{name}")
    return report


def _section(spec: SpecFile, cls, raw, where: str):
    """One section, each value checked against its field's type, so that a '1e-5' typo fails here, not mid-run."""
    names = {f.name: str(f.type) for f in fields(cls)}  # the annotations' text (from __future__ import annotations)
    raw = spec.mapping(raw, where, tuple(names))
    convert = {
        "int": lambda v, at: spec.whole(v, at, minimum=0),
        "float": lambda v, at: spec.number(v, at),
        "str": lambda v, at: spec.text(v, at),
        "tuple[float, ...]": lambda v, at: tuple(
            spec.number(x, at) for x in (v if isinstance(v, list) and v else spec.fail(at, "must be a list of numbers"))),
    }
    return cls(**{name: convert[kind](raw[name], f"{where}.{name}") for name, kind in names.items()})
