"""The reference's smooth-loss curve as a band, and a submission's curve judged against it.

Two exact float64 implementations of the same training do not produce the same curve: they add the same
numbers in another order (per time step or as one matrix product), which changes the last bit of a
result, and training amplifies such differences (AdaGrad divides by the root of small accumulated
squares, sampling nothing but the text keeps the trajectory chaotic), so after a few hundred updates the
curves part by far more than rounding while staying equally good. The band shows that spread: the
reference run ``band_runs`` times from initial weights that differ only in the last bit (each entry of U,
W and V moved one unit in the last place, up or down), per update the lowest and highest smooth loss.

Computing it takes one reference run per member, so a band is kept on disk, keyed by the digest of
everything it depends on (the text, the settings, the reference's source, numpy's version): the second
report on the same text and settings reads it instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from grader import __version__
from grader.atomic import write_whole
from grader.oracle import LiveOracle, Oracle
from grader.sandbox.claims import claimed_folder, remove_tree

DRIFT = (
    "Exact implementations drift apart: they round in a different order, and training amplifies a "
    "last-bit difference until, after a few hundred updates, two correct runs differ by much more than "
    "rounding; the band is that spread, measured on the reference itself."
)
FORMAT = 1


@dataclass(frozen=True)
class BandSettings:
    """Everything a band depends on besides the text."""

    K: int
    m: int
    sigma: float
    eta: float
    seq_length: int
    n_updates: int
    seed: int
    runs: int
    conventions: str = ""  # the reference's options (loss, optimizer, clip, smoothing) as JSON


@dataclass(frozen=True)
class ReferenceBand:
    center: tuple[float, ...]  # the run from the unperturbed initial weights (those the submission starts from)
    lo: tuple[float, ...]  # per update, the lowest smooth loss over the runs
    hi: tuple[float, ...]
    runs: int
    cached: bool = False  # read from the cache rather than computed now


def perturbed(params: dict[str, np.ndarray], run: int, seed: int) -> dict[str, np.ndarray]:
    """Run 0: the params themselves (copied). Run r > 0: every entry of U, W, V one ulp up or down, at random."""
    out = {k: v.copy() for k, v in params.items()}
    if run == 0:
        return out
    rng = np.random.default_rng([seed, run])
    for k in ("U", "W", "V"):
        up = rng.random(out[k].shape) < 0.5
        out[k] = np.where(up, np.nextafter(out[k], np.inf), np.nextafter(out[k], -np.inf))
    return out


class BandRun:
    """The band for `text` from the initial params `start`: read from the cache, or computed by a child
    process (``python -m grader.bandjob``) while the submission trains on the other core.

    ``result()`` waits for it; None when there is no reference (the student kit) or the child failed, with
    the reason in ``problem``. Use as a context manager: leaving it stops a child still running.
    ``cache_dir=None`` neither reads nor keeps a cached band.
    """

    def __init__(self, text: str, start: dict[str, np.ndarray], settings: BandSettings, cache_dir: Path | None,
                 spec_dir: Path, oracle: Oracle):
        self.settings = settings
        self.problem = ""
        self._process = None
        self._found = None
        self._claim = claimed_folder("band-")  # swept by a later run if this process is killed meanwhile
        self._scratch = self._claim.path
        if not isinstance(oracle, LiveOracle):
            self.problem = "the student kit has no reference, so there is no reference band"
            return
        self._cached = None if cache_dir is None else (
            Path(cache_dir) / "bands" / f"{band_key(text, start, settings)}.json")
        self._found = None if self._cached is None else _read(self._cached, settings)
        if self._found is not None:
            return
        job = self._scratch / "job.json"
        job.write_text(json.dumps({"text": text, "start": {k: v.tolist() for k, v in start.items()},
                                   "settings": asdict(settings), "spec_dir": str(spec_dir),
                                   "out": str(self._scratch / "band.json"), "parent": os.getpid()}), encoding="utf-8")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "grader.bandjob", str(job)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": _import_path()},
        )

    def result(self) -> ReferenceBand | None:
        if self._process is not None:
            _, err = self._process.communicate()
            if self._process.returncode != 0:
                last = (err.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
                self.problem = f"the reference band could not be computed ({last})"
            else:
                computed = _read(self._scratch / "band.json", self.settings)
                self._found = None if computed is None else dataclasses.replace(computed, cached=False)
                if self._cached is not None and self._found is not None:
                    try:
                        write_band(self._cached, self._found, self.settings)
                    except OSError:
                        pass  # no cache there: the next report computes the band again
            self._process = None
        return self._found

    def __enter__(self) -> BandRun:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        remove_tree(self._scratch)
        self._claim.release()


def compute_band(oracle: Oracle, text: str, start: dict[str, np.ndarray], settings: BandSettings) -> ReferenceBand:
    """Run the reference once per member and take the spread per update."""
    curves = [
        np.asarray(oracle.reference.train(text, perturbed(start, run, settings.seed), settings.n_updates,
                                          settings.eta, settings.seq_length)[1], dtype=np.float64)
        for run in range(settings.runs)
    ]
    stacked = np.vstack(curves)
    return ReferenceBand(tuple(stacked[0].tolist()), tuple(stacked.min(axis=0).tolist()),
                         tuple(stacked.max(axis=0).tolist()), settings.runs)


def _import_path() -> str:
    """The folder this grader is imported from, first: the child must run the same grader and reference."""
    here = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])


def band_key(text: str, start: dict[str, np.ndarray], settings: BandSettings) -> str:
    digest = hashlib.sha256()
    for part in (text.encode("utf-8"), json.dumps(asdict(settings), sort_keys=True).encode(),
                 _reference_source(), np.__version__.encode(), str(FORMAT).encode()):
        digest.update(hashlib.sha256(part).digest())
    for k in sorted(start):
        digest.update(np.ascontiguousarray(start[k], dtype=np.float64).tobytes())
    return digest.hexdigest()[:32]


def _reference_source() -> bytes:
    """The reference's code: a changed reference must not reuse an old band."""
    spec = importlib.util.find_spec("reference.rnn")  # only asked with a live oracle: the reference is there
    if spec is None or spec.origin is None:
        raise ImportError("the reference (reference.rnn) is not installed")
    return Path(spec.origin).read_bytes()


