"""Conversions between stored uint8 images, training tensors in [-1, 1], and pictures.

The normalization recipe travels with the data set (``model_input["normalization"]``) and with
every checkpoint, so any grid can be mapped back to exact pixel values.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import numpy as np
import torch
from PIL import Image, ImageDraw

PIXEL_MAX = 255.0
_STATISTICS_BLOCK = 1024  # images per block of the channel statistics


def normalization_recipe(images: torch.Tensor | ChunkedImages) -> dict:
    """The recipe that maps uint8 pixels [0, 255] linearly onto [-1, 1] (plus channel stats).

    The channel statistics are taken a block of images at a time, so that a set stored in
    chunks (shards on disk) is never read whole and gives the same numbers as in memory."""
    blocks = images.split(_STATISTICS_BLOCK) if isinstance(images, torch.Tensor) else images.chunks()
    mean, std = _streamed_channel_statistics(blocks)
    return {
        "pixel_range": [0, 255],
        "target_range": [-1.0, 1.0],
        "scale": 2.0 / PIXEL_MAX,
        "shift": -1.0,
        "channel_mean": mean,
        "channel_std": std,
    }


class ChunkedImages(Protocol):
    """uint8 N×C×H×W images read a block at a time (ganforge.gan.shards.ShardedImages)."""

    def chunks(self) -> Iterator[torch.Tensor]: ...


def _streamed_channel_statistics(chunks: Iterable[torch.Tensor]) -> tuple[list[float], list[float]]:
    """Per-channel mean and sample standard deviation of pixels / 255 from float64 running sums
    (exact integers for uint8 sums, so no cancellation worth the name)."""
    count, total, squares = 0, None, None
    for chunk in chunks:
        values = chunk.to(torch.float64).div_(PIXEL_MAX)
        sums, square_sums = values.sum(dim=(0, 2, 3)), values.square().sum(dim=(0, 2, 3))
        total = sums if total is None else total + sums
        squares = square_sums if squares is None else squares + square_sums
        count += chunk.shape[0] * chunk.shape[2] * chunk.shape[3]
    if total is None:
        raise ValueError("no images to take statistics of")
    mean = total / count
    variance = (squares - count * mean.square()) / max(count - 1, 1)
    return mean.tolist(), variance.clamp_(min=0).sqrt().tolist()


def to_training_range(images: torch.Tensor, recipe: dict) -> torch.Tensor:
    """uint8 N×C×H×W → float in the recipe's target range (by default [-1, 1])."""
    return images.float().mul_(recipe["scale"]).add_(recipe["shift"])


def to_uint8(images: torch.Tensor, recipe: dict) -> torch.Tensor:
    """Inverse of :func:`to_training_range`, clamped and rounded to valid pixels."""
    pixels = (images.detach().float() - recipe["shift"]) / recipe["scale"]
    return pixels.round_().clamp_(0, PIXEL_MAX).to(torch.uint8)


def grid_image(images_uint8: torch.Tensor, nrow: int = 8, padding: int = 2) -> Image.Image:
    """A PIL grid of uint8 N×C×H×W images (grayscale stays single-channel)."""
    from torchvision.utils import make_grid  # torchvision costs seconds to import; only grids need it

    grid = make_grid(images_uint8.cpu(), nrow=nrow, padding=padding, pad_value=0)
    array = grid.permute(1, 2, 0).numpy()
    if images_uint8.shape[1] == 1:
        return Image.fromarray(np.ascontiguousarray(array[:, :, 0]), mode="L")
    return Image.fromarray(np.ascontiguousarray(array), mode="RGB")


def animated_gif(frames: Sequence[Image.Image], durations: int | list[int]) -> Image.Image:
    """A multi-frame GIF image (``durations`` in ms, one for all or one per frame) that
    pillow.ImageDataset writes whole (``save_all`` in the catalog)."""
    buffer = io.BytesIO()
    frames = [frame.convert("P") if frame.mode == "RGB" else frame for frame in frames]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    buffer.seek(0)
    return Image.open(buffer)


def stack_vertically(pictures: Sequence[Image.Image], gap: int = 4) -> Image.Image:
    """Stack pictures of equal width top to bottom (used for progress strips)."""
    width = max(picture.width for picture in pictures)
    height = sum(picture.height for picture in pictures) + gap * (len(pictures) - 1)
    mode = "RGB" if any(picture.mode == "RGB" for picture in pictures) else "L"
    canvas = Image.new(mode, (width, height), color=255 if mode == "L" else (255, 255, 255))
    top = 0
    for picture in pictures:
        canvas.paste(picture.convert(mode), (0, top))
        top += picture.height + gap
    return canvas


def caption_left(picture: Image.Image, text: str, width: int = 52) -> Image.Image:
    """``picture`` with ``text`` written in a white margin at its left."""
    canvas = Image.new(picture.mode, (picture.width + width, picture.height),
                       color=255 if picture.mode == "L" else (255, 255, 255))
    canvas.paste(picture, (width, 0))
    ImageDraw.Draw(canvas).text((3, picture.height // 2 - 6), text, fill=0 if picture.mode == "L" else (0, 0, 0))
    return canvas
