import hashlib
import io
import math

import pytest
import torch

from ganforge.errors import ConfigError, TrainingDivergedError
from ganforge.gan import build_discriminator, domains_of, resolve_experiment_config
from ganforge.gan import train as train_gan
from ganforge.utils import content_digest

from .conftest import VARIANT_SNIPPETS, make_model_input


def checkpoint_hash(checkpoint: dict) -> str:
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def test_content_digest_ignores_serialization_details():
    tensor = torch.arange(6.0)
    same = torch.tensor([0.0, 1.0, 2.0])
    assert content_digest({"a": tensor[:3].clone(), "b": 1}) == content_digest({"b": 1, "a": same})
    assert content_digest({"a": tensor}) != content_digest({"a": tensor + 1})


@pytest.mark.parametrize("variant", sorted(name for name in VARIANT_SNIPPETS if domains_of(name) == 1))
def test_every_variant_trains_and_checkpoint_is_weights_only(variant, model_input, tiny_config):
    config = tiny_config(VARIANT_SNIPPETS[variant])
    result = train_gan(model_input, config)
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert sorted(result.epoch_samples) == [0, 1, 2]
    assert result.epoch_samples[2].dtype == torch.uint8
    buffer = io.BytesIO()
    torch.save(result.checkpoint, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    for key in ("networks", "ema", "optimizers", "counters", "epoch", "step", "rng", "config", "normalization",
                "model_spec"):
        assert key in loaded
    assert set(loaded["networks"]) == set(loaded["optimizers"]) == {"generator", "discriminator"}
    assert set(loaded["ema"]) == {"generator"}
    if variant.startswith("wgan"):
        assert not math.isnan(result.history[-1]["wasserstein_estimate"])
    if variant == "wgan":
        critic = build_discriminator(loaded["model_spec"])
        critic.load_state_dict(loaded["networks"]["discriminator"])
        assert all(p.abs().max() <= 0.01 for p in critic.parameters())  # buffers are not clipped


@pytest.mark.parametrize("variant", ["wgan_gp", "sngan", "sagan", "biggan", "progan", "stylegan"])
def test_same_seed_same_data_gives_bit_identical_checkpoints(variant, model_input, tiny_config):
    config = tiny_config(VARIANT_SNIPPETS[variant], resume=False)
    first = train_gan(model_input, config)
    second = train_gan(model_input, config)
    assert checkpoint_hash(first.checkpoint) == checkpoint_hash(second.checkpoint)
    other = train_gan(model_input, tiny_config(VARIANT_SNIPPETS[variant], resume=False, seed=8))
    assert checkpoint_hash(other.checkpoint) != checkpoint_hash(first.checkpoint)


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("variant", ["dcgan", "sngan", "sagan", "biggan"])
def test_interrupted_run_resumes_from_last_epoch_and_matches_uninterrupted(variant, model_input, tiny_config):
    config = tiny_config(VARIANT_SNIPPETS[variant], epochs=3)
    uninterrupted = train_gan(model_input, tiny_config(VARIANT_SNIPPETS[variant], epochs=3, resume=False))

    def stop_after_first_epoch(state):
        if state.epoch == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        train_gan(model_input, config, on_epoch_end=stop_after_first_epoch)
    resumed = train_gan(model_input, config)
    assert resumed.resumed_from_epoch == 1
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    # the configs differ only in training.resume; everything learned must be bit-identical
    without_config = lambda checkpoint: {k: v for k, v in checkpoint.items() if k != "config"}  # noqa: E731
    resumed_digest = content_digest(without_config(resumed.checkpoint))
    assert resumed_digest == content_digest(without_config(uninterrupted.checkpoint))


def test_corrupt_resume_file_is_ignored_with_a_warning(model_input, tiny_config, tmp_path, caplog):
    config = tiny_config(VARIANT_SNIPPETS["gan"], epochs=2)

    def stop(state):
        raise Interrupted

    with pytest.raises(Interrupted):
        train_gan(model_input, config, on_epoch_end=stop)
    resume_file = next((tmp_path / "resume").glob("gan-*.pt"))
    resume_file.write_bytes(resume_file.read_bytes()[:100])  # a write cut short
    result = train_gan(model_input, config)
    assert result.resumed_from_epoch == 0
    assert "Ignoring unreadable resume file" in caplog.text
    assert torch.load(resume_file, weights_only=True)["finished"]  # a completed run keeps its final state


def test_resume_false_starts_over(model_input, tiny_config):
    config = tiny_config(VARIANT_SNIPPETS["gan"], epochs=2)

    def stop(state):
        raise Interrupted

    with pytest.raises(Interrupted):
        train_gan(model_input, config, on_epoch_end=stop)
    fresh = train_gan(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=2, resume=False))
    assert fresh.resumed_from_epoch == 0


