"""BigGAN's networks (Brock et al. 2019), scaled down (``model.architecture: biggan``).

The generator is the residual one of ``resnet`` with every BatchNorm made class-conditional:
its gain and bias are linear functions of a condition vector. Each block's condition is a class
embedding shared by all blocks, concatenated with that block's own chunk of z (the hierarchical
latent: z is split into one chunk for the first linear layer and one per block, so every
resolution sees the noise directly). The discriminator is the residual one with a projection
term ⟨embed(y), φ(x)⟩ (Miyato & Koyama 2018). Needs labeled data.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.networks import ARCHITECTURES, INITIALIZERS, Architecture, raw_weight
from ganforge.gan.networks.layout import conv_fit_check
from ganforge.gan.networks.resnet import (
    ResnetGeneratorBody,
    ResnetOptions,
    build_discriminator,
    generator_widths,
)


class ConditionalBatchNorm(nn.Module):
    """BatchNorm whose gain (1 + ·) and bias come from the condition instead of fixed parameters,
    so the class (and the block's latent chunk) steer every feature map's scale and shift."""

    def __init__(self, channels: int, condition_dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(condition_dim, channels, bias=False)
        self.bias = nn.Linear(condition_dim, channels, bias=False)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        gain = 1.0 + self.gain(condition)[:, :, None, None]
        return self.norm(x) * gain + self.bias(condition)[:, :, None, None]


def latent_chunks(latent_dim: int, blocks: int) -> list[int]:
    """Chunk sizes of z: equal ones per block, the first (for the linear layer) takes the rest."""
    per_block = latent_dim // (blocks + 1)
    if per_block < 1:
        raise ConfigError(f"model.latent_dim {latent_dim} is too small to split over {blocks + 1} chunks "
                          f"(one for the input layer, one per generator block): use at least {blocks + 1}.")
    return [latent_dim - blocks * per_block] + [per_block] * blocks


class BigganGenerator(nn.Module):
    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        if not spec["num_classes"]:
            raise ConfigError("model.architecture 'biggan' is class-conditional and needs labeled data: "
                              "use a labeled source, or model.architecture resnet for unlabeled images.")
        _, widths = generator_widths(spec["image_size"], spec["base_channels"])
        self.chunks = latent_chunks(spec["latent_dim"], len(widths) - 1)
        condition_dim = spec["embedding_dim"] + self.chunks[1]
        self.shared_embedding = nn.Embedding(spec["num_classes"], spec["embedding_dim"])
        self.body = ResnetGeneratorBody(self.chunks[0], spec,
                                        norm=lambda channels: ConditionalBatchNorm(channels, condition_dim))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        first, *per_block = z.split(self.chunks, dim=1)
        shared = self.shared_embedding(labels)
        return self.body(first, [torch.cat([shared, chunk], dim=1) for chunk in per_block])


@INITIALIZERS.register("orthogonal")
def orthogonal_init_(module: nn.Module) -> None:
    """Orthogonal weights for convolutions, linear layers and embeddings (BigGAN's choice)."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.Linear | nn.Embedding):
            nn.init.orthogonal_(raw_weight(layer))
            if getattr(layer, "bias", None) is not None:
                nn.init.zeros_(layer.bias)


ARCHITECTURES.register("biggan", Architecture(ResnetOptions, BigganGenerator, build_discriminator,
                                            conv_fit_check("biggan")))
