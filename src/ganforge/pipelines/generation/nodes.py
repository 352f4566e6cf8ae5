"""Generate images from a trained variant: its champion, its latest checkpoint or any version.

Seeded throughout, so the same command writes the same images, byte for byte.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ganforge.errors import ConfigError, validation_problems
from ganforge.gan import draw, draw_pairs, interpolation_path, render, sampling_weights, upgrade_checkpoint
from ganforge.images import animated_gif, grid_image
from ganforge.utils import resolve_device

logger = logging.getLogger(__name__)

CHECKPOINT_PARTITION = "{version}/checkpoint"


class _Strict(BaseModel):
    # every key is required: the values live in conf/base/parameters_generate.yml alone
    model_config = ConfigDict(extra="forbid")


class InterpolationSettings(_Strict):
    seeds: list[int] = Field(min_length=2)
    steps: int = Field(ge=1)
    scale: int = Field(ge=1, le=64)


class GenerateSettings(_Strict):
    checkpoint: str | int
    count: int = Field(ge=1)
    seed: int
    truncation: float | None = Field(gt=0)
    labels: int | None = Field(ge=0)
    use_ema: bool
    batch_size: int = Field(ge=1)
    device: str
    interpolation: InterpolationSettings


def check_generate_settings(generate: dict[str, Any]) -> dict[str, Any]:
    """``generate:`` checked in full; the project hooks call this before any node runs.

    Raises:
        ConfigError: naming each bad key, e.g. ``generate.count``, or a device this machine lacks.
    """
    try:
        settings = GenerateSettings.model_validate(generate).model_dump(mode="json")
    except ValidationError as error:
        raise ConfigError(f"Invalid generate parameters: {validation_problems(error, 'generate')}. Fix "
                          "conf/base/parameters_generate.yml or the --params given.") from None
    resolve_device(settings["device"], "generate.device")
    return settings


def choose_checkpoint(
    checkpoint_versions: dict[str, Callable[[], Any]], champion: dict[str, Any], generate: dict[str, Any],
    variant: dict[str, Any],
) -> tuple[dict[str, Any], str]:
    """The checkpoint ``generate.checkpoint`` names ("champion": the model registry's champion alias,
    "latest" or a version) and its version."""
    wanted, variant = str(generate.get("checkpoint", "champion")), variant["name"]
    versions = sorted(key.split("/")[0] for key in checkpoint_versions)
    if not versions:
        raise ConfigError(f"'{variant}' has no checkpoint yet. Train it first: `kedro run --pipeline={variant}`.")
    if wanted == "champion":
        if not champion:
            raise ConfigError(
                f"'{variant}' has no champion yet (scheduled retraining promotes one: `kedro run "
                f"--pipeline=retrain_{variant}`). Or generate from the newest checkpoint with "
                "--params=generate.checkpoint=latest.")
        wanted = champion["checkpoint_version"]
    version = versions[-1] if wanted == "latest" else wanted
    key = CHECKPOINT_PARTITION.format(version=version)
    if key not in checkpoint_versions:
        raise ConfigError(f"'{variant}' has no checkpoint version {version}. Its versions: {', '.join(versions)}.")
    logger.info("Generating from the '%s' checkpoint version %s.", generate.get("checkpoint"), version)
    return checkpoint_versions[key](), version


def _labels(checkpoint: dict[str, Any], count: int, wanted: Any) -> torch.Tensor | None:
    """For a conditional model: the one class asked for, else the classes in turn."""
    classes = checkpoint["model_spec"]["num_classes"]
    if not classes:
        return None
    if wanted is None:
        return torch.arange(count) % classes
    if not 0 <= int(wanted) < classes:
        raise ConfigError(f"generate.labels must be a class index from 0 to {classes - 1}, not {wanted}.")
    return torch.full((count,), int(wanted))


def generate_images(
    checkpoint: dict[str, Any], version: str, generate: dict[str, Any], run_info: dict[str, Any]
) -> tuple[dict[str, Image.Image], Image.Image, dict[str, Any]]:
    """``generate.count`` PNG images (under this run's id), their grid, and a record of what made
    them. A coupled two-domain model (CoGAN) writes pairs: domain A left, B right, in one image."""
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, which = sampling_weights(checkpoint, generate["use_ema"])
    count, settings = generate["count"], {"batch_size": generate["batch_size"], "device": generate["device"],
                                          "seed": generate["seed"]}
    if checkpoint["recipe"] == "coupled":
        images, labels = torch.cat(draw_pairs(checkpoint, weights, count, **settings), dim=-1), None
    else:
        images, labels = draw(checkpoint, weights, count, labels=_labels(checkpoint, count, generate.get("labels")),
                              truncation=generate.get("truncation"), **settings)
    run_id = run_info.get("run_id", "unversioned")
    files = {f"{run_id}/{index:05d}": grid_image(image[None], nrow=1, padding=0) for index, image in enumerate(images)}
    record = {"variant": checkpoint["variant"], "checkpoint_version": version, "weights": which, "count": count,
              "seed": generate["seed"], "truncation": generate.get("truncation"),
              "labels": labels.tolist() if labels is not None else None, "run_id": run_id}
    logger.info("Wrote %d images of '%s' (checkpoint %s, seed %d).", count, checkpoint["variant"], version,
                generate["seed"])
    return files, grid_image(images[:64], nrow=8), record


def latent_interpolation(checkpoint: dict[str, Any], generate: dict[str, Any]) -> Image.Image:
    """An animated GIF walking a loop through the latent vectors of ``interpolation.seeds`` along
    great circles (spherical interpolation), ``interpolation.steps`` frames between two seeds."""
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, _ = sampling_weights(checkpoint, generate["use_ema"])
    settings = generate["interpolation"]
    noise = interpolation_path(settings["seeds"], settings["steps"], checkpoint["model_spec"]["latent_dim"])
    labels = _labels(checkpoint, 1, generate.get("labels"))
    if labels is not None:
        labels = labels.expand(noise.shape[0])
    frames = render(checkpoint, weights, noise, labels, batch_size=generate["batch_size"], device=generate["device"])
    scale = settings["scale"]
    pictures = [grid_image(frame[None], nrow=1, padding=0).resize(
        (frame.shape[-1] * scale, frame.shape[-2] * scale), Image.NEAREST) for frame in frames]
    return animated_gif(pictures, 80)
