"""GitHub Classroom: the result its autograding reporter reads, and the check that the grading files are intact.

``integrity`` uses the standard library only: the workflow runs it as a script, before anything of the
student's repository is installed.
"""

from grader.classroom.integrity import append_github_output, runner_document, runner_test

__all__ = ["append_github_output", "runner_document", "runner_test"]
