"""The GAN library's fixes from the review (issue: one GAN library): each test failed before."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganforge.errors import ConfigError, TrainingDivergedError
from ganforge.gan import VARIANTS, build_discriminator, resolve_experiment_config, train
from ganforge.gan.config import check_config_against_data
from ganforge.gan.ema import ExponentialMovingAverage
from ganforge.pipelines.training.nodes import training_digest

from .conftest import VARIANT_SNIPPETS


class Interrupted(Exception):
    pass


def stop_at(epoch: int):
    def callback(state):
        if state.epoch == epoch:
            raise Interrupted

    return callback


def test_a_saved_state_past_the_requested_epochs_is_never_returned(model_input, tiny_config):
    with pytest.raises(Interrupted):
        train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=5), on_epoch_end=stop_at(3))
    with pytest.raises(ConfigError, match=r"at epoch 3, past training.epochs = 2.*training.resume: false"):
        train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=2))
    fresh = train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=2, resume=False))
    assert fresh.checkpoint["epoch"] == 2 and [row["epoch"] for row in fresh.history] == [1, 2]


def test_raising_epochs_continues_a_finished_run_bit_identically(model_input, tiny_config):
    train(model_input, tiny_config(VARIANT_SNIPPETS["dcgan"], epochs=2))
    continued = train(model_input, tiny_config(VARIANT_SNIPPETS["dcgan"], epochs=3))
    assert continued.resumed_from_epoch == 2
    straight = train(model_input, tiny_config(VARIANT_SNIPPETS["dcgan"], epochs=3, resume=False))
    assert training_digest(continued.checkpoint) == training_digest(straight.checkpoint)
    # the same length again is a new run of that length, not a copy of the finished one
    again = train(model_input, tiny_config(VARIANT_SNIPPETS["dcgan"], epochs=3))
    assert again.resumed_from_epoch == 0


def test_ema_averages_batchnorm_statistics_instead_of_copying_them():
    live = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    average = ExponentialMovingAverage(live, decay=0.5)
    before = average.model[1].running_mean.clone()
    with torch.no_grad():
        live[1].running_mean.fill_(10.0)
        live[1].num_batches_tracked.fill_(7)
    average.update(live)  # weight = 1 - min(0.5, 2/11) = 9/11
    expected = before + (10.0 - before) * (9 / 11)
    assert torch.allclose(average.model[1].running_mean, expected)
    assert not torch.equal(average.model[1].running_mean, live[1].running_mean)
    assert int(average.model[1].num_batches_tracked) == 7


def test_warm_start_keeps_the_champions_ema(model_input, tiny_config):
    champion = train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=2, resume=False)).checkpoint
    updates = champion["ema_updates"]["generator"]
    assert updates > 0
    warm = train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=1, resume=False), warm_start=champion)
    assert warm.checkpoint["ema_updates"]["generator"] == updates + warm.checkpoint["counters"]["generator"]


def test_use_ema_false_reaches_grids_and_snapshots(model_input, tiny_config):
    snippet = {**VARIANT_SNIPPETS["gan"], "evaluation": {"use_ema": False, "every_n_epochs": 1}}
    config = tiny_config(snippet, epochs=1, resume=False)
    config["evaluation"] = {"use_ema": False, "every_n_epochs": 1}
    result = train(model_input, config)
    live = result.checkpoint["networks"]["generator"]
    snapshot = result.snapshots[1]["generator"]
    assert all(torch.equal(snapshot[key], live[key]) for key in live)
    assert not all(torch.equal(snapshot[key], result.checkpoint["ema"]["generator"][key]) for key in live)


def test_training_digest_covers_what_training_produced_only(model_input, tiny_config):
    checkpoint = train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=1, resume=False)).checkpoint
    rescored = {**checkpoint, "config": {**checkpoint["config"], "evaluation": {"backbone": "inception"}}}
    assert training_digest(rescored) == training_digest(checkpoint)
    changed = {**checkpoint, "counters": {**checkpoint["counters"], "generator": 0}}
    assert training_digest(changed) != training_digest(checkpoint)


def test_non_finite_weights_are_never_saved_as_good(model_input, tiny_config, monkeypatch):
    import ganforge.gan.recipes.adversarial as adversarial

    original = adversarial.AdversarialRecipe.train_step

    def poison_last_update(self, batch, step):
        original(self, batch, step)
        if step.counters["discriminator"] == 8:  # the last step of epoch 2 (4 steps an epoch)
            with torch.no_grad():
                next(self.networks["discriminator"].parameters()).fill_(math.inf)

    monkeypatch.setattr(adversarial.AdversarialRecipe, "train_step", poison_last_update)
    with pytest.raises(TrainingDivergedError, match=r"discriminator has non-finite weights after epoch 2.*epoch 1"):
        train(model_input, tiny_config(VARIANT_SNIPPETS["wgan"], epochs=3))


@pytest.mark.parametrize(
    "snippet,message",
    [
        ({"model": {"architecture": "dcgan", "base_channels": 4, "discriminator_norm": "batch"},
          "objective": {"loss": "wasserstein", "gradient_penalty": 10.0}},
         "gradient penalty on a critic with BatchNorm"),
        ({"model": {"architecture": "dcgan", "base_channels": 4, "discriminator_norm": "layer"},
          "objective": {"loss": "wasserstein", "gradient_penalty": 10.0, "clip_value": 0.01}}, "not both"),
    ],
)
def test_contradictory_critic_settings_are_rejected(snippet, message):
    with pytest.raises(ConfigError, match=message):
        config = resolve_experiment_config({"device": "cpu"}, {"name": "wgan_gp", **snippet})
        check_config_against_data(config, 1, 16, 0)


def test_history_names_the_weighted_penalty(model_input, tiny_config):
    result = train(model_input, tiny_config(VARIANT_SNIPPETS["wgan_gp"], epochs=1, resume=False))
    assert "weighted_gradient_penalty" in result.history[0] and "gradient_penalty" not in result.history[0]


def test_every_registered_variant_has_a_parameters_file():
    from pathlib import Path

    conf = Path(__file__).resolve().parents[2] / "conf" / "base"
    files = {path.stem.removeprefix("parameters_") for path in conf.glob("parameters_*.yml")}
    assert set(VARIANTS.names()) <= files


def test_unknown_architecture_lists_the_registered_ones():
    with pytest.raises(ConfigError, match=r"Registered: .*mlp"):
        build_discriminator({"architecture": "transformer"})
