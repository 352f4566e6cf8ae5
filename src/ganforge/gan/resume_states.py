"""The resume folder as a whole (``kedro resume-states``): which states it holds, and removing
the stale ones. Only the resume files directly in the folder are ever touched, never one that a
running training holds."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ganforge.gan.resume import RESUME_FORMAT, lock_if_free, remove_abandoned_temporaries

#: ``<variant>-<key>.pt`` (ResumeFile's name), or ``<variant>-<key>-pid<N>.pt`` for a run that
#: found the experiment's file held by another
STATE_NAME = re.compile(r"^(?P<variant>.+)-(?P<key>[0-9a-f]{12})(?:-pid\d+)?\.pt$")
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ResumeStateRecord:
    path: Path
    variant: str
    key: str
    #: the last completed epoch and the planned length; None where the file is unreadable (or,
    #: for ``epochs``, written before the length was saved)
    epoch: int | None
    epochs: int | None
    finished: bool
    running: bool
    #: when it was last written (seconds since the epoch) and its size in bytes
    modified: float
    size: int

    @property
    def status(self) -> str:
        if self.running:
            return "running"
        if self.epoch is None:
            return "unreadable"
        return "finished" if self.finished else "unfinished"

    def age_days(self, now: float | None = None) -> float:
        return ((time.time() if now is None else now) - self.modified) / SECONDS_PER_DAY


def resume_states(directory: str | os.PathLike) -> list[ResumeStateRecord]:
    """Every resume state in ``directory``, by file name."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.iterdir()):
        match = STATE_NAME.match(path.name)
        if match and path.is_file() and not path.is_symlink():
            records.append(_record(path, match["variant"], match["key"]))
    return records


def prune_resume_states(directory: str | os.PathLike, *, older_than_days: float | None = None,
                        finished: bool = False, dry_run: bool = False, now: float | None = None
                        ) -> list[ResumeStateRecord]:
    """Remove the states in ``directory`` that match every filter given (last written more than
    ``older_than_days`` ago; marked finished), and the temporary files of killed writes; returns
    the states removed (with ``dry_run``, those that would be). A running training's state stays."""
    if older_than_days is None and not finished:
        raise ValueError("name a filter: older_than_days, finished or both")
    chosen = [record for record in resume_states(directory) if record.status != "running"
              and (not finished or record.status == "finished")
              and (older_than_days is None or record.age_days(now) > older_than_days)]
    if dry_run:
        return chosen
    removed = []
    for record in chosen:
        with lock_if_free(record.path) as free:
            if free:
                record.path.unlink(missing_ok=True)
                removed.append(record)
    remove_abandoned_temporaries(Path(directory))
    return removed


def _record(path: Path, variant: str, key: str) -> ResumeStateRecord:
    with lock_if_free(path) as free:
        running = not free
    stat = path.stat()
    try:  # memory-mapped: the networks and grids in the file are not read
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        readable = state.get("format") == RESUME_FORMAT and state.get("key") == key
    except Exception:  # a killed write or a foreign file: listed as unreadable
        state, readable = {}, False
    return ResumeStateRecord(
        path=path, variant=variant, key=key,
        epoch=int(state["epoch"]) if readable else None,
        epochs=int(state["epochs"]) if readable and "epochs" in state else None,
        finished=readable and bool(state.get("finished")),
        running=running, modified=stat.st_mtime, size=stat.st_size,
    )
