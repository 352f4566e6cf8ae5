"""Generators and discriminators (critics), readable first.

Two architectures serve every variant:

* ``mlp`` — Goodfellow et al. 2014 style fully connected networks.
* ``dcgan`` — Radford et al. 2016 style (transposed) convolutions that adapt to the data's
  resolution and channel count: 28×28×1, 32×32×3, 64×64×3, 96×96×3 and any size of the form
  s·2ⁿ with a 3 ≤ s ≤ 7 start size.

Conditional variants (cGAN, Mirza & Osindero 2014) embed the class label: the generator sees it
concatenated to z; the discriminator uses the projection trick (Miyato & Koyama 2018), which
works for both architectures without reshaping labels into images.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganforge.errors import ConfigError

MIN_START_SIZE = 3
MAX_START_SIZE = 7


def conv_layout(image_size: int) -> tuple[int, int]:
    """(start size, number of 2× upsamplings) so that start · 2ⁿ == image_size.

    28 → (7, 2), 32 → (4, 3), 64 → (4, 4), 96 → (6, 4).
    """
    size, doublings = image_size, 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        doublings += 1
    if not (MIN_START_SIZE <= size <= MAX_START_SIZE) or doublings == 0:
        raise ConfigError(
            f"model.architecture 'dcgan' cannot build {image_size}×{image_size} images: it needs "
            f"a size s·2ⁿ with {MIN_START_SIZE} ≤ s ≤ {MAX_START_SIZE} and n ≥ 1 (e.g. 28, 32, "
            "48, 64, 96, 128). Set data.image_size to such a size or use model.architecture: mlp."
        )
    return size, doublings


def _normalization(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        # GroupNorm with one group normalizes each sample on its own, which a gradient penalty
        # needs (BatchNorm couples the samples of a batch).
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def dcgan_init_(module: nn.Module) -> None:
    """N(0, 0.02) weights for (transposed) convolutions and linear layers, N(1, 0.02) for norms."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d | nn.BatchNorm1d | nn.GroupNorm):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class Generator(nn.Module):
    """z (and optionally a class label) → image in [-1, 1]."""

    def __init__(
        self,
        *,
        architecture: str,
        latent_dim: int,
        channels: int,
        image_size: int,
        base_channels: int = 64,
        hidden_dims: tuple[int, ...] = (128, 256, 512, 1024),
        num_classes: int = 0,
        embedding_dim: int = 0,
    ) -> None:
        super().__init__()
        self.image_shape = (channels, image_size, image_size)
        self.label_embedding = (
            nn.Embedding(num_classes, embedding_dim) if num_classes and embedding_dim else None
        )
        input_dim = latent_dim + (embedding_dim if self.label_embedding is not None else 0)
        if architecture == "mlp":
            self.net = self._mlp(input_dim, hidden_dims, math.prod(self.image_shape))
        elif architecture == "dcgan":
            self.net = self._dcgan(input_dim, channels, image_size, base_channels)
        else:
            raise ConfigError(f"Unknown model.architecture '{architecture}'. Use 'mlp' or 'dcgan'.")

    @staticmethod
    def _mlp(input_dim: int, hidden_dims: tuple[int, ...], output_dim: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        previous = input_dim
        for index, width in enumerate(hidden_dims):
            layers.append(nn.Linear(previous, width))
            if index > 0:  # as in the classic script: no normalization on the first layer
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            previous = width
        layers += [nn.Linear(previous, output_dim), nn.Tanh()]
        return nn.Sequential(*layers)

    @staticmethod
    def _dcgan(input_dim: int, channels: int, image_size: int, base: int) -> nn.Sequential:
        start, doublings = conv_layout(image_size)
        widths = [base * 2 ** (doublings - 1 - i) for i in range(doublings)]  # e.g. 256,128,64
        layers: list[nn.Module] = [
            nn.Linear(input_dim, widths[0] * start * start, bias=False),
            nn.Unflatten(1, (widths[0], start, start)),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        for current, following in zip(widths, widths[1:], strict=False):
            layers += [
                nn.ConvTranspose2d(current, following, 4, 2, 1, bias=False),
                nn.BatchNorm2d(following),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        return nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.label_embedding is not None:
            z = torch.cat([z, self.label_embedding(labels)], dim=1)
        return self.net(z).view(z.shape[0], *self.image_shape)


class Discriminator(nn.Module):
    """Image (and optionally a class label) → one unbounded score per image.

    There is no sigmoid: BCE objectives use logits (numerically stable), Wasserstein critics use
    the raw score.
    """

    def __init__(
        self,
        *,
        architecture: str,
        channels: int,
        image_size: int,
        base_channels: int = 64,
        hidden_dims: tuple[int, ...] = (512, 256),
        normalization: str = "batch",
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        if architecture == "mlp":
            self.features, feature_dim = self._mlp(channels * image_size**2, hidden_dims)
        elif architecture == "dcgan":
            self.features, feature_dim = self._dcgan(channels, image_size, base_channels, normalization)
        else:
            raise ConfigError(f"Unknown model.architecture '{architecture}'. Use 'mlp' or 'dcgan'.")
        self.score = nn.Linear(feature_dim, 1)
        self.label_projection = nn.Embedding(num_classes, feature_dim) if num_classes else None

    @staticmethod
    def _mlp(input_dim: int, hidden_dims: tuple[int, ...]) -> tuple[nn.Sequential, int]:
        layers: list[nn.Module] = [nn.Flatten()]
        previous = input_dim
        for width in hidden_dims:
            layers += [nn.Linear(previous, width), nn.LeakyReLU(0.2, inplace=True)]
            previous = width
        return nn.Sequential(*layers), previous

    @staticmethod
    def _dcgan(
        channels: int, image_size: int, base: int, normalization: str
    ) -> tuple[nn.Sequential, int]:
        start, doublings = conv_layout(image_size)
        widths = [base * 2**i for i in range(doublings)]  # e.g. 64,128,256
        layers: list[nn.Module] = [
            nn.Conv2d(channels, widths[0], 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),  # no normalization on the first layer (DCGAN)
        ]
        for current, following in zip(widths, widths[1:], strict=False):
            layers += [
                nn.Conv2d(current, following, 4, 2, 1, bias=normalization == "none"),
                _normalization(normalization, following),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers.append(nn.Flatten())
        return nn.Sequential(*layers), widths[-1] * start * start

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.features(images)
        score = self.score(features).squeeze(1)
        if self.label_projection is not None:
            score = score + (self.label_projection(labels) * features).sum(dim=1)
        return score
