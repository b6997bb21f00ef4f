"""Building class folders for the class-grading tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest


def make_folder(parent: Path, name: str, text: str = "# score: 6\n") -> Path:
    folder = parent / name
    folder.mkdir(parents=True)
    (folder / "rnn.py").write_text(text)
    return folder


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def make_zip(parent: Path, name: str, files: dict[str, bytes | str]) -> Path:
    path = parent / name
    path.write_bytes(zip_bytes(files))
    return path


@pytest.fixture
def class_dir(tmp_path) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    return folder
