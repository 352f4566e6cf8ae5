"""Fully connected networks, as in Goodfellow et al. 2014 (``model.architecture: mlp``)."""

from __future__ import annotations

from typing import Any

from torch import nn

from ganforge.gan.networks import ARCHITECTURES, Architecture, Discriminator, Generator, ModelOptions


class MlpOptions(ModelOptions):
    generator_hidden: tuple[int, ...] = (128, 256, 512, 1024)
    discriminator_hidden: tuple[int, ...] = (512, 256)


def generator_body(input_dim: int, hidden_dims: tuple[int, ...], output_dim: int) -> nn.Sequential:
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


def discriminator_features(input_dim: int, hidden_dims: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = [nn.Flatten()]
    previous = input_dim
    for width in hidden_dims:
        layers += [nn.Linear(previous, width), nn.LeakyReLU(0.2, inplace=True)]
        previous = width
    return nn.Sequential(*layers), previous


def build_generator(spec: dict[str, Any]) -> Generator:
    pixels = spec["channels"] * spec["image_size"] ** 2
    return Generator(spec, lambda input_dim: generator_body(input_dim, tuple(spec["generator_hidden"]), pixels))


def build_discriminator(spec: dict[str, Any]) -> Discriminator:
    features, width = discriminator_features(spec["channels"] * spec["image_size"] ** 2,
                                             tuple(spec["discriminator_hidden"]))
    return Discriminator(features, width, spec["num_classes"])


ARCHITECTURES.register("mlp", Architecture(MlpOptions, build_generator, build_discriminator))
