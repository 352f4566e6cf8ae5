"""What every source shares: the images it returns, the seeded order, and the table of sources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from ganforge.registry import Registry

from ..params import DataParams

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


@dataclass(frozen=True)
class Source:
    """One ``data.source``: its reader and the settings that belong to it.

    ``options`` are the source-specific ``data.*`` keys it reads (setting one for another source
    is an error, not silently ignored); ``defaults`` are the values those keys, and
    ``data.download``, take when the user leaves them unset; a reader that cuts ``data.part``
    itself (before decoding) says so with ``cuts_part``.
    """

    load: Callable[[DataParams], SourceData]
    options: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    cuts_part: bool = False


#: every ``data.source``, registered by the module that reads it
SOURCES: Registry[Source] = Registry("data source", "data.source")


def seeded_order(count: int, seed: int, limit: int | None) -> torch.Tensor:
    """Indices of a seeded shuffle of ``range(count)``, cut to ``limit``."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    return order[:limit] if limit is not None else order


def take(images: torch.Tensor, labels: torch.Tensor | None, order: torch.Tensor):
    """The images and labels at ``order``, contiguous, labels as int64."""
    images = images.index_select(0, order).contiguous()
    labels = labels.index_select(0, order).to(torch.int64) if labels is not None else None
    return images, labels


def array_ids(prefix: str, origin: str, order: torch.Tensor) -> tuple[list[str], list[str]]:
    """Ids ``prefix/000042`` and provenance ``origin#42`` for images taken from an array."""
    indices = order.tolist()
    return [f"{prefix}/{i:06d}" for i in indices], [f"{origin}#{i}" for i in indices]