def _read(path: Path, settings: BandSettings) -> ReferenceBand | None:
    """The cached band, or None when it is missing or not a complete band the grader wrote."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        center, lo, hi = (tuple(float(v) for v in raw[k]) for k in ("center", "lo", "hi"))
        band = ReferenceBand(center, lo, hi, runs=int(raw["runs"]), cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    n = settings.n_updates
    if raw.get("format") != FORMAT or not len(band.center) == len(band.lo) == len(band.hi) == n:
        return None
    return band


def write_band(path: Path, band: ReferenceBand, settings: BandSettings) -> None:
    """Whole or not at all (grader.atomic): a reader sees a whole band or none."""
    data = {"format": FORMAT, "grader": __version__, "settings": asdict(settings),
            "runs": band.runs, "center": band.center, "lo": band.lo, "hi": band.hi}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, json.dumps(data))


@dataclass(frozen=True)
class BandJudgement:
    inside: float  # share of updates whose smooth loss lies within the band
    worst_update: int  # 1-based update where the curve is farthest outside the band widened by its own spread
    worst_excess: float  # how far outside (nats, signed: + above the band, - below); 0 when never outside
    consistent: bool
    note: str


def judge(curve, band: ReferenceBand, who: str) -> BandJudgement:
    """Is `curve` (smooth loss per update) what an exact implementation could produce? A note, never a score.

    Consistent when at every update the curve lies within the band widened on each side by the band's
    own spread there (plus rounding, 1e-9 relative): five runs show the spread's size, not its extremes.
    At the start the band is a line, so there a difference beyond rounding is a real difference.
    """
    n = min(len(curve), len(band.lo))
    if n == 0:
        return BandJudgement(0.0, 0, 0.0, False, f"{who}: no smooth loss to compare with the band.")
    s = np.asarray(curve[:n], dtype=np.float64)
    lo, hi = np.asarray(band.lo[:n]), np.asarray(band.hi[:n])
    spread = hi - lo + 1e-9 * np.abs(hi)
    above, below = s - (hi + spread), (lo - spread) - s
    excess = np.maximum(above, below)
    inside = float(np.mean((s >= lo) & (s <= hi)))
    worst = int(np.argmax(excess))
    signed = float(above[worst]) if above[worst] >= below[worst] else -float(below[worst])
    at_end = f"{s[-1]:.2f} after update {n} (reference band {lo[-1]:.2f}-{hi[-1]:.2f})"
    if excess[worst] <= 0:
        return BandJudgement(inside, 0, 0.0, True,
                             f"{who}: within the reference's spread at every update ({inside:.0%} inside the band "
                             f"itself); {at_end}. This is what a correct implementation looks like.")
    side = "above" if signed > 0 else "below"
    return BandJudgement(
        inside, worst + 1, signed, False,
        f"{who}: leaves the reference's spread, {abs(signed):.3g} nats {side} it at update {worst + 1} "
        f"(band {lo[worst]:.4g}-{hi[worst]:.4g}); {at_end}. Exact implementations do not differ this much: "
        "something in the training differs from the contract.")
