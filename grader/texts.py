"""Training texts: the one that ships with the grader, or any UTF-8 file a course points at."""

from __future__ import annotations

from pathlib import Path

from grader.errors import GraderError
from grader.specfile import default_spec_dir

DEFAULT_TEXT = "prose"


class TextError(GraderError):
    """A training text cannot be used."""


def load_text(name_or_path: str | Path = DEFAULT_TEXT, spec_dir: Path | None = None) -> tuple[str, str]:
    """Return (name, text) for a text's name (SPEC_DIR/texts/NAME.txt) or a path to a text file (relative
    paths are relative to the spec folder)."""
    folder = spec_dir or default_spec_dir()
    shipped = folder / "texts" / f"{name_or_path}.txt"
    path = shipped if shipped.is_file() else folder / Path(name_or_path)
    if not path.is_file():
        raise TextError(
            f"no training text {str(name_or_path)!r}: not a file, and not one of the shipped texts "
            f"({', '.join(available_texts(spec_dir)) or 'none'})"
        )
    return path.stem, read_text_file(path)


def read_text_file(path: Path) -> str:
    """The file's text as the course reads the book: UTF-8, with universal newlines (\\r\\n and \\r become \\n).

    Raises TextError, with the reason, for a missing file, a folder, bytes that are not UTF-8, or a text
    with fewer than two distinct characters.
    """
    path = Path(path)
    if path.is_dir():
        raise TextError(f"{path} is a folder; give the path of a text file")
    try:
        with open(path, encoding="utf-8", newline=None) as f:
            text = f.read()
    except FileNotFoundError:
        raise TextError(f"no such text file: {path}") from None
    except UnicodeDecodeError as exc:
        raise TextError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise TextError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(set(text)) < 2:
        raise TextError(f"{path} has fewer than two distinct characters; nothing to learn from it")
    return text


def available_texts(spec_dir: Path | None = None) -> list[str]:
    return sorted(p.stem for p in ((spec_dir or default_spec_dir()) / "texts").glob("*.txt"))
