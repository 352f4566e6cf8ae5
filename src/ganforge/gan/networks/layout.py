"""How convolutional networks fit an image size: a start size doubled n times, and the
feature-map sizes where a self-attention block can sit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganforge.errors import ConfigError

MIN_START_SIZE = 3
MAX_START_SIZE = 7


def conv_layout(image_size: int, architecture: str = "dcgan") -> tuple[int, int]:
    """(start size, number of 2× upsamplings) so that start · 2ⁿ == image_size.

    28 → (7, 2), 32 → (4, 3), 64 → (4, 4), 96 → (6, 4).
    """
    size, doublings = image_size, 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        doublings += 1
    if not (MIN_START_SIZE <= size <= MAX_START_SIZE) or doublings == 0:
        raise ConfigError(
            f"model.architecture '{architecture}' cannot build {image_size}×{image_size} images: it needs "
            f"a size s·2ⁿ with {MIN_START_SIZE} ≤ s ≤ {MAX_START_SIZE} and n ≥ 1 (e.g. 28, 32, "
            "48, 64, 96, 128). Set data.image_size to such a size or use model.architecture: mlp."
        )
    return size, doublings


def attention_resolutions(image_size: int) -> list[int]:
    """Feature-map sizes both networks pass through, where self-attention can sit: the generator
    doubles from the start size to the image size, the discriminator halves back down."""
    start, doublings = conv_layout(image_size)
    return [start * 2**j for j in range(1, doublings)]


def conv_fit_check(architecture: str) -> Callable[[dict[str, Any], int], None]:
    """The check of a convolutional architecture: its layout fits the size, and so does any
    self-attention resolution in its ``model:`` options."""

    def check(model: dict[str, Any], image_size: int) -> None:
        conv_layout(image_size, architecture)
        check_attention_resolution(model.get("attention_resolution"), image_size)

    return check


def check_attention_resolution(wanted: int | None, image_size: int) -> None:
    resolutions = attention_resolutions(image_size)
    if wanted is not None and wanted not in resolutions:
        raise ConfigError(
            f"model.attention_resolution {wanted} is not a feature-map size of {image_size}×{image_size} "
            f"networks: use one of {resolutions or 'none (too few layers)'} or null."
        )
