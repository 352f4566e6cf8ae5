"""A training set larger than memory: uint8 image shards on disk, memory-mapped.

The folder holds ``index.json`` and, per shard, ``images-00000.npy`` (uint8, n × C × H × W) and,
for labeled data, ``labels-00000.npy`` (int64). Why NumPy's ``.npy``: it is a short header and
the raw array bytes, so ``np.load(mmap_mode="r")`` maps a shard without reading it and any image
is a slice (no decoding, unlike PNG or JPEG in a tar shard, and in any order, which a seeded
per-epoch permutation needs); it needs nothing beyond NumPy and will be readable for as long as
NumPy is. Shards keep each file a manageable size and let :class:`ShardWriter` take images in
chunks, so a data set is written without ever being held in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ganforge.errors import DataSourceError
from ganforge.utils import new_folder

SHARD_FORMAT = "ganforge-shards-v1"
INDEX_FILE = "index.json"
#: a shard folder that is only a waypoint (written by ingestion before the data set is saved):
#: whoever stores the set elsewhere may delete it
STAGING_MARKER = ".staging"


class ShardWriter:
    """Appends uint8 image chunks (and labels) to shards of ``shard_size`` images in ``folder``."""

    def __init__(self, folder: str | Path, shard_size: int = 4096) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.shard_size = shard_size
        self.shape: tuple[int, ...] | None = None
        self.labeled: bool | None = None
        self.counts: list[int] = []
        self._images: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []
        self._pending = 0

    def append(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError("shards hold uint8 images N×C×H×W")
        if self.shape is None:
            self.shape, self.labeled = tuple(images.shape[1:]), labels is not None
        if tuple(images.shape[1:]) != self.shape or (labels is not None) != self.labeled:
            raise ValueError(f"every chunk must be {self.shape}, labeled: {self.labeled}")
        self._images.append(images.cpu())
        if labels is not None:
            self._labels.append(labels.cpu().to(torch.int64))
        self._pending += images.shape[0]
        while self._pending >= self.shard_size:
            self._flush(self.shard_size)

    def close(self) -> ShardedImages:
        if self._pending:
            self._flush(self._pending)
        if self.shape is None:
            raise ValueError("no images were written")
        index = {"format": SHARD_FORMAT, "shape": list(self.shape), "labeled": self.labeled, "counts": self.counts}
        (self.folder / INDEX_FILE).write_text(json.dumps(index))
        return ShardedImages(self.folder)

    def _flush(self, count: int) -> None:
        images = torch.cat(self._images)
        number = len(self.counts)
        np.save(self.folder / f"images-{number:05d}.npy", images[:count].numpy())
        self._images = [images[count:]]
        if self.labeled:
            labels = torch.cat(self._labels)
            np.save(self.folder / f"labels-{number:05d}.npy", labels[:count].numpy())
            self._labels = [labels[count:]]
        self.counts.append(count)
        self._pending -= count


def write_shards(images: torch.Tensor, labels: torch.Tensor | None, folder: str | Path,
                 shard_size: int = 4096) -> ShardedImages:
    """An in-memory set as shards (tests, and sets that arrive whole)."""
    writer = ShardWriter(folder, shard_size)
    writer.append(images, labels)
    return writer.close()


def staging_folder(parent: str | Path) -> Path:
    """A new, empty folder under ``parent`` for shards that are moved on once the data set is
    saved (see :data:`STAGING_MARKER`)."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    folder = new_folder(parent, "shards-")
    (folder / STAGING_MARKER).touch()
    return folder


class ShardedImages:
    """The images of a shard folder, memory-mapped: ``len``, ``shape``, ``take(indices)`` and
    indexing (``images[:n]``, ``images[indices]``) read only what is asked for; ``chunks()``
    walks the set a block at a time. Labels (8 bytes an image) are read whole."""

    dtype = torch.uint8

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        try:
            index = json.loads((self.folder / INDEX_FILE).read_text())
        except (OSError, ValueError) as error:
            raise DataSourceError(f"{self.folder} is not a shard folder ({error}). Write it with "
                                  "ganforge.gan.shards.ShardWriter.") from None
        if index.get("format") != SHARD_FORMAT:
            raise DataSourceError(f"{self.folder}: unknown shard format {index.get('format')!r}.")
        self.counts = list(index["counts"])
        self.shape = (sum(self.counts), *index["shape"])
        self.labeled = bool(index["labeled"])
        self._starts = np.cumsum([0, *self.counts])
        self._maps: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def files(self) -> list[Path]:
        """Every file of the set (the index last: a folder with an index is complete)."""
        names = [f"images-{number:05d}.npy" for number in range(len(self.counts))]
        if self.labeled:
            names += [f"labels-{number:05d}.npy" for number in range(len(self.counts))]
        return [self.folder / name for name in [*names, INDEX_FILE]]

    def moved_to(self, folder: str | Path) -> None:
        """Point at the same set stored in ``folder`` from now on."""
        self.folder, self._maps = Path(folder), None

    def __getitem__(self, index: slice | torch.Tensor | list[int]) -> torch.Tensor:
        if isinstance(index, slice):
            return self.take(torch.arange(len(self))[index])
        return self.take(torch.as_tensor(index, dtype=torch.int64))

    def chunks(self, size: int = 1024) -> Iterator[torch.Tensor]:
        """The images in order, ``size`` at a time (what a streaming statistic or hash reads).

        Read with plain file reads, not through the memory maps: a pass over the whole set would
        otherwise leave every page of it mapped into this process."""
        image_bytes = int(np.prod(self.shape[1:]))
        for number, count in enumerate(self.counts):
            path = self.folder / f"images-{number:05d}.npy"
            offset = np.load(path, mmap_mode="r").offset  # the header's length
            with open(path, "rb") as file:
                for start in range(0, count, size):
                    rows = min(size, count - start)
                    file.seek(offset + start * image_bytes)
                    data = bytearray(file.read(rows * image_bytes))
                    yield torch.frombuffer(data, dtype=torch.uint8).reshape(rows, *self.shape[1:])

    def labels(self) -> torch.Tensor | None:
        if not self.labeled:
            return None
        return torch.from_numpy(np.concatenate(
            [np.load(self.folder / f"labels-{number:05d}.npy") for number in range(len(self.counts))]))

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        """The images at ``indices``, in that order, as one uint8 tensor."""
        maps = self._mapped()
        positions = indices.cpu().numpy()
        if len(positions) and (positions.min() < 0 or positions.max() >= len(self)):
            raise IndexError(f"image indices must lie in [0, {len(self)}) for {self.folder}")
        shards = np.searchsorted(self._starts, positions, side="right") - 1
        out = np.empty((len(positions), *self.shape[1:]), dtype=np.uint8)
        for shard in np.unique(shards):
            chosen = np.nonzero(shards == shard)[0]
            out[chosen] = maps[shard][positions[chosen] - self._starts[shard]]
        return torch.from_numpy(out)

    def to_tensor(self) -> torch.Tensor:
        return torch.from_numpy(np.concatenate(self._mapped()))

    def _mapped(self) -> list[np.ndarray]:
        # opened lazily, so that an instance sent to DataLoader workers maps the files in each worker
        if self._maps is None:
            self._maps = [np.load(self.folder / f"images-{number:05d}.npy", mmap_mode="r")
                          for number in range(len(self.counts))]
        return self._maps

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_maps": None}
