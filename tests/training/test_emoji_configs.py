"""The `emoji` environment (conf/emoji): the data settings it names, and every single-domain
variant's 64×64 RGB configuration building and taking a training step on a CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganforge.gan import VARIANTS, check_config_against_data, domains_of, resolve_experiment_config
from ganforge.gan import train as train_gan
from ganforge.gan.networks.layout import conv_layout
from ganforge.pipelines.data_processing.params import parse_data_params

from .conftest import environment_parameters, make_model_input

CONF = Path(__file__).resolve().parents[2] / "conf"
ONE_DOMAIN = [name for name in VARIANTS.names() if domains_of(name) == 1]


@pytest.fixture(scope="module")
def emoji_parameters() -> dict:
    return environment_parameters("emoji")


def test_the_emoji_environment_reads_google_emoji_in_color_at_64(emoji_parameters):
    data = parse_data_params(emoji_parameters["data"])
    assert (data.source, data.style, data.label_field, data.image_size, data.channels) == (
        "emoji", "google", "category", 64, 3)
    assert data.background == "white" and data.skin_tones is False
    assert emoji_parameters["data"]["validation"]["on_failure"] == "fail"  # base keys kept under the override


def test_every_single_domain_family_has_an_emoji_configuration(emoji_parameters):
    configured = {name for name in ONE_DOMAIN if "variant" in emoji_parameters[name]}
    emoji_text = (CONF / "emoji" / "parameters.yml").read_text()
    assert all(f"\n{name}:\n" in emoji_text for name in ONE_DOMAIN), "a family without its emoji section"
    assert configured == set(ONE_DOMAIN)


@pytest.mark.parametrize("name", ONE_DOMAIN)
def test_every_emoji_configuration_takes_a_training_step(emoji_parameters, name, tmp_path):
    variant = emoji_parameters[name]["variant"]
    variant["training"].update(epochs=1, batch_size=2, grid_size=2, grid_rows=1)
    if "stable_images" in variant.get("recipe", {}):
        variant["recipe"].update(stable_images=1, fade_images=1)
        variant["training"].update(epochs=conv_layout(64)[1])
    defaults = {**emoji_parameters["training_defaults"], "device": "cpu", "resume": False,
                "resume_dir": str(tmp_path)}
    config = resolve_experiment_config(defaults, variant)
    check_config_against_data(config, channels=3, image_size=64, num_classes=9)
    result = train_gan(make_model_input(count=2, size=64, channels=3, classes=9), config)
    assert result.history[-1]["epoch"] == variant["training"]["epochs"]
    assert result.epoch_samples[1].shape[1:] == (3, 64, 64)
