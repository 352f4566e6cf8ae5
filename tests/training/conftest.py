from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from ganforge.gan import VARIANTS, resolve_experiment_config
from ganforge.gan.networks.layout import attention_resolutions
from ganforge.images import normalization_recipe
from ganforge.utils import content_digest

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"
TINY_DEFAULTS = {
    "device": "cpu",
    "seed": 7,
    "epochs": 2,
    "batch_size": 8,
    "grid_size": 8,
    "grid_rows": 4,
    "log_every": 2,
}


def make_model_input(count: int = 32, size: int = 16, channels: int = 1, classes: int = 4, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
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


SHRUNK_MODEL = {"base_channels": 4, "generator_hidden": [16, 32], "discriminator_hidden": [32, 16], "embedding_dim": 4}
RUN_LENGTH_KEYS = ("epochs", "batch_size", "grid_size", "grid_rows")  # TINY_DEFAULTS replace these


def shipped_variant(name: str, image_size: int = 16) -> dict:
    """The variant as conf/base/parameters_<name>.yml ships it, with its networks shrunk to a few
    channels for ``image_size`` images: the tests train what users run, in miniature."""
    variant = yaml.safe_load((CONF / f"parameters_{name}.yml").read_text())[name]["variant"]
    model = variant["model"]
    model.update({key: value for key, value in SHRUNK_MODEL.items() if key in model})
    if model.get("attention_resolution"):
        model["attention_resolution"] = attention_resolutions(image_size)[0]
    if "stable_images" in variant.get("recipe", {}):
        # a growth schedule that reaches full resolution after one epoch of the tiny data
        variant["recipe"].update(stable_images=8, fade_images=8)
    training = variant.get("training", {})
    for key in RUN_LENGTH_KEYS:
        training.pop(key, None)
    return variant


VARIANT_SNIPPETS = {name: shipped_variant(name) for name in VARIANTS.names()}


class Interrupted(Exception):
    pass


def resumed_and_uninterrupted(model_input: Callable[[], dict], config: Callable[..., dict]) -> tuple:
    """The 3-epoch run killed after epoch 1 and resumed, and the same run uninterrupted
    (``config(**training)`` builds the variant's config): their learned state must be equal."""
    from ganforge.gan import train

    uninterrupted = train(model_input(), config(epochs=3, resume=False))

    def stop_after_first_epoch(state) -> None:  # noqa: ANN001
        if state.epoch == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        train(model_input(), config(epochs=3), on_epoch_end=stop_after_first_epoch)
    resumed = train(model_input(), config(epochs=3))
    assert resumed.resumed_from_epoch == 1
    return resumed, uninterrupted


def learned_digest(checkpoint: dict) -> str:
    """Everything training produced (the config, which differs in training.resume, left out)."""
    return content_digest({key: value for key, value in checkpoint.items() if key != "config"})


def environment_parameters(env: str) -> dict:
    """conf/base with a Kedro environment (conf/photos, conf/emoji) merged in, as `kedro run --env` reads it."""
    import warnings

    from kedro.config import OmegaConfigLoader

    from ganforge.settings import CONFIG_LOADER_ARGS

    with warnings.catch_warnings():  # Kedro's own use of a deprecated OmegaConf call (see settings.py)
        warnings.simplefilter("ignore", UserWarning)
        return OmegaConfigLoader(str(Path(__file__).resolve().parents[2] / "conf"), env=env,
                                 **CONFIG_LOADER_ARGS)["parameters"]
