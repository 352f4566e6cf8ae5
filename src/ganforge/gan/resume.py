"""The per-experiment resume state: written atomically each epoch, ignored with a warning when
unreadable, locked so two runs of the same experiment never share (or clobber) one file.

A finished run keeps its final state (marked finished), so that raising ``training.epochs``
later continues it instead of starting over.
"""

from __future__ import annotations

import copy
import io
import logging
import os
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock, Timeout

from ganforge.utils import atomic_write_bytes, content_digest

logger = logging.getLogger(__name__)

RESUME_FORMAT = "ganforge-resume-v2"
#: settings that do not change what training computes, so a run may change them and still resume
BOOKKEEPING = ("epochs", "resume", "resume_dir", "log_every", "tensorboard", "tensorboard_dir", "device",
               "num_threads", "data_in_memory", "memory_budget_gb", "data_loader_workers")


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


class ResumeFile:
    """``writer``: whether this process writes the file (in data-parallel training, rank 0 alone
    does; the other processes only read it, to resume at the same place)."""

    def __init__(self, directory: str | os.PathLike, name: str, key: str, enabled: bool, writer: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.enabled = enabled
        self.writer = writer
        self.path = self.directory / f"{name}-{key}.pt"
        self._lock = FileLock(str(self.path) + ".lock")
        if not writer:
            return
        try:
            self._lock.acquire(timeout=0)
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

    def save(self, state: dict[str, Any], finished: bool = False) -> None:
        if not self.writer:
            return
        buffer = io.BytesIO()
        torch.save({"format": RESUME_FORMAT, "key": self.key, "finished": finished, **state}, buffer)
        atomic_write_bytes(self.path, buffer.getvalue())

    def release(self) -> None:
        if not self.writer:
            return
        if self._lock.is_locked:
            self._lock.release()
        Path(self._lock.lock_file).unlink(missing_ok=True)