def test_divergence_stops_with_epoch_and_step(model_input, tiny_config):
    snippet = {**VARIANT_SNIPPETS["gan"], "optimizer": {"lr_generator": 1e30, "lr_discriminator": 1e30}}
    config = tiny_config(snippet, epochs=3, log_every=1)
    with pytest.raises(TrainingDivergedError, match=r"diverged: .* at epoch \d+, step \d+ of 4"):
        train_gan(model_input, config)


def test_conditional_variant_needs_labels(tiny_config):
    unlabeled = make_model_input(classes=0)
    with pytest.raises(ConfigError, match="has no class labels"):
        train_gan(unlabeled, tiny_config(VARIANT_SNIPPETS["cgan"]))


@pytest.mark.parametrize(
    "change,message",
    [
        ({"training": {"n_critic": 0}}, r"wgan.training.n_critic: Input should be greater than or equal to 1"),
        ({"model": {"architecture": "transformer"}},
         r"Unknown architecture 'transformer' \(model.architecture\). Registered: .*dcgan"),
        ({"objective": {"loss": "wasserstein"}}, r"needs objective.clip_value"),
        ({"training": {"batch_sise": 3}}, r"wgan.training.batch_sise: Extra inputs are not permitted"),
    ],
)
def test_bad_configuration_fails_before_training(change, message):
    variant = {**VARIANT_SNIPPETS["wgan"], **change}
    with pytest.raises(ConfigError, match=message):
        resolve_experiment_config({"device": "cpu"}, variant)


def test_tensorboard_scalars_and_grids_are_written(model_input, tiny_config, tmp_path):
    config = tiny_config(VARIANT_SNIPPETS["wgan_gp"], tensorboard=True, tensorboard_dir=str(tmp_path / "tb"))
    train_gan(model_input, config)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (run_dir,) = (tmp_path / "tb" / "wgan_gp").iterdir()
    events = EventAccumulator(str(run_dir))
    events.Reload()
    assert {"wgan_gp/discriminator_loss", "wgan_gp/weighted_gradient_penalty"} <= set(events.Tags()["scalars"])
    assert "wgan_gp/samples" in events.Tags()["images"]
    assert [event.step for event in events.Scalars("wgan_gp/discriminator_loss")] == [1, 2]


@pytest.mark.parametrize("variant", ["dcgan", "cyclegan"])
def test_channels_last_trains_the_same_networks_in_nhwc(variant, tiny_config):
    """training.channels_last changes the layout, not the run: the losses match the contiguous
    run's to float rounding, and the weights the checkpoint holds are NHWC."""
    from ganforge.gan import pair_domains

    model_input = make_model_input(size=16, channels=3)
    if variant == "cyclegan":
        model_input = pair_domains(model_input, make_model_input(size=16, channels=3, seed=1))
    plain = train_gan(model_input, tiny_config(VARIANT_SNIPPETS[variant], resume=False))
    nhwc = train_gan(model_input, tiny_config(VARIANT_SNIPPETS[variant], resume=False, channels_last=True))
    for before, after in zip(plain.history, nhwc.history, strict=True):
        for column in before.keys() - {"seconds", "images_per_second"}:
            if isinstance(before[column], float) and math.isnan(before[column]):  # a column this recipe has not
                assert math.isnan(after[column])
                continue
            assert after[column] == pytest.approx(before[column], rel=1e-3, abs=1e-4), column
    weights = [tensor for network in nhwc.checkpoint["networks"].values() for tensor in network.values()
               if tensor.dim() == 4 and tensor.shape[1] > 1 and tensor.shape[2] > 1]
    assert weights and all(tensor.is_contiguous(memory_format=torch.channels_last) for tensor in weights)
