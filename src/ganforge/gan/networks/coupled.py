"""Coupled networks (CoGAN, Liu & Tuzel 2016): one generator per domain and one discriminator per
domain, with weights shared where the paper shares them.

The generators share their first layers, which decode the high-level content of an image from
the latent vector, and keep their own last layers, which render it in each domain's pixels: the
same z then gives a digit and, say, its negative. The discriminators mirror that: each has its
own first layers (pixels) and they share the rest (content). A shared layer is one module, so
its weights are one tensor that both domains' losses update in the same step.

Built from the DCGAN networks (``networks/dcgan.py``) cut where the domains part.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.networks import ARCHITECTURES, Architecture, ModelOptions
from ganforge.gan.networks.dcgan import discriminator_features, generator_body
from ganforge.gan.networks.layout import conv_fit_check, conv_layout


class CoupledOptions(ModelOptions):
    base_channels: int = Field(64, ge=1)
    discriminator_norm: Literal["batch", "layer", "none"] = "batch"
    #: transposed convolutions at the end of each generator that are its own (the paper's digit
    #: networks: the last one)
    unshared_generator_layers: int = Field(1, ge=1)
    #: convolutions at the start of each discriminator that are its own (the paper's: the first)
    unshared_discriminator_layers: int = Field(1, ge=1)


def _index_of(layers: nn.Sequential, kind: type[nn.Module], occurrence: int) -> int:
    """Position of the ``occurrence``-th layer of ``kind`` (negative: counted from the end)."""
    positions = [index for index, layer in enumerate(layers) if isinstance(layer, kind)]
    return positions[occurrence]


class CoupledGenerator(nn.Module):
    """z → (image of domain A, image of domain B) through shared layers and two heads."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        bodies = [generator_body(spec["latent_dim"], spec["channels"], spec["image_size"], spec["base_channels"])
                  for _ in range(2)]
        split = _index_of(bodies[0], nn.ConvTranspose2d, -spec["unshared_generator_layers"])
        self.shared = bodies[0][:split]
        self.heads = nn.ModuleList([body[split:] for body in bodies])

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        content = self.shared(z)
        return self.heads[0](content), self.heads[1](content)


class CoupledDiscriminator(nn.Module):
    """(image, domain 0 or 1) → one score per image: the domain's own first layers, then the
    shared rest and score."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        features = [discriminator_features(spec["channels"], spec["image_size"], spec["base_channels"],
                                           spec["discriminator_norm"])[0] for _ in range(2)]
        split = _index_of(features[0], nn.Conv2d, spec["unshared_discriminator_layers"])
        self.stems = nn.ModuleList([layers[:split] for layers in features])
        self.shared = features[0][split:]
        start, doublings = conv_layout(spec["image_size"])
        self.score = nn.Linear(spec["base_channels"] * 2 ** (doublings - 1) * start * start, 1)

    def forward(self, images: torch.Tensor, domain: int) -> torch.Tensor:
        return self.score(self.shared(self.stems[domain](images))).squeeze(1)


def _check_fit(model: dict[str, Any], image_size: int) -> None:
    conv_fit_check("coupled")(model, image_size)
    _, doublings = conv_layout(image_size)
    for key in ("unshared_generator_layers", "unshared_discriminator_layers"):
        if model[key] >= doublings:
            raise ConfigError(f"model.{key}: {model[key]} leaves nothing to share: {image_size} px networks have "
                              f"{doublings} strided layers. Lower model.{key} below {doublings}.")


ARCHITECTURES.register("coupled", Architecture(CoupledOptions, CoupledGenerator, CoupledDiscriminator, _check_fit))
