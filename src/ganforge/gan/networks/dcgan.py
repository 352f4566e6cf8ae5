"""Deep convolutional networks, as in Radford et al. 2016 (``model.architecture: dcgan``).

They adapt to the data's resolution and channel count: any square size s·2ⁿ with 3 ≤ s ≤ 7
(28×28×1, 32×32×3, 64×64×3, 96×96×3, ...).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from torch import nn

from ganforge.gan.networks import (
    ARCHITECTURES,
    INITIALIZERS,
    Architecture,
    Discriminator,
    Generator,
    ModelOptions,
    raw_weight,
)
from ganforge.gan.networks.attention import SelfAttention
from ganforge.gan.networks.layout import conv_fit_check, conv_layout


class DcganOptions(ModelOptions):
    base_channels: int = Field(64, ge=1)
    #: the generator's feature maps at full size when it should differ from the discriminator's
    #: (null = base_channels): at 64×64 on a CPU budget the generator is where width pays
    generator_base_channels: int | None = Field(None, ge=1)
    #: how the generator doubles its maps: a 4×4 stride-2 transposed convolution (the paper), or
    #: nearest-neighbour upsampling and a 3×3 convolution, which cannot make the checkerboard
    #: pattern uneven kernel overlap draws (Odena et al. 2016)
    generator_upsampling: Literal["transposed", "nearest"] = "transposed"
    discriminator_norm: Literal["batch", "layer", "none"] = "batch"
    #: feature-map size (in both networks) after which a self-attention block sits (SAGAN); null = none
    attention_resolution: int | None = Field(None, ge=1)


def normalization(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        # GroupNorm with one group normalizes each sample on its own, which a gradient penalty
        # needs (BatchNorm couples the samples of a batch).
        return nn.GroupNorm(1, channels)
    return nn.Identity()


@INITIALIZERS.register("dcgan")
def dcgan_init_(module: nn.Module) -> None:
    """N(0, 0.02) weights for (transposed) convolutions and linear layers, N(1, 0.02) for norms."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(raw_weight(layer), 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d | nn.BatchNorm1d | nn.GroupNorm):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def doubling(in_channels: int, out_channels: int, upsampling: str, bias: bool) -> list[nn.Module]:
    """Layers that double the feature-map size."""
    if upsampling == "nearest":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=bias)]
    return [nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=bias)]


def generator_body(input_dim: int, channels: int, image_size: int, base: int,
                   attention_at: int | None = None, upsampling: str = "transposed") -> nn.Sequential:
    start, doublings = conv_layout(image_size)
    widths = [base * 2 ** (doublings - 1 - i) for i in range(doublings)]  # e.g. 256,128,64
    layers: list[nn.Module] = [
        nn.Linear(input_dim, widths[0] * start * start, bias=False),
        nn.Unflatten(1, (widths[0], start, start)),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(inplace=True),
    ]
    size = start
    for current, following in zip(widths, widths[1:], strict=False):
        layers += [
            *doubling(current, following, upsampling, bias=False),
            nn.BatchNorm2d(following),
            nn.ReLU(inplace=True),
        ]
        size *= 2
        if size == attention_at:
            layers.append(SelfAttention(following))
    layers += [*doubling(widths[-1], channels, upsampling, bias=True), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator_features(channels: int, image_size: int, base: int, norm: str,
                           attention_at: int | None = None) -> tuple[nn.Sequential, int]:
    start, doublings = conv_layout(image_size)
    widths = [base * 2**i for i in range(doublings)]  # e.g. 64,128,256
    layers: list[nn.Module] = [
        nn.Conv2d(channels, widths[0], 4, 2, 1),
        nn.LeakyReLU(0.2, inplace=True),  # no normalization on the first layer (DCGAN)
    ]
    size = image_size // 2
    for current, following in zip(widths, widths[1:], strict=False):
        if size == attention_at:
            layers.append(SelfAttention(current))
        layers += [
            nn.Conv2d(current, following, 4, 2, 1, bias=norm == "none"),
            normalization(norm, following),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        size //= 2
    layers.append(nn.Flatten())
    return nn.Sequential(*layers), widths[-1] * start * start


def build_generator(spec: dict[str, Any]) -> Generator:
    base = spec.get("generator_base_channels") or spec["base_channels"]
    return Generator(spec, lambda input_dim: generator_body(
        input_dim, spec["channels"], spec["image_size"], base, spec.get("attention_resolution"),
        spec.get("generator_upsampling", "transposed")))


def build_discriminator(spec: dict[str, Any]) -> Discriminator:
    features, width = discriminator_features(spec["channels"], spec["image_size"], spec["base_channels"],
                                             spec["discriminator_norm"], spec.get("attention_resolution"))
    return Discriminator(features, width, spec["num_classes"])


ARCHITECTURES.register("dcgan", Architecture(DcganOptions, build_generator, build_discriminator,
                                           conv_fit_check("dcgan")))
