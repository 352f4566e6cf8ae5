"""The `photos` environment (conf/photos): every variant's 64×64 RGB configuration, and one of each
architecture at 96×96, builds and takes a training step on tiny random images (progan and stylegan
also at 128×128), on a CPU, as a GPU user would run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganforge.gan import VARIANTS, check_config_against_data, domains_of, pair_domains, resolve_experiment_config
from ganforge.gan import train as train_gan
from ganforge.gan.networks.layout import conv_layout
from ganforge.pipelines.data_processing.params import parse_data_params

from .conftest import environment_parameters, make_model_input

CONF = Path(__file__).resolve().parents[2] / "conf"
#: what the README and conf/photos/parameters.yml tell a user to add for 96×96 images
AT_96 = {"attention_resolution": 24}


@pytest.fixture(scope="module")
def photo_parameters() -> dict:
    return environment_parameters("photos")


def test_the_photos_environment_reads_rgb_folders_at_64(photo_parameters):
    data = parse_data_params(photo_parameters["data"])
    assert (data.source, data.image_size, data.channels) == ("image_folder", 64, 3)
    assert photo_parameters["data"]["validation"]["on_failure"] == "fail"  # base keys kept under the override


#: every variant at 64; at 96 one variant of each architecture (wgan, wgan_gp and sngan build dcgan's
#: networks, cgan gan's MLPs), sagan for its attention at 24×24; Karras et al.'s families also at
#: 128 (their documented photo sizes)
AT_96_ONLY = ("biggan", "gan", "dcgan", "cogan", "cyclegan", "progan", "sagan", "stylegan")
PHOTO_CASES = ([(name, 64) for name in VARIANTS.names()] + [(name, 96) for name in AT_96_ONLY]
               + [("progan", 128), ("stylegan", 128)])


@pytest.mark.parametrize(("name", "size"), PHOTO_CASES)
def test_every_photo_configuration_takes_a_training_step(photo_parameters, name, size, tmp_path):
    variant = photo_parameters[name]["variant"]
    if size == 96 and variant["model"].get("attention_resolution"):
        variant["model"].update(AT_96)
    variant["training"].update(epochs=1, batch_size=2, grid_size=2, grid_rows=1)
    if "stable_images" in variant.get("recipe", {}):
        # one step per phase (2 images an epoch): grown to the full size in `doublings` epochs
        variant["recipe"].update(stable_images=1, fade_images=1)
        variant["training"].update(epochs=conv_layout(size)[1])
    if "decay_epochs" in variant.get("recipe", {}):
        variant["recipe"]["decay_epochs"] = 1  # the one epoch decays
    defaults = {**photo_parameters["training_defaults"], "device": "cpu", "resume": False,
                "resume_dir": str(tmp_path)}
    config = resolve_experiment_config(defaults, variant)
    check_config_against_data(config, channels=3, image_size=size, num_classes=2)
    model_input = make_model_input(count=2, size=size, channels=3, classes=2)
    if domains_of(name) == 2:
        model_input = pair_domains(model_input, make_model_input(count=2, size=size, channels=3, classes=2, seed=1))
    result = train_gan(model_input, config)
    assert result.history[-1]["epoch"] == variant["training"]["epochs"]
    assert result.epoch_samples[1].shape[1:] == (3, size, size)


def test_the_photo_translation_domains_are_the_cyclegan_folder_layout(photo_parameters):
    domains = [parse_data_params(photo_parameters["cyclegan"][domain]["data"]) for domain in ("domain_a", "domain_b")]
    assert [Path(data.path).name for data in domains] == ["trainA", "trainB"]
    assert {(data.source, data.image_size, data.channels) for data in domains} == {("image_folder", 128, 3)}
