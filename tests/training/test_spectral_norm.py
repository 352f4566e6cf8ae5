"""Spectral normalization (SNGAN) and reading checkpoints written before it existed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganforge.gan import train
from ganforge.gan.networks import raw_weight

from .conftest import VARIANT_SNIPPETS

SNGAN = {"name": "sngan", "model": {"architecture": "dcgan", "base_channels": 4, "discriminator_norm": "none",
                                    "spectral_norm": "discriminator", "init": "dcgan"},
         "objective": {"loss": "hinge"}}


def test_every_discriminator_weight_has_spectral_norm_one_after_training(model_input, tiny_config):
    from ganforge.gan import build_discriminator

    result = train(model_input, tiny_config(SNGAN, epochs=2, resume=False))
    critic = build_discriminator(result.checkpoint["model_spec"])
    critic.load_state_dict(result.checkpoint["networks"]["discriminator"])
    critic.train()
    with torch.no_grad():  # a few more power iterations, as training keeps doing
        for _ in range(20):
            critic(torch.randn(2, 1, 16, 16))
    critic.eval()
    layers = [layer for layer in critic.modules() if isinstance(layer, nn.Conv2d | nn.Linear)]
    assert layers and all(hasattr(layer, "parametrizations") for layer in layers)
    for layer in layers:
        weight = layer.weight.flatten(1) if not isinstance(layer, nn.Linear) else layer.weight
        assert abs(torch.linalg.matrix_norm(weight, ord=2).item() - 1.0) < 0.05


def test_initializers_write_under_the_parametrization():
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3))
    with torch.no_grad():
        raw_weight(layer).fill_(2.0)
    assert torch.equal(layer.parametrizations.weight.original, torch.full((3, 4), 2.0))


def test_a_checkpoint_of_version_one_is_sampled_and_warm_started(model_input, tiny_config):
    from ganforge.gan import draw, sampling_weights

    checkpoint = train(model_input, tiny_config(VARIANT_SNIPPETS["dcgan"], epochs=1, resume=False)).checkpoint
    old_spec = {key: value for key, value in checkpoint["model_spec"].items() if key != "spectral_norm"}
    old = {key: value for key, value in checkpoint.items()
           if key not in ("networks", "ema", "ema_updates", "optimizers", "counters", "recipe_state", "format")}
    old.update(format="ganforge-checkpoint-v1", generator=checkpoint["networks"]["generator"],
               discriminator=checkpoint["networks"]["discriminator"], ema_generator=checkpoint["ema"]["generator"],
               ema_updates=checkpoint["ema_updates"]["generator"],
               optimizer_generator=checkpoint["optimizers"]["generator"],
               optimizer_discriminator=checkpoint["optimizers"]["discriminator"],
               generator_steps=checkpoint["counters"]["generator"],
               model_spec={**old_spec, "generator_hidden": [128], "discriminator_hidden": [64]})
    weights, which = sampling_weights(old, use_ema=True)
    images, _ = draw(old, weights, 4, batch_size=4, device="cpu")
    assert which == "ema" and images.shape == (4, 1, 16, 16)
    warm = train(model_input, tiny_config(VARIANT_SNIPPETS["dcgan"], epochs=1, resume=False), warm_start=old)
    assert warm.checkpoint["warm_start_digest"]


def test_the_ema_of_a_spectrally_normalized_network_copies_its_power_iteration_vectors():
    from ganforge.gan.ema import ExponentialMovingAverage
    from ganforge.gan.networks import apply_spectral_norm

    network = apply_spectral_norm(torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5)))
    average = ExponentialMovingAverage(network, decay=0.9)
    for _ in range(5):
        network.train()(torch.randn(8, 6))  # a power iteration and new running statistics
        average.update(network)
    live_u = network[0].parametrizations.weight[0]._u
    averaged_u = average.model[0].parametrizations.weight[0]._u
    assert torch.equal(averaged_u, live_u) and averaged_u.norm().item() == pytest.approx(1.0, abs=1e-5)
    assert not torch.equal(average.model[1].running_mean, network[1].running_mean)  # still averaged
