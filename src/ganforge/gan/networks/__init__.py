"""Generators and discriminators, registered by architecture name.

An architecture is two builders, ``spec → generator`` and ``spec → discriminator``, plus the
options its ``model:`` section accepts. The spec (:func:`model_spec`) is plain data saved with
every checkpoint, so any checkpoint rebuilds its own networks.

Conditioning is shared by every architecture that uses these wrappers: the generator sees the
class embedding concatenated to z (Mirza & Osindero 2014); the discriminator adds a projection
term ⟨embed(y), φ(x)⟩ to its score (Miyato & Koyama 2018).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from ganforge.registry import Registry


class ModelOptions(BaseModel):
    """The ``model:`` keys every architecture understands; architectures add their own."""

    model_config = ConfigDict(extra="forbid")

    architecture: str
    latent_dim: int = Field(100, ge=1)
    conditional: bool = False
    embedding_dim: int = Field(16, ge=1)
    init: str = "default"
    #: spectral normalization (Miyato et al. 2018) of every weight layer of these networks
    spectral_norm: Literal["none", "discriminator", "both"] = "none"


@dataclass(frozen=True)
class Architecture:
    options: type[ModelOptions]
    build_generator: Callable[[dict[str, Any]], nn.Module]
    build_discriminator: Callable[[dict[str, Any]], nn.Module]
    #: raises ConfigError when these ``model:`` options cannot build images of this size
    check_fit: Callable[[dict[str, Any], int], None] = lambda model, size: None
    #: where the truncation trick acts: "z" redraws latent values beyond ±t (BigGAN); "w" moves
    #: each intermediate latent towards the tracked average by ψ = t (StyleGAN)
    truncation: Literal["z", "w"] = "z"


ARCHITECTURES: Registry[Architecture] = Registry("architecture", "model.architecture")
INITIALIZERS: Registry[Callable[[nn.Module], None]] = Registry("initialization", "model.init")
INITIALIZERS.register("default", lambda module: None)  # PyTorch's own per-layer defaults


def model_spec(model: dict[str, Any], channels: int, image_size: int, num_classes: int) -> dict[str, Any]:
    """Everything needed to rebuild the networks (plain data, saved in every checkpoint)."""
    spec = {key: (list(value) if isinstance(value, tuple) else value) for key, value in model.items()}
    spec.pop("conditional")
    spec.update(channels=channels, image_size=image_size,
                num_classes=num_classes if model["conditional"] else 0)
    return spec


GEOMETRY = ("channels", "image_size", "num_classes")


def normalized_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A saved spec with today's defaults filled in and keys its architecture no longer reads
    dropped, so checkpoints from older versions rebuild and compare like new ones."""
    options = ARCHITECTURES[spec["architecture"]].options
    known = {key: value for key, value in spec.items() if key in options.model_fields}
    model = options.model_validate(known).model_dump(mode="json")
    normalized = model_spec({**model, "conditional": bool(spec["num_classes"])}, spec["channels"],
                            spec["image_size"], spec["num_classes"])
    if "domain_channels" in spec:  # a two-domain model: each domain's channel count
        normalized["domain_channels"] = list(spec["domain_channels"])
    return normalized


def build_generator(spec: dict[str, Any]) -> nn.Module:
    generator = ARCHITECTURES[spec["architecture"]].build_generator(spec)
    # the generator's class embeddings stay free (BigGAN's shared embedding is not normalized):
    # normalized, they shrink below the latent's scale and the class stops steering the images
    return apply_spectral_norm(generator, embeddings=False) if spec.get("spectral_norm") == "both" else generator


def build_discriminator(spec: dict[str, Any]) -> nn.Module:
    critic = ARCHITECTURES[spec["architecture"]].build_discriminator(spec)
    return apply_spectral_norm(critic) if spec.get("spectral_norm") in ("discriminator", "both") else critic


SPECTRAL_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)


def apply_spectral_norm(network: nn.Module, embeddings: bool = True) -> nn.Module:
    """Divide every weight of ``network`` by its largest singular value, estimated by one power
    iteration per training forward pass (PyTorch's parametrization; transposed convolutions are
    normalized over their output channels). ``embeddings``: the class embeddings too (the
    projection discriminator's, as Miyato & Koyama 2018 do)."""
    for layer in network.modules():
        if isinstance(layer, SPECTRAL_LAYERS) and (embeddings or not isinstance(layer, nn.Embedding)):
            nn.utils.parametrizations.spectral_norm(layer)
    return network


def raw_weight(layer: nn.Module) -> torch.Tensor:
    """The trainable weight of a layer, under its spectral-norm parametrization if it has one
    (initializers must write here: ``layer.weight`` is then computed, not stored)."""
    parametrizations = getattr(layer, "parametrizations", None)
    return parametrizations.weight.original if parametrizations is not None else layer.weight


class Generator(nn.Module):
    """z (and optionally a class label) → image in [-1, 1], around an architecture's body."""

    def __init__(self, spec: dict[str, Any], body: Callable[[int], nn.Module]) -> None:
        super().__init__()
        self.image_shape = (spec["channels"], spec["image_size"], spec["image_size"])
        classes, embedding = spec["num_classes"], spec["embedding_dim"]
        # Built before the body: parameter creation order fixes the seeded initialization.
        self.label_embedding = nn.Embedding(classes, embedding) if classes else None
        self.net = body(spec["latent_dim"] + (embedding if classes else 0))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.label_embedding is not None:
            z = torch.cat([z, self.label_embedding(labels)], dim=1)
        return self.net(z).view(z.shape[0], *self.image_shape)


class Discriminator(nn.Module):
    """Image (and optionally a class label) → one unbounded score per image (no sigmoid: BCE
    objectives take logits, Wasserstein critics the raw score)."""

    def __init__(self, features: nn.Module, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        self.features = features
        self.score = nn.Linear(feature_dim, 1)
        self.label_projection = nn.Embedding(num_classes, feature_dim) if num_classes else None
        # The projection keeps nn.Embedding's N(0, 1) start, although ⟨embed(y), φ(x)⟩ then starts
        # about √feature_dim times larger than the unconditional logit: on the default cgan run
        # (60 epochs, 5,000 digits) the score layer's scale gave FD-classifier 49.7 with every
        # class collapsed to one sample (recall 0.006), Xavier 12.3 (recall 0.33), N(0, 1) 6.5
        # (recall 0.70). A strong fixed class direction is what teaches this small D the classes.

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.features(images)
        score = self.score(features).squeeze(1)
        if self.label_projection is not None:
            score = score + (self.label_projection(labels) * features).sum(dim=1)
        return score


def contains_batch_norm(module: nn.Module) -> bool:
    """BatchNorm couples the samples of a batch (a per-sample gradient penalty assumes it does not)."""
    return any(isinstance(layer, nn.modules.batchnorm._BatchNorm) for layer in module.modules())
