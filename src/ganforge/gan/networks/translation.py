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

from typing import Any

import torch
from pydantic import Field
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.networks import ARCHITECTURES, Architecture, ModelOptions


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


class TranslationOptions(ModelOptions):
    """``model:`` of ``architecture: translation``. The defaults are the paper's 128 px networks;
    28 px digits want far fewer channels and blocks and two strided patch layers."""

    base_channels: int = Field(64, ge=1)
    downsamplings: int = Field(2, ge=1)
    residual_blocks: int = Field(6, ge=0)
    discriminator_channels: int = Field(64, ge=1)
    patch_layers: int = Field(3, ge=1)


def domain_channels(spec: dict[str, Any]) -> tuple[int, int]:
    """(channels of domain A, of domain B); one domain's count twice for a one-domain spec."""
    return tuple(spec.get("domain_channels") or (spec["channels"], spec["channels"]))


def build_translator(spec: dict[str, Any], source: int, target: int) -> ResnetTranslator:
    return ResnetTranslator(source, target, spec["base_channels"], spec["downsamplings"], spec["residual_blocks"])


def build_patch_discriminator(spec: dict[str, Any], channels: int) -> PatchDiscriminator:
    return PatchDiscriminator(channels, spec["discriminator_channels"], spec["patch_layers"])


def _check_fit(model: dict[str, Any], image_size: int) -> None:
    factor = 2 ** model["downsamplings"]
    if image_size % factor:
        raise ConfigError(f"model.architecture 'translation' with downsamplings: {model['downsamplings']} needs an "
                          f"image size divisible by {factor}, not {image_size}. Change data.image_size or "
                          "model.downsamplings.")
    if image_size < 2 ** (model["patch_layers"] + 1):
        raise ConfigError(f"{image_size} px images are too small for model.patch_layers: {model['patch_layers']} "
                          "(each halves the size). Lower model.patch_layers.")


ARCHITECTURES.register("translation", Architecture(
    TranslationOptions,
    lambda spec: build_translator(spec, *domain_channels(spec)),
    lambda spec: build_patch_discriminator(spec, domain_channels(spec)[1]),
    _check_fit))
