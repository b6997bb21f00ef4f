"""Which submissions are more alike than the class's own distribution explains.

Every document (a submission's code, a known solution's) is tokenized and fingerprinted by copydetect:
names become V/F/O, strings S, comments and layout vanish, so renaming variables or reformatting changes
nothing, and every k-gram of the filtered code is hashed. The template's k-grams are boilerplate and
removed first. The score of a pair is the containment

    score(A, B) = |F(A) ∩ F(B)| / min(|F(A)|, |F(B)|)

of their fingerprint sets F: 1.0 when one holds all of the other. All k-grams are kept (no winnowing)
because copydetect's winnowing picks by Python's per-process string hash: the same class would give
different scores on each run.

The equations make all correct code alike, so no fixed number can say "copied". The threshold comes from
the classmate pairs' own scores: their median plus SPREADS robust standard deviations (1.4826 times the
median absolute deviation), kept within [FLOOR, CAP]. A class too small for a distribution uses
SMALL_CLASS_THRESHOLD. A document with fewer than MIN_FINGERPRINTS fingerprints of its own beyond the
template (an untouched template, an empty file) is listed apart and never flagged.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.similarity.model import (
    CLASSMATE,
    KNOWN,
    SimilarityReport,
    SimilarPair,
    Span,
)

NOISE_CHARS = 25  # k: the k-gram length in filtered code; copydetect's default noise threshold
SPREADS = 4.0
FLOOR, CAP = 0.5, 0.9
SMALL_CLASS_PAIRS = 20
SMALL_CLASS_THRESHOLD = 0.8
MIN_FINGERPRINTS = 40
MAX_SIDE_BY_SIDE = 100  # pairs shown side by side; more only listed (the threshold is then the question)

INSTALL_HINT = 'the similarity report needs copydetect: pip install "rnn-grader[similarity]"'


class SimilarityUnavailable(Exception):
    """copydetect is not installed; the message says how to install it."""


def similarity_available() -> bool:
    try:
        _copydetect()
    except SimilarityUnavailable:
        return False
    return True


def _copydetect():
    try:
        import copydetect
    except ImportError:
        raise SimilarityUnavailable(INSTALL_HINT) from None
    return copydetect


class _Document:
    """A document's copydetect fingerprint and the sorted array of its hashes beyond the boilerplate."""

    def __init__(self, name: str, code: str, boilerplate: np.ndarray):
        self.name = name
        self.code = code
        self.fingerprint = _copydetect().CodeFingerprint(
            f"{name}.py", NOISE_CHARS, 1, boilerplate=boilerplate, language="python", fp=io.StringIO(code)
        )
        self.hashes = np.array(sorted(self.fingerprint.hashes), dtype=np.int64)


def boilerplate_hashes(template_code: str | None) -> np.ndarray:
    if not template_code:
        return np.array([], dtype=np.int64)
    return _Document("template", template_code, np.array([], dtype=np.int64)).hashes


def compare_class(
    submissions: Mapping[str, str],
    *,
    known: Mapping[str, str] | None = None,
    template_code: str | None = None,
    template_name: str = "",
    unreadable: Mapping[str, str] | None = None,
    skipped_files: Sequence[str] = (),
) -> SimilarityReport:
    """The report for `submissions` (name -> code), each also against `known` (name -> code). A document
    the fingerprinting fails on is left out, with the reason among the report's unreadable ones."""
    boilerplate = boilerplate_hashes(template_code)
    unreadable = dict(unreadable or {})
    documents = _fingerprinted(submissions, boilerplate, unreadable)
    references = _fingerprinted(known or {}, boilerplate, unreadable)
    small = tuple(d.name for d in documents if len(d.hashes) < MIN_FINGERPRINTS)
    documents = [d for d in documents if len(d.hashes) >= MIN_FINGERPRINTS]
    references = [d for d in references if len(d.hashes) >= MIN_FINGERPRINTS]

    classmates = [(a, b, _containment(a.hashes, b.hashes)) for i, a in enumerate(documents) for b in documents[i + 1:]]
    against = [(a, b, _containment(a.hashes, b.hashes)) for a in documents for b in references]
    threshold = threshold_for([s for _, _, s in classmates])

    above = sorted(
        ((a, b, kind, score) for pairs, kind in ((classmates, CLASSMATE), (against, KNOWN))
         for a, b, score in pairs if score >= threshold.value),
        key=lambda p: (-p[3], p[0].name, p[1].name),
    )
    flagged = [_pair(a, b, kind, score, detailed=i < MAX_SIDE_BY_SIDE) for i, (a, b, kind, score) in enumerate(above)]
    return SimilarityReport(
        submissions=len(submissions),
        known_solutions=len(known or {}),
        pairs_compared=len(classmates) + len(against),
        median=round(threshold.median, 4),
        spread=round(threshold.spread, 4),
        threshold=round(threshold.value, 4),
        threshold_rule=threshold.rule,
        flagged=tuple(flagged),
        too_little_code=small,
        unreadable=tuple(f"{name}: {why}" for name, why in unreadable.items()),
        skipped_files=tuple(skipped_files),
        template=template_name,
    )


