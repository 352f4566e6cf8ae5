"""Progressively grown networks (Karras et al. 2018, ``model.architecture: progressive``).

Both networks hold every resolution level from the start (for 28×28 digits 7 → 14 → 28; for
64×64 photos 4 → 8 → … → 64), but only use the levels up to the current one. While level L is
faded in, its output is blended with the previous level's, upsampled: α · new + (1 − α) · old,
so growing never jolts the other network. The current level and α are the networks' extra state:
they travel with the weights into checkpoints, EMA copies and snapshots, so every saved
generator draws at the resolution it was trained at.

The generator always returns images of the data's size (the current resolution upsampled by
pixel repetition, which is what the grids show); training uses :meth:`synthesize`, the images
at the current resolution.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.networks import ARCHITECTURES, Architecture, ModelOptions
from ganforge.gan.networks.equalized import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm
from ganforge.gan.networks.layout import conv_fit_check, conv_layout


class ProgressiveOptions(ModelOptions):
    #: feature maps at the full resolution; each level below doubles them, up to max_channels
    base_channels: int = Field(32, ge=1)
    max_channels: int = Field(128, ge=1)
    #: samples that share one minibatch standard deviation (null: the whole minibatch)
    minibatch_group: int | None = Field(4, ge=2)
    # equalized layers have no spectral-norm parametrization: their runtime scale plays that part
    spectral_norm: Literal["none"] = "none"


def level_widths(image_size: int, base: int, most: int) -> tuple[int, list[int]]:
    """(start size, feature maps per level from the lowest resolution up)."""
    start, doublings = conv_layout(image_size, "progressive")
    return start, [min(most, base * 2 ** (doublings - level)) for level in range(doublings + 1)]


def _activation() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _unconditional(spec: dict[str, Any]) -> None:
    if spec["num_classes"]:
        raise ConfigError("model.architecture 'progressive' is unconditional: set model.conditional: false "
                          "(class labels in the data are then ignored).")


class Progressive(nn.Module):
    """The growth state both networks share: the current level and the fade-in α."""

    def __init__(self, levels: int, image_size: int) -> None:
        super().__init__()
        self.levels, self.image_size = levels, image_size
        self.level, self.alpha = 0, 1.0

    def resolution(self, level: int | None = None) -> int:
        """Side of the images at ``level`` (by default the current one): each level below the
        last halves the data's size."""
        return self.image_size // 2 ** (self.levels - 1 - (self.level if level is None else level))

    def set_progress(self, level: int, alpha: float) -> None:
        if not (0 <= level < self.levels and 0.0 <= alpha <= 1.0):
            raise ValueError(f"level {level} / alpha {alpha} outside 0..{self.levels - 1} / [0, 1]")
        self.level, self.alpha = level, alpha

    def get_extra_state(self) -> dict[str, Any]:
        return {"level": self.level, "alpha": self.alpha}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.set_progress(int(state["level"]), float(state["alpha"]))

    @property
    def fading(self) -> bool:
        return self.level > 0 and self.alpha < 1.0


class ProgressiveGenerator(Progressive):
    def __init__(self, spec: dict[str, Any]) -> None:
        start, widths = level_widths(spec["image_size"], spec["base_channels"], spec["max_channels"])
        super().__init__(len(widths), spec["image_size"])
        _unconditional(spec)
        # level 0: z → start×start maps (the paper's 4×4 convolution on a 1×1 input is this dense layer)
        first = nn.Sequential(
            PixelNorm(), EqualizedLinear(spec["latent_dim"], widths[0] * start * start),
            nn.Unflatten(1, (widths[0], start, start)), _activation(), PixelNorm(),
            EqualizedConv2d(widths[0], widths[0], 3), _activation(), PixelNorm())
        self.blocks = nn.ModuleList([first] + [
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                          EqualizedConv2d(previous, width, 3), _activation(), PixelNorm(),
                          EqualizedConv2d(width, width, 3), _activation(), PixelNorm())
            for previous, width in zip(widths, widths[1:], strict=False)])
        # linear 1×1 outputs: no tanh, the images' range is learned (gain 1: no activation follows)
        self.to_rgb = nn.ModuleList([EqualizedConv2d(width, spec["channels"], 1, gain=1.0) for width in widths])

    def synthesize(self, z: torch.Tensor) -> torch.Tensor:
        """Images at the current resolution (start · 2^level), the new level faded in by α."""
        features = self.blocks[0](z)
        for block in self.blocks[1 : self.level]:
            features = block(features)
        if self.level == 0:
            return self.to_rgb[0](features)
        new = self.to_rgb[self.level](self.blocks[self.level](features))
        if not self.fading:
            return new
        old = F.interpolate(self.to_rgb[self.level - 1](features), scale_factor=2, mode="nearest")
        return torch.lerp(old, new, self.alpha)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        images = self.synthesize(z)
        if images.shape[-1] == self.image_size:
            return images
        return F.interpolate(images, size=self.image_size, mode="nearest")


class ProgressiveDiscriminator(Progressive):
    """The generator mirrored: 1×1 ``from_rgb`` at each level, two 3×3 convolutions and a 2×
    average pool per level, and at the lowest resolution the minibatch standard deviation, a
    3×3 convolution and two dense layers to one unbounded score."""

    def __init__(self, spec: dict[str, Any]) -> None:
        start, widths = level_widths(spec["image_size"], spec["base_channels"], spec["max_channels"])
        super().__init__(len(widths), spec["image_size"])
        _unconditional(spec)
        self.from_rgb = nn.ModuleList([
            nn.Sequential(EqualizedConv2d(spec["channels"], width, 1), _activation()) for width in widths])
        self.blocks = nn.ModuleList([
            nn.Sequential(MinibatchStdDev(spec["minibatch_group"]),
                          EqualizedConv2d(widths[0] + 1, widths[0], 3), _activation(), nn.Flatten(),
                          EqualizedLinear(widths[0] * start * start, widths[0]), _activation(),
                          EqualizedLinear(widths[0], 1, gain=1.0))
        ] + [
            nn.Sequential(EqualizedConv2d(width, width, 3), _activation(),
                          EqualizedConv2d(width, previous, 3), _activation(), nn.AvgPool2d(2))
            for previous, width in zip(widths, widths[1:], strict=False)])

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of images at the current resolution."""
        features = self.blocks[self.level](self.from_rgb[self.level](images))
        if self.fading:
            old = self.from_rgb[self.level - 1](F.avg_pool2d(images, 2))
            features = torch.lerp(old, features, self.alpha)
        for level in range(self.level - 1, -1, -1):
            features = self.blocks[level](features)
        return features.squeeze(1)


ARCHITECTURES.register("progressive", Architecture(ProgressiveOptions, ProgressiveGenerator,
                                                   ProgressiveDiscriminator, conv_fit_check("progressive")))
