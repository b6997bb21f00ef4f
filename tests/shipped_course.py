"""The shipped course (and its variants) loaded once per test process.

About thirty test modules read the course at import, and every xdist worker imports every module when it
collects: one load each (about 14 ms of CPU) was 30 loads a worker. The Assignment is frozen, and a grading
process is handed one the same way, so sharing it between modules changes nothing a test sees. A test of
loading itself (a changed spec folder, a bad one) calls grader.assignment.load_assignment as before.
"""

from functools import cache

from grader.assignment import Assignment, load_assignment


@cache
def shipped(name: str | None = None) -> Assignment:
    """load_assignment(name): the default course, or a shipped variant by its name."""
    return load_assignment(name)
