"""Every output gets one file mode, the one the umask gives any file (0644 under the usual 022):
resume files, checkpoints and renamed-into-place folders are no longer 0600 / 0700."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ganforge.gan.resume import ResumeFile
from ganforge.gan.shards import staging_folder
from ganforge.utils import atomic_write_bytes, new_folder


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_resume_file_has_the_mode_of_any_other_output(tmp_path, umask):
    resume = ResumeFile(tmp_path / "resume", "dcgan", "0123456789ab", enabled=True)
    resume.save({"epoch": 1})
    resume.release()
    plain = tmp_path / "plain.json"
    plain.write_bytes(b"{}")
    assert mode(resume.path) == mode(plain) == 0o666 & ~umask


def test_an_atomic_write_has_the_mode_of_a_plain_write_and_leaves_nothing_behind(tmp_path, umask):
    atomic_write_bytes(tmp_path / "checkpoint.pt", b"weights")
    assert mode(tmp_path / "checkpoint.pt") == 0o666 & ~umask
    assert [path.name for path in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_folders_renamed_into_place_have_the_mode_of_any_other_folder(tmp_path, umask):
    plain = tmp_path / "plain"
    plain.mkdir()
    for folder in (new_folder(tmp_path, ".partial-"), staging_folder(tmp_path / "staging")):
        assert mode(folder) == mode(plain) == 0o777 & ~umask


def test_new_folders_are_new(tmp_path):
    folders = {new_folder(tmp_path, "x-") for _ in range(20)}
    assert len(folders) == 20 and all(not any(folder.iterdir()) for folder in folders)


def test_a_killed_save_leaves_a_temporary_that_the_next_run_removes_once_abandoned(tmp_path):
    import os
    import time

    from ganforge.hooks import _remove_abandoned_writes
    from ganforge.utils import ABANDONED_AFTER_SECONDS

    version = tmp_path / "data/06_models/wgan/checkpoint.pt/2026-12-01T10.00.00.000Z"
    version.mkdir(parents=True)
    killed = version / ".checkpoint.pt.a1b2c3.tmp"       # a save killed a day ago
    killed.write_bytes(b"half a checkpoint")
    old = time.time() - 24 * 3600
    os.utime(killed, (old, old))
    saving = version.parent / "2026-12-07T10.00.00.000Z" / ".checkpoint.pt.d4e5f6.tmp"  # a run saving now
    saving.parent.mkdir()
    saving.write_bytes(b"being written")
    user_file = version / "notes.tmp"                    # not an atomic write's temporary
    user_file.write_bytes(b"mine")
    os.utime(user_file, (old, old))

    _remove_abandoned_writes(tmp_path / "data")
    assert not killed.exists()
    assert saving.exists() and user_file.exists()
    assert time.time() - saving.stat().st_mtime < ABANDONED_AFTER_SECONDS
