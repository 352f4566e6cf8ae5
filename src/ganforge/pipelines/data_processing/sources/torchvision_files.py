"""MNIST / FashionMNIST (raw IDX files) and CIFAR-10 (python pickles) in torchvision's folder
layout below ``data.path``, downloaded only with ``data.download: true``.

CIFAR-10 pickles are read with :mod:`..safe_pickle`, never with plain ``pickle``. torchvision
is imported only when one of these sources is read, since importing it costs seconds."""

from __future__ import annotations

import os
from functools import cache

import numpy as np
import torch

from ganforge.errors import DataSourceError

from ..params import DataParams
from ..safe_pickle import load_data_pickle
from .base import SOURCES, Source, SourceData, array_ids, seeded_order, take

IDX_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


class _SplitOnlyIdxMixin:
    """Require only the requested split's two IDX files, in torchvision's folder layout.

    torchvision's MNIST insists on all four files (train and test) and derives the folder from
    the class name, which a subclass would change; both are pinned here.
    """

    folder_name = "MNIST"
    root: str
    train: bool

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.folder_name, "raw")

    def _check_exists(self) -> bool:
        return all(
            os.path.isfile(path) for path in idx_files(self.root, self.folder_name, self.train)
        )


@cache
def _idx_dataset_class(source: str) -> type:
    """torchvision's MNIST or FashionMNIST with the mixin; built on first use (lazy import)."""
    from torchvision.datasets import MNIST, FashionMNIST

    base = MNIST if source == "mnist" else FashionMNIST
    return type(f"_{base.__name__}", (_SplitOnlyIdxMixin, base), {"folder_name": IDX_FOLDERS[source]})


def idx_files(root: str | os.PathLike, folder_name: str, train: bool) -> list[str]:
    """The two raw IDX files torchvision reads for one split."""
    prefix = "train" if train else "t10k"
    raw = os.path.join(root, folder_name, "raw")
    return [
        os.path.join(raw, f"{prefix}-images-idx3-ubyte"),
        os.path.join(raw, f"{prefix}-labels-idx1-ubyte"),
    ]


def _download_hint(paths: list[str]) -> str:
    listed = "\n  ".join(paths)
    return (
        f"Expected:\n  {listed}\n"
        "Put the files there (data.path is the root), or set data.download: true on a machine "
        "with internet access."
    )


def _require_files(params: DataParams, expected: list[str]) -> None:
    """Without a download, every file the loader reads must already be there."""
    if params.download:
        return
    missing = [path for path in expected if not os.path.isfile(path)]
    if missing:
        raise DataSourceError(
            f"data.source '{params.source}' ({params.split} split) is missing "
            f"{len(missing)} file(s). {_download_hint(expected)}"
        )


def load_idx_dataset(params: DataParams) -> SourceData:
    """MNIST / FashionMNIST from torchvision's raw IDX layout under ``data.path``."""
    train = params.split == "train"
    expected = idx_files(params.root, IDX_FOLDERS[params.source], train)
    _require_files(params, expected)
    try:
        dataset = _idx_dataset_class(params.source)(
            root=params.root, train=train, download=params.download
        )
    except (AssertionError, RuntimeError, ValueError, TypeError, OSError) as error:
        # torchvision asserts on truncated IDX headers/bodies and raises RuntimeError when a
        # download fails or files are still missing after it.
        raise DataSourceError(
            f"Could not read data.source '{params.source}' from '{params.root}': "
            f"{error or type(error).__name__}. The files may be truncated or not IDX files. "
            f"{_download_hint(expected)}"
        ) from error
    images = dataset.data.unsqueeze(1)  # N×28×28 → N×1×28×28
    labels = dataset.targets
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = take(images, labels, order)
    ids, paths = array_ids(params.source, expected[0], order)
    return SourceData(images, labels, list(dataset.classes), ids, paths)


# --------------------------------------------------------------------------- CIFAR-10

CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CIFAR_META = "batches.meta"
CIFAR_VALUES_PER_IMAGE = 3 * 32 * 32


