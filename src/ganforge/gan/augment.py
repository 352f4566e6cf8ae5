"""Differentiable augmentation (DiffAugment, Zhao et al. 2020), chosen by ``training.augment``.

With little data the discriminator memorizes the real images and its feedback to the generator
turns to noise. DiffAugment transforms *every* image the discriminator sees, real and generated,
in its own step and in the generator's, with operations that are differentiable, so the
generator is trained through them and never learns to produce augmented-looking images.
Each operation draws fresh random parameters per image from the step's seeded generator (drawn
for the global batch and split, in data-parallel training: :mod:`ganforge.gan.randomness`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ganforge.gan.randomness import BatchRandom, batch_random
from ganforge.registry import Registry

Random = torch.Generator | BatchRandom
Augmentation = Callable[[torch.Tensor, Random], torch.Tensor]
AUGMENTATIONS: Registry[Augmentation] = Registry("augmentation", "training.augment")


def _uniform(images: torch.Tensor, rng: Random) -> torch.Tensor:
    """One U(0, 1) value per image, shaped to broadcast over its pixels."""
    return batch_random(rng).rand(images.shape[0], 1, 1, 1, device=images.device, dtype=images.dtype)


@AUGMENTATIONS.register("color")
def adjust_color(images: torch.Tensor, rng: Random) -> torch.Tensor:
    """Random brightness (± 0.5), saturation (× 0–2) and contrast (× 0.5–1.5) per image, on [-1, 1]
    images (saturation leaves one-channel images unchanged)."""
    images = images + (_uniform(images, rng) - 0.5)
    gray = images.mean(dim=1, keepdim=True)
    images = (images - gray) * (_uniform(images, rng) * 2) + gray
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * (_uniform(images, rng) + 0.5) + mean


@AUGMENTATIONS.register("translation")
def translate(images: torch.Tensor, rng: Random, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size in both directions, filling with zeros."""
    batch, _, height, width = images.shape
    max_dy, max_dx = round(height * ratio), round(width * ratio)
    dy = batch_random(rng).randint(-max_dy, max_dy + 1, batch, 1, 1, device=images.device)
    dx = batch_random(rng).randint(-max_dx, max_dx + 1, batch, 1, 1, device=images.device)
    # index into a one-pixel zero border: every source position outside the image lands on it
    rows = (torch.arange(height, device=images.device).view(1, -1, 1) + dy).clamp(-1, height) + 1
    cols = (torch.arange(width, device=images.device).view(1, 1, -1) + dx).clamp(-1, width) + 1
    padded = F.pad(images, [1, 1, 1, 1])
    shifted = padded[torch.arange(batch, device=images.device).view(-1, 1, 1), :, rows, cols]  # [b, h, w, c]
    return shifted.permute(0, 3, 1, 2)


@AUGMENTATIONS.register("cutout")
def cut_out(images: torch.Tensor, rng: Random, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of ``ratio`` of the image size at a random centre in each image."""
    batch, _, height, width = images.shape
    size_y, size_x = round(height * ratio), round(width * ratio)
    top = batch_random(rng).randint(0, height, batch, 1, 1, device=images.device) - size_y // 2
    left = batch_random(rng).randint(0, width, batch, 1, 1, device=images.device) - size_x // 2
    rows = torch.arange(height, device=images.device).view(1, -1, 1)
    cols = torch.arange(width, device=images.device).view(1, 1, -1)
    inside = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return images * (~inside).unsqueeze(1).to(images.dtype)


def augment(images: torch.Tensor, policy: tuple[str, ...] | list[str], rng: Random) -> torch.Tensor:
    """Apply the operations of ``policy`` in order (an empty policy returns ``images`` as is)."""
    for name in policy:
        images = AUGMENTATIONS[name](images, rng)
    return images
