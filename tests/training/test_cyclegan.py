"""CycleGAN through the library: two domains in, four networks and four optimizers out, resumable
and bit-identical, and the two-domain input problems caught before training."""

from __future__ import annotations

import io

import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.gan import pair_domains
from ganforge.gan import train as train_gan
from ganforge.gan.data import DomainPairBatches
from ganforge.utils import content_digest

from .conftest import VARIANT_SNIPPETS, learned_digest, make_model_input, resumed_and_uninterrupted

CYCLEGAN = {**VARIANT_SNIPPETS["cyclegan"], "model": {**VARIANT_SNIPPETS["cyclegan"]["model"], "residual_blocks": 1,
                                                      "discriminator_channels": 4}}


def domains(count_a: int = 24, count_b: int = 16, size: int = 16, channels_b: int = 1) -> dict:
    return pair_domains(make_model_input(count=count_a, size=size, classes=3),
                        make_model_input(count=count_b, size=size, channels=channels_b, classes=3, seed=1))


def test_cyclegan_trains_four_networks_with_four_optimizers_into_a_weights_only_checkpoint(tiny_config):
    result = train_gan(domains(), tiny_config(CYCLEGAN))
    buffer = io.BytesIO()
    torch.save(result.checkpoint, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    names = {"generator_ab", "generator_ba", "discriminator_a", "discriminator_b"}
    assert set(loaded["networks"]) == set(loaded["optimizers"]) == names
    assert set(loaded["ema"]) == {"generator_ab", "generator_ba"}
    # 16 B images, batch 8: two steps an epoch, each stepping every optimizer once
    assert loaded["counters"] == dict.fromkeys(names, 4)
    assert set(loaded["domains"]) == {"domain_a", "domain_b"}
    # the image history: every fake so far (4 steps of 8), below its capacity of 50
    assert loaded["recipe_state"]["discriminator_a"]["images"].shape == (32, 1, 16, 16)
    rows = result.epoch_samples[2]
    grid_rows = tiny_config(CYCLEGAN)["training"]["grid_rows"]
    assert rows.shape == (6 * grid_rows, 1, 16, 16)  # real, translated and back, for each domain
    assert {"cycle_loss", "identity_loss", "generator_loss", "discriminator_loss"} <= set(result.history[-1])


def test_same_seed_gives_bit_identical_checkpoints_and_another_seed_does_not(tiny_config):
    first = train_gan(domains(), tiny_config(CYCLEGAN, resume=False))
    second = train_gan(domains(), tiny_config(CYCLEGAN, resume=False))
    assert content_digest(first.checkpoint) == content_digest(second.checkpoint)
    other = train_gan(domains(), tiny_config(CYCLEGAN, resume=False, seed=8))
    assert content_digest(other.checkpoint) != content_digest(first.checkpoint)


def test_a_killed_run_resumes_with_its_image_history_and_matches_an_uninterrupted_one(tiny_config):
    resumed, uninterrupted = resumed_and_uninterrupted(domains, lambda **training: tiny_config(CYCLEGAN, **training))
    assert learned_digest(resumed.checkpoint) == learned_digest(uninterrupted.checkpoint)


def test_an_epoch_is_one_pass_over_the_smaller_domain_in_independent_orders():
    batches = DomainPairBatches(domains(count_a=40, count_b=16), batch_size=8, device=torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    first = list(batches.epoch(generator))
    assert len(first) == batches.steps_per_epoch == 2
    assert all(pair.a.size == pair.b.size == 8 for pair in first)
    second = list(batches.epoch(generator))
    assert not torch.equal(first[0].a.real, second[0].a.real)  # reshuffled each epoch


@pytest.mark.parametrize(
    ("model_input", "message"),
    [
        (lambda: domains(count_b=0), "domain_b has no images"),
        (lambda: pair_domains(make_model_input(count=16, size=16), make_model_input(count=16, size=32)),
         "domain_a images are 16×16 but domain_b images are 32×32"),
        (lambda: domains(channels_b=3), "identity loss feeds B images to the A → B translator"),
        (lambda: make_model_input(count=16, size=16), "trains on two domains"),
    ],
    ids=["empty domain", "different sizes", "different channels with identity loss", "one domain"],
)
def test_bad_two_domain_input_is_one_clear_error_before_training(model_input, message, tiny_config, tmp_path):
    with pytest.raises(ConfigError, match=message):
        train_gan(model_input(), tiny_config(CYCLEGAN))
    assert not any((tmp_path / "resume").glob("*"))  # nothing written


def test_different_channel_counts_train_without_the_identity_loss(tiny_config):
    snippet = {**CYCLEGAN, "recipe": {**CYCLEGAN.get("recipe", {}), "identity_weight": 0.0}}
    result = train_gan(domains(channels_b=3), tiny_config(snippet, epochs=1))
    assert result.checkpoint["model_spec"]["domain_channels"] == [1, 3]
    assert result.epoch_samples[1].shape[1] == 3  # the grey rows drawn in RGB next to the colour ones


@pytest.mark.parametrize("variant", ["cyclegan", "cogan"])
def test_the_two_domain_recipes_refuse_a_wasserstein_critic_they_would_not_constrain(variant, tiny_config):
    snippet = {**VARIANT_SNIPPETS[variant], "objective": {"loss": "wasserstein", "gradient_penalty": 10.0}}
    with pytest.raises(ConfigError, match="does not apply a Wasserstein critic's weight clipping or gradient"):
        train_gan(domains(), tiny_config(snippet))


def test_learning_rates_fall_linearly_over_the_last_epochs_and_a_resume_keeps_the_schedule(tiny_config):
    snippet = {**CYCLEGAN, "recipe": {**CYCLEGAN.get("recipe", {}), "decay_epochs": 2}}
    result = train_gan(domains(), tiny_config(snippet, epochs=4, resume=False))
    base = result.checkpoint["config"]["optimizer"]["lr_generator"]
    assert [row["lr_generator"] for row in result.history] == pytest.approx([base, base, base * 2 / 3, base / 3])
    assert result.checkpoint["optimizers"]["discriminator_b"]["param_groups"][0]["lr"] == pytest.approx(
        result.checkpoint["config"]["optimizer"]["lr_discriminator"] / 3)
    # killed after epoch 1 of 3, the last two decaying: the resumed run is the uninterrupted one
    resumed, uninterrupted = resumed_and_uninterrupted(domains, lambda **training: tiny_config(snippet, **training))
    assert learned_digest(resumed.checkpoint) == learned_digest(uninterrupted.checkpoint)
    with pytest.raises(ConfigError, match="recipe.decay_epochs \\(2\\) is longer than training.epochs \\(1\\)"):
        train_gan(domains(), tiny_config(snippet, epochs=1))
