"""Taking submissions as students hand them in: which file, which reading, and a clean module to import.

- locate: which file of an upload is the submission; whether a folder is one submission or a class
- notebook: a notebook's code cells as one source, with a map back to cells
- extract: the definitions of a source without its top-level work
- prepare: the folder the sandbox loads (rnn.py made from the graded file)
- imports: stand-ins for the imports the grader cannot offer, failing only where they are used
- loading: the import, with the definitions-only fallback for top-level work
"""

from grader.intake.imports import Offered
from grader.intake.loading import load
from grader.intake.locate import Located, NotFound, Reading, locate
from grader.intake.prepare import NotGradable, Prepared, prepare

__all__ = ["Located", "NotFound", "NotGradable", "Offered", "Prepared", "Reading", "load", "locate", "prepare"]
