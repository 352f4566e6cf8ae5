"""Small shared helpers: atomic file writes, fingerprints, device choice."""

from __future__ import annotations

import copy
import hashlib
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

import torch

from ganforge.errors import ConfigError

#: the modes every file and folder of a run is created with, before the umask (0644 and 0755 under
#: the usual 022); tempfile's mkstemp and mkdtemp would give 0600 and 0700 instead
FILE_MODE, FOLDER_MODE = 0o666, 0o777


#: how the temporary file of an atomic write ends (``.<target name>.<random part>.tmp``, beside the target)
TEMPORARY_SUFFIX = ".tmp"


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so readers see the old file or the new one, never half; the
    file gets the mode of any other output."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary, descriptor = _new_file(target.parent, f".{target.name}.", TEMPORARY_SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def temporaries_in(folder: str | os.PathLike) -> list[tuple[Path, Path]]:
    """The temporary files of atomic writes in ``folder``, each with the target it was written for.
    A killed process leaves its temporary behind; whether one is abandoned, only the caller can
    tell (by a lock on the target, say)."""
    found = []
    for temporary in Path(folder).glob(f".*{TEMPORARY_SUFFIX}"):
        target_name = temporary.name[1:-len(TEMPORARY_SUFFIX)].rpartition(".")[0]
        if target_name and temporary.is_file() and not temporary.is_symlink():
            found.append((temporary, temporary.with_name(target_name)))
    return sorted(found)


#: an atomic write takes seconds; a temporary this old belongs to a process that was killed
ABANDONED_AFTER_SECONDS = 3600


def remove_old_temporaries(folder: str | os.PathLike, now: float | None = None) -> list[Path]:
    """Delete the temporaries of atomic writes anywhere under ``folder`` (a catalog version folder
    of a run killed while saving, say) last written over ``ABANDONED_AFTER_SECONDS`` ago; younger
    ones may belong to a run saving right now (the resume folder's, whose targets have locks, go
    sooner: ``ganforge.gan.resume.remove_abandoned_temporaries``). Returns what was deleted."""
    import time

    cutoff = (time.time() if now is None else now) - ABANDONED_AFTER_SECONDS
    removed = []
    for temporary in Path(folder).rglob(f".*{TEMPORARY_SUFFIX}"):
        try:
            if temporary.is_file() and not temporary.is_symlink() and temporary.stat().st_mtime < cutoff:
                temporary.unlink()
                removed.append(temporary)
        except FileNotFoundError:  # another run cleaned it first
            continue
    return removed


def new_folder(parent: str | os.PathLike, prefix: str) -> Path:
    """A new, empty folder in ``parent`` named ``prefix`` + a random part, with the mode of any
    other output folder (a staging or partial folder that is renamed into place as one)."""
    while True:
        candidate = Path(parent) / f"{prefix}{secrets.token_hex(6)}"
        try:
            candidate.mkdir(mode=FOLDER_MODE)
            return candidate
        except FileExistsError:
            continue


def _new_file(parent: Path, prefix: str, suffix: str) -> tuple[Path, int]:
    """A new file in ``parent`` (created here, so no other process has it) and its descriptor."""
    while True:
        candidate = parent / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return candidate, os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue


def resolve_device(requested: str = "auto", setting: str = "training.device") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then CPU; anything else must name a device this
    machine has. ``setting`` names the parameter in the error.

    Raises:
        ConfigError: the name is not a device, or this machine does not have it.
    """
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError):
        raise ConfigError(f"{setting} is '{requested}', which is not a device: use auto, cpu, cuda, "
                          "cuda:<index> or mps.") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"{setting} is '{requested}' but CUDA is not available on this machine. "
                              "Use 'auto' or 'cpu'.")
        if device.index is not None and device.index >= count:
            raise ConfigError(f"{setting} is '{requested}' but this machine has {count} CUDA device(s), "
                              f"cuda:0 to cuda:{count - 1}. Use one of them, or 'auto'.")
    if device.type == "mps" and not _mps_available():
        raise ConfigError(f"{setting} is '{requested}' but Apple MPS is not available on this machine. "
                          "Use 'auto' or 'cpu'.")
    return device


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def deep_merge(base: dict, override: dict | None) -> dict:
    """``override`` laid over ``base`` key by key, nested dicts merged too; neither is modified."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def content_digest(value: object, length: int = 16) -> str:
    """The project's one hashing helper: a hash of nested plain data (dicts, lists, numbers,
    strings, tensors, also those stored in chunks) by content, stable across runs and machines.
    Data fingerprints, checkpoint and training digests, backbone fingerprints, cache and resume
    keys all use it.

    Unlike hashing ``torch.save`` bytes, it does not depend on storage sharing or dict insertion
    order, so a resumed run and an uninterrupted one with the same weights hash the same.
    """
    digest = hashlib.sha256()

    def visit(item: object) -> None:
        if isinstance(item, torch.Tensor):
            tensor = item.detach().cpu().contiguous()
            digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
            if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: hash the raw bits
                tensor = tensor.view(torch.int16)
            digest.update(tensor.numpy().tobytes())
        elif callable(getattr(item, "chunks", None)) and hasattr(item, "dtype"):
            # a tensor too large for memory (ganforge.gan.shards.ShardedImages), hashed block by
            # block exactly as the same tensor in memory would be
            digest.update(f"T{item.dtype}{tuple(item.shape)}".encode())
            for chunk in item.chunks():
                digest.update(chunk.contiguous().numpy().tobytes())
        elif isinstance(item, dict):
            digest.update(b"{")
            for key in sorted(item, key=str):
                digest.update(repr(key).encode())
                visit(item[key])
            digest.update(b"}")
        elif isinstance(item, list | tuple):
            digest.update(b"[")
            for element in item:
                visit(element)
            digest.update(b"]")
        else:
            digest.update(repr(item).encode())

    visit(value)
    return digest.hexdigest()[:length]


def git_state() -> dict[str, Any] | None:
    """The commit checked out in the working directory and whether tracked files differ from it;
    ``None`` outside a git checkout."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], capture_output=True, text=True, check=True, timeout=10).stdout.strip()

        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}
