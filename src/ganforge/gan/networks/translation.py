"""Image-to-image networks for translation between two domains (CycleGAN, Zhu et al. 2017,
appendix 7.2; the generator after Johnson et al. 2016, the discriminator after Isola et al. 2017).

The translator encodes an image with strided convolutions, transforms it with residual blocks at
the low resolution and decodes it with transposed convolutions, all with instance normalization
(each image normalized on its own, so one image's contrast does not leak into another's) and
reflection padding at the borders (zero padding shows up as dark frames). The discriminator is a
PatchGAN: a fully convolutional network whose output is a grid of scores, one per overlapping
patch, so it judges local texture and stroke while the cycle loss keeps the global content.
"""

from __future__ import annotations

import torch
from torch import nn


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True)


class ResidualBlock(nn.Module):
    """x + (pad, 3×3 conv, norm, ReLU, pad, 3×3 conv, norm)(x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), _norm(channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), _norm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetTranslator(nn.Module):
    """Image → image of the same size. The paper's 128 px network is ``base_channels=64,
    downsamplings=2, residual_blocks=6`` (9 blocks at 256 px); the image side must be divisible by
    2^downsamplings."""

    def __init__(self, in_channels: int, out_channels: int, base_channels: int = 64, downsamplings: int = 2,
                 residual_blocks: int = 6) -> None:
        super().__init__()
        self.downsamplings = downsamplings
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, base_channels, 7, bias=False),
                                   _norm(base_channels), nn.ReLU()]
        width = base_channels
        for _ in range(downsamplings):
            layers += [nn.Conv2d(width, width * 2, 3, stride=2, padding=1, bias=False), _norm(width * 2), nn.ReLU()]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(residual_blocks)]
        for _ in range(downsamplings):
            layers += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1, bias=False),
                       _norm(width // 2), nn.ReLU()]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        factor = 2**self.downsamplings
        if images.shape[-1] % factor or images.shape[-2] % factor:
            raise ValueError(f"image size {tuple(images.shape[-2:])} is not divisible by 2^downsamplings = {factor}")
        return self.net(images)


class PatchDiscriminator(nn.Module):
    """4×4 convolutions, the first ``strided_layers`` with stride 2 (doubling the width from
    ``base_channels``, no normalization on the first), then one of stride 1 and a 1-channel score
    map. ``strided_layers=3`` at 64 base channels is the paper's 70×70 PatchGAN; 28 px digits
    want 2 (patches of 34 px, a 5×5 score map)."""

    def __init__(self, in_channels: int, base_channels: int = 64, strided_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base_channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        width = base_channels
        for _ in range(strided_layers - 1):
            layers += [nn.Conv2d(width, width * 2, 4, stride=2, padding=1, bias=False), _norm(width * 2),
                       nn.LeakyReLU(0.2)]
            width *= 2
        layers += [nn.Conv2d(width, width * 2, 4, stride=1, padding=1, bias=False), _norm(width * 2), nn.LeakyReLU(0.2),
                   nn.Conv2d(width * 2, 1, 4, stride=1, padding=1)]
        self.net = nn.Sequential(*layers)
        self.receptive_field = patch_receptive_field(strided_layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """A score per patch: [N, 1, H', W']."""
        return self.net(images)


def patch_receptive_field(strided_layers: int) -> int:
    """Side in pixels of the input patch behind one score: 1 + Σ 3 · (product of the strides of
    the layers before it) over the 4×4 convolutions, computed from the score back to the image."""
    strides = [2] * strided_layers + [1, 1]
    field = 1
    for stride in reversed(strides):
        field = field * stride + (4 - stride)
    return field
