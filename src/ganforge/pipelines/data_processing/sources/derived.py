"""What is done to any source's images after reading: ``data.part`` and ``data.transform``."""

from __future__ import annotations

from dataclasses import replace

import torch

from ganforge.errors import ConfigError, DataSourceError

from ..params import DataParams
from .base import SourceData


def apply_transform(data: SourceData, params: DataParams) -> SourceData:
    """``data.transform`` on all the images or on one chunk of them (it works image by image)."""
    return transform_images(data, params.transform) if params.transform != "none" else data


def keep_part(data: SourceData, index: int, parts: int) -> SourceData:
    """The ``index``-th of ``parts`` contiguous, disjoint slices of the images (in stored order,
    which is already the seeded shuffle, so each part is a random sample)."""
    start, stop = part_bounds(len(data.images), index, parts)
    labels = data.labels[start:stop] if data.labels is not None else None
    return replace(data, images=data.images[start:stop].contiguous(), labels=labels, ids=data.ids[start:stop],
                   paths=data.paths[start:stop])


def part_bounds(count: int, index: int, parts: int) -> tuple[int, int]:
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
