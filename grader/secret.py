"""The course's secret: it decides which cases the full grader draws, so the student kit cannot know them.

The kit records the reference's answers to the cases it tries. Were the full grader to try the same
cases, those recordings would be an answer key. So the full grader draws its cases under a secret of the
course (a random salt), and the kit under a public salt of its own. Grading stays deterministic for a
course: same secret, same cases.

One secret per course spec, wherever the grader runs from. Where it lives:

- a spec that ships with the grader (``default``, ``mean-adam``; by name, by default or by the folder's
  path): in the user's data folder, keyed by the spec's name,
  ``$XDG_DATA_HOME/rnn-grader/<name>/course-secret`` (``~/.local/share/...`` without XDG_DATA_HOME). Run
  from a checkout or from an installed package (the two have their own copy of the spec folder), the grader
  finds the same secret; reinstalling or upgrading the grader keeps it. A secret an older grader made inside
  the shipped folder (``specs/course-secret``) is taken over the first time, not replaced.
- a course's own spec folder (``--spec PATH``): ``PATH/course-secret``, so it travels with the folder.
- the environment variable RNN_GRADER_COURSE_SECRET, where set, wins over both (a CI's or an autograder's
  secret store, a grader installed read-only).

The secret is made once, on first use (or by ``python -m grader secret``), readable by its owner only, and
never copied into the kit. ``course_secret`` returns where it found or made it, so every command that
writes it can say where.

A course may also draw each student's own cases (grading.yaml, ``cases: per_student``): the salt is then
an HMAC of the student's identity keyed by the course secret, so it is fixed for a student, differs
between students, and neither another student's salt nor the secret can be worked out from it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from grader.atomic import write_whole
from grader.specfile import DEFAULT, VARIANTS, SpecError, default_spec_dir

SECRET_FILE = "course-secret"
SECRET_ENV = "RNN_GRADER_COURSE_SECRET"
KIT_SALT = "student kit"  # public: the kit's cases are in the kit anyway
SECRET_BYTES = 32
DATA_FOLDER = "rnn-grader"  # under XDG_DATA_HOME
MAX_SECRET_CHARS = 1024


def student_salt(secret: str, student: str) -> str:
    """The salt of one student's cases: HMAC-SHA256 of the student's identity, keyed by the course secret."""
    if not secret or not student:
        raise ValueError("a student's salt needs the course secret and the student's identity")
    return hmac.new(secret.encode(), b"student cases\0" + student.encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CourseSecret:
    """The course's secret and where it came from: a file (made now, or found) or the environment."""

    value: str
    path: Path | None  # None: the environment variable gives it
    made: bool = field(default=False, compare=False)
    # made from another file: the secret an older grader kept in the shipped spec folder, or one given
    taken_over: Path | None = field(default=None, compare=False)

    @property
    def where(self) -> str:
        return str(self.path) if self.path else f"the environment variable {SECRET_ENV}"

    def __repr__(self) -> str:  # never in a log or a traceback
        return f"CourseSecret(path={self.path!r}, made={self.made}, taken_over={self.taken_over!r})"

    @property
    def made_now(self) -> str:
        """One line for the instructor when this secret was just written; empty otherwise."""
        if not self.made:
            return ""
        origin = f"copied from {self.taken_over}" if self.taken_over else "new"
        return (f"Made the course secret {self.path} ({origin}): it decides the graded cases; keep it (and give "
                "the same one to every machine that grades this course).")


def shipped_name(spec_dir: Path) -> str | None:
    """The name of the shipped spec ``spec_dir`` is (``default`` or a variant's), None for a course's own."""
    shipped = default_spec_dir().resolve()
    folder = Path(spec_dir).resolve()
    if folder == shipped:
        return DEFAULT
    return folder.name if folder.parent == shipped / VARIANTS else None


def data_home() -> Path:
    """The user's data folder of the grader (XDG base directories)."""
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share") / DATA_FOLDER


def secret_path(spec_dir: Path | None = None) -> Path:
    """Where the secret file of a spec folder lives (see the module's docstring)."""
    folder = Path(spec_dir or default_spec_dir())
    name = shipped_name(folder)
    return data_home() / name / SECRET_FILE if name else folder / SECRET_FILE


def course_secret(spec_dir: Path | None = None, *, source: Path | None = None) -> CourseSecret:
    """The course's secret for the spec folder, made now if there is none yet.

    ``source``: a file holding the secret the course already uses (the one zipped for a Gradescope image):
    it is written where the grader looks, or found there already; a different secret there is an error,
    never replaced."""
    if given := os.environ.get(SECRET_ENV, "").strip():
        if source is not None:
            raise SpecError(f"the environment variable {SECRET_ENV} gives the course secret and wins over any "
                            f"file; unset it to install {source}")
        return CourseSecret(_checked(given, f"the environment variable {SECRET_ENV}"), None)
    folder = Path(spec_dir or default_spec_dir())
    path = secret_path(folder)
    wanted = _read_given(source) if source is not None else None
    try:
        return _matching(CourseSecret(_read(path), path), wanted, source)
    except FileNotFoundError:
        pass
    legacy = folder / SECRET_FILE
    taken_over = legacy if wanted is None and path != legacy and legacy.is_file() else None
    value = wanted or (_read(legacy) if taken_over else secrets.token_hex(SECRET_BYTES))
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Whole or absent, and never replacing one: a grader killed while it makes the secret leaves none,
        # not an empty one that every later run would refuse.
        write_whole(path, value + "\n", mode=0o600, exclusive=True)
    except FileExistsError:  # another grading made it a moment ago
        return _matching(CourseSecret(_read(path), path), wanted, source)
    except OSError as exc:
        raise SpecError(
            f"cannot create the course secret {path} ({exc.strerror or exc}); it decides which cases the "
            f"grader tries. Make it once where you can write (python -m grader secret --spec {folder}), or give "
            f"it in the environment variable {SECRET_ENV}"
        ) from None
    return CourseSecret(_read(path), path, made=True, taken_over=taken_over or source)


def _read_given(source: Path) -> str:
    try:
        return _read(source)
    except FileNotFoundError:
        raise SpecError(f"no course secret at {source}") from None


def _matching(found: CourseSecret, wanted: str | None, source: Path | None) -> CourseSecret:
    if wanted is not None and found.value != wanted:
        raise SpecError(f"{found.path} already holds another course secret than {source}; nothing was replaced "
                        "(the graded cases would change). Remove it first if the course's secret is the one to use")
    return found


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
