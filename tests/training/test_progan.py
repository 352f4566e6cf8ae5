"""ProGAN's parts (Karras et al. 2018), each checked on its own, and its growth schedule through
the engine: resume mid-fade, grids at the current resolution, score-curve points only at full
resolution."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from ganforge.errors import ConfigError
from ganforge.gan import build_discriminator, build_generator
from ganforge.gan import train as train_gan
from ganforge.gan.networks.equalized import EqualizedConv2d, EqualizedLinear, MinibatchStdDev
from ganforge.gan.objectives import WassersteinObjective
from ganforge.gan.recipes.progressive import GrowthSchedule
from ganforge.utils import content_digest

from .conftest import VARIANT_SNIPPETS


def progressive_spec(image_size: int = 16) -> dict:
    return {"architecture": "progressive", "latent_dim": 8, "base_channels": 4, "max_channels": 8,
            "minibatch_group": 2, "spectral_norm": "none", "init": "default", "embedding_dim": 4,
            "channels": 1, "image_size": image_size, "num_classes": 0}


def test_fade_in_at_alpha_zero_is_the_smaller_generator_upsampled():
    torch.manual_seed(0)
    generator = build_generator(progressive_spec())
    z = torch.randn(3, 8)
    generator.set_progress(0, 1.0)
    smaller = generator.synthesize(z)  # 4×4
    generator.set_progress(1, 0.0)
    grown = generator.synthesize(z)  # 8×8
    assert grown.shape[-1] == 2 * smaller.shape[-1]
    assert torch.equal(grown, F.interpolate(smaller, scale_factor=2, mode="nearest"))
    generator.set_progress(1, 0.5)
    assert not torch.allclose(generator.synthesize(z), grown)


def test_fade_in_at_alpha_zero_is_the_smaller_discriminator_on_pooled_images():
    torch.manual_seed(0)
    critic = build_discriminator(progressive_spec())
    images = torch.randn(4, 1, 8, 8)
    critic.set_progress(0, 1.0)
    smaller = critic(F.avg_pool2d(images, 2))
    critic.set_progress(1, 0.0)
    assert torch.equal(critic(images), smaller)


def test_equalized_learning_rate_scales_by_hes_constant_at_run_time():
    generator, critic = build_generator(progressive_spec()), build_discriminator(progressive_spec())
    linear_outputs = {id(layer) for layer in [*generator.to_rgb, critic.blocks[0][-1]]}  # no activation follows
    layers = [m for network in (generator, critic) for m in network.modules()
              if isinstance(m, EqualizedConv2d | EqualizedLinear)]
    assert len(layers) > 10
    for layer in layers:
        gain = 1.0 if id(layer) in linear_outputs else math.sqrt(2)
        assert layer.scale == pytest.approx(gain / math.sqrt(layer.weight[0].numel()))
    # the stored weights are N(0, 1): the scale is applied in forward, not folded into them
    assert torch.cat([layer.weight.flatten() for layer in layers]).std().item() == pytest.approx(1.0, abs=0.05)
    conv = EqualizedConv2d(3, 5, 3)
    x = torch.randn(2, 3, 6, 6)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight * math.sqrt(2 / 27), conv.bias, padding=1))


def test_minibatch_standard_deviation_appends_the_expected_statistic():
    x = torch.tensor([[1.0, 3.0], [3.0, 7.0]]).view(2, 2, 1, 1)  # two samples, two features, one pixel
    out = MinibatchStdDev(group_size=None)(x)
    # per feature the std over the two samples: |1−3|/2 = 1 and |3−7|/2 = 2, averaged: 1.5
    assert out.shape == (2, 3, 1, 1)
    assert torch.equal(out[:, :2], x)
    assert out[:, 2].flatten().tolist() == pytest.approx([1.5, 1.5], abs=1e-6)
    # groups of two interleave: samples 0 and 2 (values 0, 2: std 1), samples 1 and 3 (10, 20: std 5)
    grouped = MinibatchStdDev(group_size=2)(torch.tensor([0.0, 10.0, 2.0, 20.0]).view(4, 1, 1, 1))
    assert grouped[:, 1].flatten().tolist() == pytest.approx([1.0, 5.0, 1.0, 5.0], abs=1e-6)


def test_drift_adds_epsilon_times_the_mean_square_real_score():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    plain = WassersteinObjective(gradient_penalty=10.0)
    drifting = WassersteinObjective(gradient_penalty=10.0, drift=0.001)
    assert plain.discriminator_loss(real, fake).item() == pytest.approx(1.0 - 2.0)
    assert drifting.discriminator_loss(real, fake).item() == pytest.approx(-1.0 + 0.001 * (1 + 9) / 2)


def test_growth_schedule_fades_then_stabilizes_each_level():
    schedule = GrowthSchedule(levels=3, stable_images=10, fade_images=20)
    assert schedule.at(0) == (0, 1.0)
    assert schedule.at(9) == (0, 1.0)
    assert schedule.at(10) == (1, 0.0)
    assert schedule.at(15) == (1, 0.25)
    assert schedule.at(30) == (1, 1.0)   # stable
    assert schedule.at(40) == (2, 0.0)
    assert schedule.at(60) == (2, 1.0)
    assert schedule.full_resolution_at == 60
    assert schedule.at(10_000) == (2, 1.0)


def progan_config(tiny_config, stable: int = 8, fade: int = 40, **training) -> dict:
    variant = copy.deepcopy(VARIANT_SNIPPETS["progan"])
    variant["recipe"] = {"stable_images": stable, "fade_images": fade}
    return tiny_config(variant, **training)


class Interrupted(Exception):
    pass


def test_a_run_killed_mid_fade_resumes_at_the_same_level_alpha_and_image_count(model_input, tiny_config):
    # 32 images per epoch: after epoch 1 level 1 is fading in (α = 24/40), full resolution after epoch 3
    uninterrupted = train_gan(model_input, progan_config(tiny_config, epochs=3, resume=False))
    config = progan_config(tiny_config, epochs=3)
    seen = []

    def stop_after_first_epoch(state):
        seen.append((state.recipe.images_seen, state.networks["generator"].level, state.networks["generator"].alpha))
        if state.epoch == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        train_gan(model_input, config, on_epoch_end=stop_after_first_epoch)
    assert seen == [(32, 1, pytest.approx(0.6))]
    resumed = train_gan(model_input, config, on_epoch_end=stop_after_first_epoch)
    assert resumed.resumed_from_epoch == 1
    assert seen[1] == (64, 2, pytest.approx(0.2))
    assert [(row["resolution"], row["alpha"]) for row in resumed.history] == \
        [(row["resolution"], row["alpha"]) for row in uninterrupted.history] == [(8, 0.6), (16, 0.2), (16, 1.0)]
    learned = lambda checkpoint: content_digest({k: v for k, v in checkpoint.items() if k != "config"})  # noqa: E731
    assert learned(resumed.checkpoint) == learned(uninterrupted.checkpoint)
    assert resumed.checkpoint["recipe_state"] == {"images_seen": 96}


def test_grids_show_the_current_resolution_upscaled_and_the_curve_waits_for_full_resolution(model_input,
                                                                                            tiny_config):
    # 32 images per epoch; 4×4 until 64 images, full resolution (16×16, α = 1) after 64 + 2·16 + 64 = 160
    config = {**progan_config(tiny_config, stable=64, fade=16, epochs=5), "evaluation": {"every_n_epochs": 1}}
    result = train_gan(model_input, config)
    first = result.epoch_samples[1].float()
    assert first.shape[-1] == 16
    blocks = first.unfold(2, 4, 4).unfold(3, 4, 4)  # each 4×4 block of the grid image is one pixel
    assert torch.equal(blocks, blocks[..., :1, :1].expand_as(blocks))
    assert [row["resolution"] for row in result.history] == [4, 8, 8, 8, 16]
    assert sorted(result.snapshots) == [5]
    # the generator's average restarted when level 2 began (after step 18 of 20, at 144 images)
    assert result.checkpoint["ema_updates"]["generator"] == 2


def test_a_schedule_longer_than_the_run_is_a_config_error(model_input, tiny_config):
    with pytest.raises(ConfigError, match=r"reaches full resolution after 96 images .*Raise training.epochs"):
        train_gan(model_input, progan_config(tiny_config, stable=8, fade=40, epochs=2))


def test_recipe_settings_are_checked_by_the_recipe(tiny_config):
    with pytest.raises(ConfigError, match=r"progan\.recipe\.fade_images"):
        progan_config(tiny_config, fade=0)
    dcgan = {**VARIANT_SNIPPETS["dcgan"], "recipe": {"stable_images": 10}}
    with pytest.raises(ConfigError, match=r"dcgan\.recipe\.stable_images"):  # the alternating recipe has none
        tiny_config(dcgan)
