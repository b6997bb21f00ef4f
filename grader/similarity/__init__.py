"""How alike the class's submissions are, pair by pair and against known solutions; never a score change.

    sources: a submission's code as one text (folder, zip or single file), read with bounds
    model: the report (pairs, threshold, what was left out), plain data the renderers read
    detect: copydetect's fingerprints, every pair's overlap, the threshold from the class's own scores
"""

from grader.similarity.model import SimilarityReport, SimilarPair

__all__ = ["SimilarPair", "SimilarityReport"]
