from __future__ import annotations

import copy

import pytest
import torch

from ganforge.gan import resolve_experiment_config
from ganforge.images import normalization_recipe
from ganforge.utils import content_digest

TINY_DEFAULTS = {
    "device": "cpu",
    "seed": 7,
    "epochs": 2,
    "batch_size": 8,
    "grid_size": 8,
    "grid_rows": 4,
    "log_every": 2,
}


def make_model_input(count: int = 32, size: int = 16, channels: int = 1, classes: int = 4) -> dict:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (count, channels, size, size), generator=generator, dtype=torch.uint8)
    labels = torch.arange(count) % classes if classes else None
    return {
        "images": images,
        "labels": labels,
        "num_classes": classes,
        "class_names": [str(i) for i in range(classes)],
        "normalization": normalization_recipe(images),
        "fingerprint": content_digest([images, labels]),
        "source": "synthetic",
        "image_size": size,
        "channels": channels,
    }


@pytest.fixture
def model_input() -> dict:
    return make_model_input()


@pytest.fixture
def tiny_config(tmp_path):
    def build(variant: dict, **training) -> dict:
        variant = copy.deepcopy(variant)
        variant.setdefault("training", {}).update(training)
        defaults = {**TINY_DEFAULTS, "resume_dir": str(tmp_path / "resume")}
        return resolve_experiment_config(defaults, variant)

    return build


VARIANT_SNIPPETS = {
    "gan": {"name": "gan", "model": {"architecture": "mlp", "generator_hidden": [16, 32], "discriminator_hidden": [32, 16]},
            "objective": {"loss": "bce"}},
    "dcgan": {"name": "dcgan", "model": {"architecture": "dcgan", "base_channels": 4, "init": "dcgan"},
              "objective": {"loss": "bce"}},
    "wgan": {"name": "wgan", "model": {"architecture": "dcgan", "base_channels": 4},
             "objective": {"loss": "wasserstein", "clip_value": 0.01},
             "optimizer": {"name": "rmsprop", "lr_generator": 5e-5, "lr_discriminator": 5e-5},
             "training": {"n_critic": 2}},
    "wgan_gp": {"name": "wgan_gp", "model": {"architecture": "dcgan", "base_channels": 4, "discriminator_norm": "layer"},
                "objective": {"loss": "wasserstein", "gradient_penalty": 10.0},
                "optimizer": {"name": "adam", "lr_generator": 1e-4, "lr_discriminator": 1e-4, "betas": [0.0, 0.9]},
                "training": {"n_critic": 2}},
    "cgan": {"name": "cgan", "model": {"architecture": "mlp", "conditional": True, "embedding_dim": 4,
                                       "generator_hidden": [16, 32], "discriminator_hidden": [32, 16]},
             "objective": {"loss": "bce"}},
}
