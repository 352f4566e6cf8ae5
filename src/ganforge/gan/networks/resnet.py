"""Residual networks of the SNGAN / SAGAN / BigGAN papers (``model.architecture: resnet``).

Generator blocks are pre-activation: norm → ReLU → 2× nearest upsampling → 3×3 conv → norm →
ReLU → 3×3 conv, plus an upsampled 1×1-conv shortcut (Miyato et al. 2018, appendix B). The
discriminator's blocks are ReLU → conv → ReLU → conv → 2×2 average pooling with a 1×1-conv
shortcut; its last features are summed over positions before the score. A self-attention
block (Zhang et al. 2019) can sit at one resolution of both networks
(``model.attention_resolution``).

The layout follows the image size like the DCGAN one (7×7 → 28×28, 4×4 → 64×64, 6×6 → 96×96):
the generator halves its width at every doubling, the discriminator doubles it at every halving.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganforge.gan.networks import ARCHITECTURES, Architecture, Discriminator, Generator, ModelOptions
from ganforge.gan.networks.attention import SelfAttention
from ganforge.gan.networks.layout import conv_fit_check, conv_layout


class ResnetOptions(ModelOptions):
    #: width of the generator's last block and the discriminator's first (BigGAN's "ch")
    base_channels: int = Field(32, ge=1)
    #: feature-map size (in both networks) after which a self-attention block sits; null = none
    attention_resolution: int | None = Field(None, ge=1)


class BatchNorm(nn.BatchNorm2d):
    """BatchNorm with the conditional norm's call signature (the condition is ignored)."""

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x)


#: channels → a norm whose forward takes (x, condition)
NormFactory = Callable[[int], nn.Module]


class GeneratorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, norm: NormFactory) -> None:
        super().__init__()
        self.norm1, self.norm2 = norm(in_channels), norm(out_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        h = F.interpolate(F.relu(self.norm1(x, condition)), scale_factor=2.0)
        h = self.conv2(F.relu(self.norm2(self.conv1(h), condition)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0))


class DiscriminatorBlock(nn.Module):
    """``first``: no ReLU before the first conv (it would clip the input image), and the shortcut
    pools before its conv (Miyato et al.'s "optimized" first block)."""

    def __init__(self, in_channels: int, out_channels: int, downsample: bool, first: bool = False) -> None:
        super().__init__()
        self.downsample, self.first = downsample, first
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if downsample or in_channels != out_channels else None

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x if self.first else F.relu(x))
        h = self._pool(self.conv2(F.relu(h)))
        if self.shortcut is None:
            return h + x
        return h + (self.shortcut(self._pool(x)) if self.first else self._pool(self.shortcut(x)))


def generator_widths(image_size: int, base: int) -> tuple[int, list[int]]:
    """(start size, widths): the first is the linear layer's output, one more per block."""
    start, doublings = conv_layout(image_size, "resnet")
    return start, [base * 2 ** (doublings - i) for i in range(doublings + 1)]


def discriminator_widths(image_size: int, base: int) -> list[int]:
    """One downsampling block per generator doubling, then one more at the last resolution."""
    _, doublings = conv_layout(image_size, "resnet")
    widths = [base * 2**i for i in range(doublings)]
    return [*widths, widths[-1]]


class ResnetGeneratorBody(nn.Module):
    """input vector → image; ``norm`` makes each block's norms (conditional ones for BigGAN)."""

    def __init__(self, input_dim: int, spec: dict[str, Any], norm: NormFactory = BatchNorm) -> None:
        super().__init__()
        self.start, widths = generator_widths(spec["image_size"], spec["base_channels"])
        self.linear = nn.Linear(input_dim, widths[0] * self.start**2)
        self.blocks = nn.ModuleList(GeneratorBlock(a, b, norm) for a, b in zip(widths, widths[1:], strict=False))
        self.attention_after = None
        if spec.get("attention_resolution"):
            self.attention_after = [self.start * 2 ** (i + 1) for i in range(len(self.blocks))].index(
                spec["attention_resolution"])
            self.attention = SelfAttention(widths[self.attention_after + 1])
        self.output_norm = nn.BatchNorm2d(widths[-1])
        self.output = nn.Conv2d(widths[-1], spec["channels"], 3, 1, 1)

    def forward(self, z: torch.Tensor, conditions: list[torch.Tensor] | None = None) -> torch.Tensor:
        h = self.linear(z).view(z.shape[0], -1, self.start, self.start)
        for index, block in enumerate(self.blocks):
            h = block(h, conditions[index] if conditions is not None else None)
            if index == self.attention_after:
                h = self.attention(h)
        return torch.tanh(self.output(F.relu(self.output_norm(h))))


class SumPool(nn.Module):
    """Sum over positions (SNGAN): the score sees how much of each feature there is in all."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(2, 3))


def discriminator_features(spec: dict[str, Any]) -> tuple[nn.Sequential, int]:
    widths = discriminator_widths(spec["image_size"], spec["base_channels"])
    layers: list[nn.Module] = []
    previous, size = spec["channels"], spec["image_size"]
    for index, width in enumerate(widths):
        downsample = index < len(widths) - 1
        layers.append(DiscriminatorBlock(previous, width, downsample, first=index == 0))
        size //= 2 if downsample else 1
        if downsample and size == spec.get("attention_resolution"):
            layers.append(SelfAttention(width))
        previous = width
    layers += [nn.ReLU(), SumPool()]
    return nn.Sequential(*layers), previous


def build_generator(spec: dict[str, Any]) -> Generator:
    return Generator(spec, lambda input_dim: ResnetGeneratorBody(input_dim, spec))


def build_discriminator(spec: dict[str, Any]) -> Discriminator:
    features, width = discriminator_features(spec)
    return Discriminator(features, width, spec["num_classes"])


ARCHITECTURES.register("resnet", Architecture(ResnetOptions, build_generator, build_discriminator,
                                            conv_fit_check("resnet")))