def _fingerprinted(codes: Mapping[str, str], boilerplate: np.ndarray, unreadable: dict[str, str]) -> list[_Document]:
    documents = []
    for name, code in codes.items():
        try:
            documents.append(_Document(name, code, boilerplate))
        except Exception as exc:  # noqa: BLE001 - copydetect and its lexer on a student's bytes: leave that one out
            unreadable[name] = f"could not be fingerprinted ({type(exc).__name__}: {str(exc)[:200]})"
    return documents


@dataclass(frozen=True)
class Threshold:
    value: float
    median: float
    spread: float
    rule: str  # how value was set, in words


def threshold_for(scores: Sequence[float]) -> Threshold:
    """The flagging threshold for a class whose classmate pairs scored `scores`."""
    median = statistics.median(scores) if scores else 0.0
    spread = 1.4826 * statistics.median(abs(s - median) for s in scores) if scores else 0.0
    if len(scores) < SMALL_CLASS_PAIRS:
        return Threshold(SMALL_CLASS_THRESHOLD, median, spread,
                         f"{len(scores)} classmate pairs are too few for a distribution (at least {SMALL_CLASS_PAIRS} "
                         f"are needed), so the fixed threshold {SMALL_CLASS_THRESHOLD:.2f} was used")
    value = min(CAP, max(FLOOR, median + SPREADS * spread))
    return Threshold(value, median, spread,
                     f"median {median:.2f} plus {SPREADS:g} robust standard deviations ({spread:.3f}) of the "
                     f"{len(scores)} classmate pairs' scores, kept between {FLOOR:.2f} and {CAP:.2f}")


def _containment(a: np.ndarray, b: np.ndarray) -> float:
    shared = np.intersect1d(a, b, assume_unique=True).size
    return shared / min(a.size, b.size)


def _pair(a: _Document, b: _Document, kind: str, score: float, detailed: bool) -> SimilarPair:
    if not detailed:
        return SimilarPair(a.name, b.name, kind, round(score, 4), 0.0, 0.0, "", "", (), ())
    _, shares, (slices_a, slices_b) = _copydetect().compare_files(a.fingerprint, b.fingerprint)
    return SimilarPair(
        first=a.name,
        second=b.name,
        kind=kind,
        score=round(score, 4),
        first_share=round(float(shares[0]), 4),
        second_share=round(float(shares[1]), 4),
        first_code=a.code,
        second_code=b.code,
        first_spans=_spans(slices_a, len(a.code)),
        second_spans=_spans(slices_b, len(b.code)),
    )


def _spans(slices: np.ndarray, length: int) -> tuple[Span, ...]:
    if slices.size == 0:
        return ()
    spans: list[Span] = []
    for start, end in sorted(zip(slices[0].tolist(), slices[1].tolist())):
        start, end = max(0, int(start)), min(length, int(end))
        if spans and start <= spans[-1].end:  # overlapping slices become one highlighted stretch
            spans[-1] = Span(spans[-1].start, max(spans[-1].end, end))
        elif start < end:
            spans.append(Span(start, end))
    return tuple(spans)
