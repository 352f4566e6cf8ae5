"""CoGAN through the library: the shared layers are one tensor that both domains' losses update
once per step, pairs come from one z, and the run is resumable and bit-identical."""

from __future__ import annotations

import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.gan import build_discriminator, build_generator, check_config_against_data, pair_domains
from ganforge.gan import train as train_gan
from ganforge.utils import content_digest

from .conftest import VARIANT_SNIPPETS, learned_digest, make_model_input, resumed_and_uninterrupted

COGAN = VARIANT_SNIPPETS["cogan"]


def domains(count: int = 24, size: int = 16, channels_b: int = 1) -> dict:
    return pair_domains(make_model_input(count=count, size=size, classes=3),
                        make_model_input(count=count, size=size, channels=channels_b, classes=3, seed=1))


def spec(tiny_config) -> dict:
    config = tiny_config(COGAN)
    return {**config["model"], "channels": 1, "image_size": 16, "num_classes": 0}


def test_shared_layers_are_one_tensor_that_both_domains_train(tiny_config):
    generator, discriminator = build_generator(spec(tiny_config)), build_discriminator(spec(tiny_config))
    shared = generator.shared[0].weight  # the dense layer from z
    assert sum(parameter is shared for parameter in generator.parameters()) == 1
    # each domain's image depends on the shared weight: the gradient of the sum is the sum of both
    noise = torch.randn(4, generator.shared[0].in_features)
    image_a, image_b = generator(noise)
    grad_a, = torch.autograd.grad(image_a.sum(), shared, retain_graph=True)
    grad_b, = torch.autograd.grad(image_b.sum(), shared, retain_graph=True)
    grad_both, = torch.autograd.grad((image_a + image_b).sum(), shared)
    assert grad_a.abs().sum() > 0 and grad_b.abs().sum() > 0
    torch.testing.assert_close(grad_both, grad_a + grad_b)
    # the heads are each domain's own; the discriminators share all but their first layer
    assert not set(map(id, generator.heads[0].parameters())) & set(map(id, generator.heads[1].parameters()))
    assert not set(map(id, discriminator.stems[0].parameters())) & set(map(id, discriminator.stems[1].parameters()))
    assert len(list(discriminator.shared.parameters())) > 0


def test_one_training_step_updates_each_shared_tensor_once(tiny_config):
    config = tiny_config(COGAN, epochs=1, batch_size=24)  # one step
    result = train_gan(domains(), config)
    assert result.checkpoint["counters"] == {"discriminator": 1, "generator": 1}
    adam = result.checkpoint["optimizers"]["generator"]["state"]
    assert {float(state["step"]) for state in adam.values()} == {1.0}  # every tensor, shared ones too
    names = list(result.checkpoint["networks"]["generator"])
    assert sum(name.startswith("shared.") for name in names) and not any(".shared." in name for name in names)


def test_pairs_come_from_one_noise_and_the_grid_shows_them_side_by_side(tiny_config):
    result = train_gan(domains(), tiny_config(COGAN))
    grid = result.epoch_samples[2]
    assert grid.shape[0] == 2 * (tiny_config(COGAN)["training"]["grid_size"] // 2)
    assert set(result.checkpoint["ema"]) == {"generator"}
    assert set(result.checkpoint["domains"]) == {"domain_a", "domain_b"}


def test_same_seed_is_bit_identical_and_a_killed_run_resumes_to_the_same_checkpoint(tiny_config):
    uninterrupted = train_gan(domains(), tiny_config(COGAN, epochs=3, resume=False))
    again = train_gan(domains(), tiny_config(COGAN, epochs=3, resume=False))
    assert content_digest(uninterrupted.checkpoint) == content_digest(again.checkpoint)
    resumed, _ = resumed_and_uninterrupted(domains, lambda **training: tiny_config(COGAN, **training))
    assert learned_digest(resumed.checkpoint) == learned_digest(uninterrupted.checkpoint)


def test_domains_with_different_channel_counts_are_refused_before_training(tiny_config):
    with pytest.raises(ConfigError, match="needs both domains with the same channel count"):
        train_gan(domains(channels_b=3), tiny_config(COGAN))


def test_layers_to_keep_unshared_must_leave_something_to_share(tiny_config):
    config = tiny_config({**COGAN, "model": {**COGAN["model"], "unshared_discriminator_layers": 2}})
    with pytest.raises(ConfigError, match="leaves nothing to share"):
        check_config_against_data(config, 1, 16, 0)
