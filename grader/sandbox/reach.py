"""What a strong tier's worker must not reach: the grader's own packages and the files it protects (its
package, the reference, the shipped spec). Checked by each tier's probe and again by every worker before
rnn.py is imported, so a worker started on a kept probe pass (grader.sandbox.passes) is checked all the same.

Self-contained (standard library only): the worker loads this file by path, and the probes run its source.
"""

import importlib.util


def reachable(protected):
    """The grader's packages and the ``protected`` files this process can still reach (empty: none)."""
    # A folder it cannot enter still reads as an empty namespace package: only a real origin counts.
    seen = [name for name in ("grader", "reference")
            if getattr(importlib.util.find_spec(name), "origin", None) not in (None, "namespace")]
    for path in protected:
        try:
            open(path, "rb").close()
        except OSError:
            continue
        seen.append(path)
    return seen
