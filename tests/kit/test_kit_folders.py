"""The kit and Classroom folders are handed out, often from a shared course folder: everyone may read them."""

import os
import stat

import pytest

from grader.kit.build import staged


@pytest.fixture
def private_umask():
    old = os.umask(0o077)
    yield
    os.umask(old)


def modes(folder):
    return {path.relative_to(folder).as_posix(): stat.S_IMODE(path.stat().st_mode) for path in [folder, *folder.rglob("*")]}


def test_a_built_folder_is_world_readable_whatever_the_umask(tmp_path, private_umask):
    with staged(tmp_path / "rnn-kit") as staging:
        (staging / "grader" / "sandbox").mkdir(parents=True)
        (staging / "grader" / "sandbox" / "worker.py").write_text("")
        (staging / "run.sh").write_text("#!/bin/sh\n")
        (staging / "run.sh").chmod(0o700)
    assert modes(tmp_path / "rnn-kit") == {".": 0o755, "grader": 0o755, "grader/sandbox": 0o755,
                                           "grader/sandbox/worker.py": 0o644, "run.sh": 0o755}


def test_a_failed_build_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), staged(tmp_path / "rnn-kit") as staging:
        (staging / "half").write_text("")
        raise RuntimeError("recording failed")
    assert os.listdir(tmp_path) == []
