"""The similarity report as plain data: grader.similarity.detect fills it in, the HTML page only reads it."""

from __future__ import annotations

from dataclasses import dataclass

CLASSMATE, KNOWN = "classmate", "known solution"


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of a document that the other document of the pair shares."""

    start: int
    end: int


@dataclass(frozen=True)
class SimilarPair:
    """Two documents whose share of common fingerprints is above the class's threshold."""

    first: str  # a submission's name
    second: str  # another submission's name, or a known solution's path under --against
    kind: str  # CLASSMATE or KNOWN
    score: float  # shared fingerprints / fingerprints of the smaller document (1.0: one contains the other)
    first_share: float  # copydetect's share of `first`'s code found in `second`
    second_share: float
    first_code: str
    second_code: str
    first_spans: tuple[Span, ...]
    second_spans: tuple[Span, ...]


@dataclass(frozen=True)
class SimilarityReport:
    submissions: int  # compared with each other
    known_solutions: int
    pairs_compared: int
    median: float  # of the classmate pairs' scores
    spread: float  # their median absolute deviation, scaled to a standard deviation
    threshold: float  # a pair at or above it is flagged
    threshold_rule: str  # how the threshold was set, in words
    flagged: tuple[SimilarPair, ...]  # the most similar first
    too_little_code: tuple[str, ...] = ()  # names with too little code of their own beyond the template
    unreadable: tuple[str, ...] = ()  # "name: why" for submissions left out: their code could not be read
    skipped_files: tuple[str, ...] = ()  # "name: file: why" for files left out of a compared submission
    template: str = ""  # the boilerplate file's name, if one was used
