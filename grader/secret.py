"""The course's secret: it decides which cases the full grader draws, so the student kit cannot know them.

The kit records the reference's answers to the cases it tries. Were the full grader to try the same
cases, those recordings would be an answer key. So the full grader draws its cases under a secret of the
course (a random salt in the file ``course-secret`` beside the course's grading.yaml), and the kit under
a public salt of its own. Grading stays deterministic for a course: same secret, same cases.

The secret is made once, on first use (or by ``python -m grader secret``), readable by its owner only.
It is never copied into the kit. Keep it with the course's spec folder: a new secret means new cases.
Where the spec folder is not the place for it (a grader installed read-only, a CI's or an autograder's
secret store), the environment variable RNN_GRADER_COURSE_SECRET gives it instead, and wins over the file.

A course may also draw each student's own cases (grading.yaml, ``cases: per_student``): the salt is then
an HMAC of the student's identity keyed by the course secret, so it is fixed for a student, differs
between students, and neither another student's salt nor the secret can be worked out from it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from grader.specfile import SpecError, default_spec_dir

SECRET_FILE = "course-secret"
SECRET_ENV = "RNN_GRADER_COURSE_SECRET"
KIT_SALT = "student kit"  # public: the kit's cases are in the kit anyway
SECRET_BYTES = 32
MAX_SECRET_CHARS = 1024


def student_salt(secret: str, student: str) -> str:
    """The salt of one student's cases: HMAC-SHA256 of the student's identity, keyed by the course secret."""
    if not secret or not student:
        raise ValueError("a student's salt needs the course secret and the student's identity")
    return hmac.new(secret.encode(), b"student cases\0" + student.encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


def secret_path(spec_dir: Path | None = None) -> Path:
    return Path(spec_dir or default_spec_dir()) / SECRET_FILE


def course_secret(spec_dir: Path | None = None) -> tuple[str, bool]:
    """The course's secret, made now if there is none yet; returns (secret, whether it was made now)."""
    if given := os.environ.get(SECRET_ENV, "").strip():
        return _checked(given, f"the environment variable {SECRET_ENV}"), False
    path = secret_path(spec_dir)
    try:
        return _read(path), False
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another grading made it a moment ago
        return _read(path), False
    except OSError as exc:
        raise SpecError(
            f"cannot create the course secret {path} ({exc.strerror or exc}); it decides which cases the "
            f"grader tries. Copy the spec folder where you can write and grade with --spec COPY, or make the "
            f"secret once as the folder's owner: python -m grader secret --spec {path.parent}"
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(SECRET_BYTES) + "\n")
    return _read(path), True


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as f:
            text = f.read(MAX_SECRET_CHARS + 1).strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the course secret {path}: {exc}") from None
    if not text:
        raise SpecError(f"the course secret {path} is empty; delete it to have a new one made (the graded cases "
                        "then change)")
    return _checked(text, f"the course secret {path}")


def _checked(secret: str, where: str) -> str:
    if len(secret) > MAX_SECRET_CHARS:
        raise SpecError(f"{where} must hold one line of 1 to {MAX_SECRET_CHARS} characters")
    return secret
