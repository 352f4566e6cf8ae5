"""The per-experiment resume state: written atomically each epoch, ignored with a warning when
unreadable, locked so two runs of the same experiment never share (or clobber) one file.

A finished run keeps its final state, so that raising ``training.epochs`` later continues it
instead of starting over. It is marked finished (:func:`mark_finished`) only once the run's
result is kept (its checkpoint stored, in the pipeline): until then the final state is an
unfinished one, which the same command picks up without training again. A run starts by
removing the temporary files that killed writes left in the resume folder.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock, Timeout

from ganforge.utils import atomic_write_bytes, content_digest, temporaries_in

logger = logging.getLogger(__name__)

RESUME_FORMAT = "ganforge-resume-v2"
#: settings that do not change what training computes, so a run may change them and still resume
BOOKKEEPING = ("epochs", "resume", "resume_dir", "log_every", "tensorboard", "tensorboard_dir", "device",
               "num_threads", "data_in_memory", "memory_budget_gb", "data_loader_workers")


#: how long a run waits for a resume file's lock before it takes it to be held by a training: long
#: enough for the brief holds of `kedro resume-states` and of marking a state finished
LOCK_GRACE_SECONDS = 2.0


def resume_key(config: dict[str, Any], data_fingerprint: str) -> str:
    """Identifies a training run for resuming: everything that changes the result except the
    number of epochs (so a run can be extended) and bookkeeping options."""
    relevant = copy.deepcopy(config)
    for key in BOOKKEEPING:
        relevant["training"].pop(key, None)
    # how the run is split across processes is bookkeeping; the global batch it adds up to is not
    distributed = relevant["training"].pop("distributed", None) or {}
    if distributed.get("enabled"):
        relevant["training"]["world_size"] = distributed["nproc_per_node"] * distributed["nnodes"]
    relevant.pop("description", None)
    relevant.pop("evaluation", None)
    return content_digest({"config": relevant, "data": data_fingerprint}, length=12)


def resume_path(directory: str | os.PathLike, name: str, key: str) -> Path:
    """Where the resume state of variant ``name`` with :func:`resume_key` ``key`` is kept."""
    return Path(directory) / f"{name}-{key}.pt"


class ResumeFile:
    """``writer``: whether this process writes the file (in data-parallel training, rank 0 alone
    does; the other processes only read it, to resume at the same place)."""

    def __init__(self, directory: str | os.PathLike, name: str, key: str, enabled: bool, writer: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.enabled = enabled
        self.writer = writer
        self.path = resume_path(self.directory, name, key)
        self._lock = FileLock(str(self.path) + ".lock")
        if not writer:
            return
        try:
            self._lock.acquire(timeout=LOCK_GRACE_SECONDS)
        except Timeout:
            # Another process is training the same experiment right now: keep our own file.
            self.path = self.directory / f"{name}-{key}-pid{os.getpid()}.pt"
            self._lock = FileLock(str(self.path) + ".lock")
            self._lock.acquire(timeout=0)
            self.enabled = False
            logger.warning(
                "Another run of the same experiment holds its resume file; this run keeps its own "
                "state in %s and starts from scratch.",
                self.path,
            )
        remove_abandoned_temporaries(self.directory, held=self.path)

    def load(self) -> dict[str, Any] | None:
        if not self.enabled:
            if self.path.exists():
                logger.info("training.resume is false: starting over (ignoring %s).", self.path)
            return None
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
            if state.get("format") != RESUME_FORMAT or state.get("key") != self.key:
                raise ValueError("not a resume file of this experiment")
            return state
        except Exception as error:  # a killed write or a foreign file must not stop the run
            logger.warning("Ignoring unreadable resume file %s (%s); starting over.", self.path, error)
            return None

    def save(self, state: dict[str, Any]) -> None:
        """An epoch's state, unfinished (:func:`mark_finished` marks it once the checkpoint is stored)."""
        if not self.writer:
            return
        _write(self.path, {"format": RESUME_FORMAT, "key": self.key, **state, "finished": False})

    def release(self) -> None:
        if not self.writer:
            return
        if self._lock.is_locked:
            self._lock.release()
        Path(self._lock.lock_file).unlink(missing_ok=True)


def mark_finished(path: Path, key: str, epoch: int, step: int) -> bool:
    """Mark the resume state at ``path`` finished, if it is still the state the stored checkpoint
    came from (this experiment's, at ``epoch`` and ``step``) and no run holds it; returns whether
    it was marked. Left unmarked, the same command returns that state again without training."""
    with lock_if_free(path, timeout=LOCK_GRACE_SECONDS) as free:
        if not free or not path.exists():
            return False
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # an unreadable file is ignored by the next run anyway
            logger.warning("Could not mark %s finished (%s).", path, error)
            return False
        if state.get("key") != key or (state.get("epoch"), state.get("step")) != (epoch, step):
            return False
        if not state.get("finished"):
            _write(path, {**state, "finished": True})
        return True


def remove_abandoned_temporaries(directory: Path, held: Path | None = None) -> list[Path]:
    """Remove the temporary files of writes that were killed: those whose target no run holds
    (``held``: the target whose lock the caller holds). Returns what was removed."""
    removed = []
    for temporary, target in temporaries_in(directory):
        lock = contextlib.nullcontext(True) if target == held else lock_if_free(target)
        with lock as free:
            if free:
                temporary.unlink(missing_ok=True)
                removed.append(temporary)
    if removed:
        logger.info("Removed %d temporary file(s) of interrupted writes from %s.", len(removed), directory)
    return removed


@contextlib.contextmanager
def lock_if_free(path: Path, timeout: float = 0) -> Iterator[bool]:
    """The lock of the resume file ``path`` for the duration, if no run holds it within ``timeout``
    seconds (yields False if one does); the lock file is removed afterwards, as
    :meth:`ResumeFile.release` does."""
    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
        Path(lock.lock_file).unlink(missing_ok=True)


def _write(path: Path, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())