def cifar_files(root: str | os.PathLike, train: bool) -> list[str]:
    """The pickles read for one split of CIFAR-10, plus the meta file."""
    folder = os.path.join(root, CIFAR_FOLDER)
    names = CIFAR_BATCHES["train" if train else "test"] + [CIFAR_META]
    return [os.path.join(folder, name) for name in names]


def _download_cifar10(root: str) -> None:
    """Fetch the official archive unless every file already matches torchvision's md5s.

    Only torchvision's download helpers are used: its CIFAR10 class would read the batches with
    plain ``pickle``. The md5s tell a complete download from a partial one.
    """
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import check_integrity, download_and_extract_archive

    folder = os.path.join(root, CIFAR10.base_folder)
    checksums = [*CIFAR10.train_list, *CIFAR10.test_list, [CIFAR_META, CIFAR10.meta["md5"]]]

    def intact() -> bool:
        return all(check_integrity(os.path.join(folder, name), md5) for name, md5 in checksums)

    if intact():
        return
    download_and_extract_archive(CIFAR10.url, root, filename=CIFAR10.filename, md5=CIFAR10.tgz_md5)
    if not intact():
        raise RuntimeError("the downloaded files do not match their md5 checksums")


def _field(entry: object, name: str) -> object:
    """``entry[name]``; Python 2 batches have str keys, some re-packed ones bytes keys."""
    if not isinstance(entry, dict):
        return None
    return entry.get(name, entry.get(name.encode()))


def _read_cifar_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    """One batch pickle → (N×3072 uint8 rows, N labels), its layout checked."""
    entry = load_data_pickle(path, encoding="latin1")  # latin1: Python 2 pickles with numpy
    data, labels = _field(entry, "data"), _field(entry, "labels")
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != CIFAR_VALUES_PER_IMAGE
        or not isinstance(labels, list | np.ndarray)
        or len(labels) != len(data)
    ):
        raise ValueError("expected a dict with 'data' (N×3072 uint8) and N 'labels'")
    return data, np.asarray(labels, dtype=np.int64)


def _read_cifar_classes(path: str) -> list[str]:
    names = _field(load_data_pickle(path, encoding="latin1"), "label_names")
    if not isinstance(names, list) or not all(isinstance(name, str | bytes) for name in names):
        raise ValueError("expected a dict with a list of 'label_names'")
    return [name.decode() if isinstance(name, bytes) else name for name in names]


def load_cifar10(params: DataParams) -> SourceData:
    """CIFAR-10 from the standard ``cifar-10-batches-py`` pickles, read without running code."""
    train = params.split == "train"
    expected = cifar_files(params.root, train)
    _require_files(params, expected)
    # Without a download any file with the layout is accepted (fixtures, re-packed batches), so
    # the md5s are not checked; the safe unpickler is what keeps a crafted file harmless.
    try:
        if params.download:
            _download_cifar10(params.root)
        batches = [_read_cifar_batch(path) for path in expected[:-1]]
        class_names = _read_cifar_classes(expected[-1])
    except DataSourceError:
        raise
    except Exception as error:  # pickle and numpy raise many types on truncated files
        raise DataSourceError(
            f"Could not read CIFAR-10 from '{params.root}': {error or type(error).__name__}. "
            f"A batch file may be truncated or not a CIFAR-10 pickle. {_download_hint(expected)}"
        ) from error
    rows = np.concatenate([data for data, _ in batches])
    images = torch.from_numpy(rows).reshape(-1, 3, 32, 32)  # rows are channel-major already
    labels = torch.from_numpy(np.concatenate([targets for _, targets in batches]))
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = take(images, labels, order)
    ids, paths = array_ids("cifar10", os.path.join(params.root, CIFAR_FOLDER), order)
    return SourceData(images, labels, class_names, ids, paths)


SOURCES.register("mnist", Source(load_idx_dataset))
SOURCES.register("fashion_mnist", Source(load_idx_dataset))
SOURCES.register("cifar10", Source(load_cifar10))
