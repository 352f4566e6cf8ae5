"""A versioned Kedro dataset for tensors, checkpoints and other plain-data PyTorch files.

Everything is loaded with ``torch.load(..., weights_only=True)``: a checkpoint is data, not code,
so only tensors, numbers, strings, lists, tuples and dicts round-trip. Saves are atomic on local
disk (write to a temporary file, then rename), so a killed run never leaves half a file behind.

Images stored as shards (:class:`~ganforge.gan.shards.ShardedImages`, a data set larger than
memory) are saved beside the file, in ``<name>.shards/<key>/``: hard-linked from where they are
(shards are never rewritten, so two names for one file are safe) or copied where a link is
impossible, and a staging folder they came from is removed. The file holds a reference in their
place, and loading gives back a memory-mapped :class:`ShardedImages`. This needs a local or
mounted filesystem: a memory map cannot be taken of an object in a bucket.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NewType

import fsspec
import torch
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)

from ganforge.gan.shards import STAGING_MARKER, ShardedImages
from ganforge.utils import new_folder

try:  # kedro-viz picks the preview widget by the *name* of preview()'s return annotation
    from kedro_datasets._typing import JSONPreview
except ImportError:  # pragma: no cover - kedro-datasets is a dependency; keep the name regardless
    JSONPreview = NewType("JSONPreview", str)  # type: ignore[misc]


class TorchDataset(AbstractVersionedDataset[Any, Any]):
    """Saves any plain-data object with ``torch.save`` and loads it with ``weights_only=True``.

    Example catalog entry::

        wgan.checkpoint:
          type: ganforge.datasets.TorchDataset
          filepath: data/06_models/wgan/checkpoint.pt
          versioned: true
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(credentials or {}), **(fs_args or {}))
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def load(self) -> Any:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, mode="rb") as file:
            buffer = io.BytesIO(file.read())
        try:
            data = torch.load(buffer, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises several types for truncated/corrupt files
            raise DatasetError(
                f"Could not read '{load_path}' as a weights-only PyTorch file ({_first_sentence(error)}). "
                "The file may be truncated or was not written by GAN Forge."
            ) from error
        return _with_shards(data, Path(load_path + SHARDS_SUFFIX))

    def save(self, data: Any) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        data = _store_shards(data, save_path, self._protocol)
        buffer = io.BytesIO()
        torch.save(data, buffer)
        if self._protocol == "file":
            from ganforge.utils import atomic_write_bytes

            atomic_write_bytes(save_path, buffer.getvalue())
        else:
            with self._fs.open(save_path, mode="wb") as file:
                file.write(buffer.getvalue())
        self._invalidate_cache()

    def preview(self, max_items: int = 20, max_depth: int = 3) -> JSONPreview:
        """A small JSON summary for kedro-viz: keys, tensor shapes/dtypes and scalar values.

        kedro-viz calls ``preview(**metadata["kedro-viz"]["preview_args"])`` and renders the
        string as JSON because the return annotation is named ``JSONPreview``. Local files are
        memory-mapped, so summarising a large model_input or checkpoint reads no tensor data.
        """
        data: Any = None
        if self._protocol == "file":
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
            try:
                data = torch.load(load_path, map_location="cpu", weights_only=True, mmap=True)
            except Exception:  # mmap needs the zip format; fall back to a full, checked load
                data = None
        if data is None:
            data = self.load()
        return JSONPreview(json.dumps(_summarize(data, max_items, max_depth)))

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))


def _first_sentence(error: Exception) -> str:
    """torch's reasons run to a paragraph; the first sentence says what failed."""
    return str(error).strip().splitlines()[0].split(". ")[0] if str(error).strip() else type(error).__name__


SHARDS_SUFFIX = ".shards"
#: what stands in the file for images stored as shards: their folder, relative to <file>.shards
SHARDS_REFERENCE = "ganforge_shards"


def _replaced(value: Any, replace: Callable[[str, Any], Any], key: str = "") -> Any:
    """``value`` with each ShardedImages or reference ``item`` at ``key`` given by ``replace``."""
    if isinstance(value, ShardedImages) or (isinstance(value, Mapping) and SHARDS_REFERENCE in value):
        return replace(key or "data", value)
    if isinstance(value, Mapping):
        return {name: _replaced(item, replace, f"{key}.{name}" if key else str(name)) for name, item in value.items()}
    return value


def _store_shards(data: Any, save_path: str, protocol: str) -> Any:
    """Put every sharded part of ``data`` under ``<save_path>.shards/<key>`` and return ``data``
    with references in their place; the in-memory objects then point at the stored copies."""
    def store(key: str, images: ShardedImages) -> dict[str, str]:
        if protocol != "file":
            raise DatasetError(
                f"Cannot save '{save_path}': its images are shards, which need a local or mounted "
                "filesystem (a bucket cannot be memory-mapped). Mount the bucket (e.g. a Kubernetes "
                "volume or s3fs) and use its path, or set data.storage: memory.")
        target = Path(save_path + SHARDS_SUFFIX) / key
        if images.folder.resolve() != target.resolve():
            _link_or_copy(images, target)
            if (images.folder / STAGING_MARKER).exists():
                shutil.rmtree(images.folder, ignore_errors=True)
            images.moved_to(target)
        return {SHARDS_REFERENCE: key}

    return _replaced(data, store)


def _link_or_copy(images: ShardedImages, target: Path) -> None:
    """The set's files in ``target``, which appears whole or not at all (renamed into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = new_folder(target.parent, f".{target.name}-")
    try:
        for source in images.files:
            try:
                os.link(source, partial / source.name)
            except OSError:  # another filesystem, or one without hard links
                shutil.copy2(source, partial / source.name)
        if target.exists():  # an unversioned dataset saved again, or a retried Airflow task
            shutil.rmtree(target)
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _with_shards(data: Any, shards_root: Path) -> Any:
    def load(key: str, reference: Mapping) -> ShardedImages:
        return ShardedImages(shards_root / str(reference[SHARDS_REFERENCE]))

    return _replaced(data, load)


def _summarize(value: Any, max_items: int, depth: int) -> Any:
    """A JSON-able outline of ``value``: tensors become shape/dtype (plus the value when they
    hold one number), containers are cut to ``max_items`` entries and ``depth`` levels."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        outline: dict[str, Any] = {"shape": list(value.shape), "dtype": dtype}
        if value.numel() == 1:
            outline["value"] = value.item()
        return outline
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "…"
    if isinstance(value, Mapping):
        if depth <= 0:
            return f"<{len(value)} keys>"
        items = list(value.items())
        summary = {
            str(key): _summarize(item, max_items, depth - 1) for key, item in items[:max_items]
        }
        if len(items) > max_items:
            summary["…"] = f"{len(items) - max_items} more keys"
        return summary
    if isinstance(value, list | tuple):
        if depth <= 0 or len(value) > max_items:
            return f"<{type(value).__name__} of {len(value)}>"
        return [_summarize(item, max_items, depth - 1) for item in value]
    return f"<{type(value).__name__}>"
