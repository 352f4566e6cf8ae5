"""An N×C×H×W array (uint8, or float with ``data.value_range``) from a .npy/.npz/.pt file,
read with ``allow_pickle=False`` / ``weights_only=True``: a tensor file never runs code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganforge.errors import ConfigError, DataSourceError

from ..params import DataParams
from .base import SOURCES, UINT8_RANGE, Source, SourceData, array_ids, seeded_order, take


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
    images, labels = take(images, labels, order)
    ids, paths = array_ids("tensor_file", str(path), order)
    return SourceData(images, labels, [], ids, paths, value_range=value_range)


SOURCES.register("tensor_file", Source(load_tensor_file))
