"""Kedro nodes of the experiment pipeline: configure, train, and render what training produced."""

from __future__ import annotations

import logging
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # nodes run headless
import matplotlib.pyplot as plt
import pandas as pd
import torch
from PIL import Image

from ganforge.errors import ConfigError
from ganforge.gan import check_config_against_data, check_input, input_geometry, resolve_experiment_config
from ganforge.gan import train as train_variant
from ganforge.images import animated_gif, grid_image
from ganforge.metrics import choose_backbone
from ganforge.project_paths import portable_paths
from ganforge.utils import content_digest, git_state

logger = logging.getLogger(__name__)

TRACKED_PACKAGES = ("ganforge", "kedro", "kedro-datasets", "torch", "torchvision", "numpy", "pandas",
                    "great-expectations", "pytorch-fid")


def configure_experiment(
    training_defaults: dict[str, Any],
    variant: dict[str, Any],
    evaluation_config: dict[str, Any],
    model_input: dict[str, Any],
) -> dict[str, Any]:
    """Merge the shared defaults with the variant and fail fast, before any training, on a bad
    configuration: unknown keys or values, a conditional model on unlabeled data, two domains
    that do not fit together, networks that cannot be built for the data, or a configured
    backbone that cannot score the result."""
    config = resolve_experiment_config(training_defaults, variant)
    config["evaluation"] = evaluation_config
    check_input(config, model_input)
    check_config_against_data(config, *input_geometry(model_input))
    for data in model_input.get("domains", {"": model_input}).values():
        choose_backbone(evaluation_config, data.get("labels") is not None)
    return config


def train(
    model_input: dict[str, Any], experiment_config: dict[str, Any], warm_start: dict[str, Any] | None = None
) -> tuple[dict[str, Any], pd.DataFrame, dict[int, torch.Tensor], dict[int, dict[str, Any]], dict[str, Any]]:
    """Train (or resume) the variant; returns the checkpoint, the history table, per-epoch
    samples, generator snapshots for scoring, and facts about the run (device, resumed epoch)."""
    # finished once the catalog has stored the checkpoint (GanForgeHooks.after_dataset_saved)
    result = train_variant(model_input, experiment_config, warm_start=warm_start, finish_on_return=False)
    history = pd.DataFrame(result.history)
    info = {"device": result.device, "resumed_from_epoch": result.resumed_from_epoch,
            "epochs": experiment_config["training"]["epochs"],
            "train_seconds": float(history["seconds"].sum()) if len(history) else 0.0,
            "checkpoint_digest": training_digest(result.checkpoint),
            "warm_start": result.checkpoint["warm_start_digest"],
            # data-parallel training: how many processes shared each batch, over which backend
            "world_size": result.distributed.get("world_size", 1),
            "backend": result.distributed.get("backend")}
    return result.checkpoint, history, result.epoch_samples, result.snapshots, info


def training_digest(checkpoint: dict[str, Any]) -> str:
    """A digest of what training produced (weights, optimizer states, counters, random states),
    not of the settings that only decide how it is evaluated, so a bit-identical model always
    digests the same."""
    produced = ("epoch", "step", "counters", "networks", "ema", "ema_updates", "optimizers", "recipe_state", "rng",
                "model_spec", "normalization", "data_fingerprint")
    return content_digest({key: checkpoint.get(key) for key in produced})


def train_from_champion(
    model_input: dict[str, Any], experiment_config: dict[str, Any], champion_checkpoint: dict[str, Any],
    retrain: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, dict[int, torch.Tensor], dict[int, dict[str, Any]], dict[str, Any]]:
    """Scheduled retraining: start from the champion's weights (``retrain.warm_start: champion``)
    or from scratch (``scratch``, or when there is no champion yet)."""
    mode = retrain.get("warm_start", "champion")
    if mode not in ("champion", "scratch"):
        raise ConfigError(f"retrain.warm_start must be 'champion' or 'scratch', not '{mode}'.")
    checkpoint = (champion_checkpoint or None) if mode == "champion" else None
    if mode == "champion" and checkpoint is None:
        logger.info("No champion for '%s' yet: training from scratch.", experiment_config["name"])
    return train(model_input, experiment_config, warm_start=checkpoint)


def render_grids(
    epoch_samples: dict[int, torch.Tensor], experiment_config: dict[str, Any], run_info: dict[str, Any]
) -> tuple[dict[str, Image.Image], Image.Image, Image.Image]:
    """One grid per epoch (keyed by run id so runs never overwrite each other), the final grid,
    and an animated GIF of progress across epochs."""
    rows = experiment_config["training"]["grid_rows"]
    grids = {epoch: grid_image(samples, nrow=rows) for epoch, samples in sorted(epoch_samples.items())}
    run_id = run_info.get("run_id", "unversioned")
    per_epoch = {f"{run_id}/epoch_{epoch:04d}": picture for epoch, picture in grids.items()}
    final = grids[max(grids)]
    # 400 ms a frame, lingering on the final grid
    return per_epoch, final, animated_gif(list(grids.values()), [400] * (len(grids) - 1) + [1500])


def plot_training_history(history: pd.DataFrame, experiment_config: dict[str, Any]) -> plt.Figure:
    """Loss curves, and one panel for each other scalar the recipe logged (the Wasserstein
    estimate, a penalty, ...)."""
    name = experiment_config["name"]
    bookkeeping = {"epoch", "step", "seconds", "images_per_second"}
    losses = [column for column in history if column.endswith("_loss")]
    extras = [column for column in history if column not in bookkeeping and column not in losses
              and not column.endswith("_steps") and history[column].notna().any()]
    figure, axes = plt.subplots(1, 1 + len(extras), figsize=(5 * (1 + len(extras)), 3.6), squeeze=False)
    axis = axes[0][0]
    for column in losses:
        axis.plot(history["epoch"], history[column], marker="o", label=column.removesuffix("_loss").replace("_", " "))
    axis.set(title=f"{name}: losses", xlabel="epoch", ylabel="loss")
    axis.legend()
    for axis, column in zip(axes[0][1:], extras, strict=True):
        axis.plot(history["epoch"], history[column], marker="o", color="tab:green")
        axis.set(title=f"{name}: {column.replace('_', ' ')}", xlabel="epoch")
    for axis in axes[0]:
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def write_run_manifest(
    experiment_config: dict[str, Any],
    model_input: dict[str, Any],
    training_info: dict[str, Any],
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """What a run needs to be reproduced: parameters, seed, data, code and environment; paths
    under the project root relative to it (the manifest names no folder of the machine)."""
    manifest = {
        "variant": experiment_config["name"],
        "run_id": run_info.get("run_id"),
        "pipeline": run_info.get("pipeline_name"),
        "command": run_info.get("command"),
        "parameters": experiment_config,
        "seed": experiment_config["training"]["seed"],
        "data": _data_record(model_input, run_info, "model_input") if "domains" not in model_input else {
            "fingerprint": model_input["fingerprint"],
            **{domain: _data_record(data, run_info, f"{experiment_config['name']}_data.{domain}.model_input")
               for domain, data in model_input["domains"].items()},
        },
        "data_parameters": run_info.get("data_parameters") if "domains" not in model_input
        else (run_info.get("domain_data_parameters") or {}).get(experiment_config["name"]),
        "training": training_info,
        "environment": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": _package_versions(),
            "device": training_info.get("device"),
            "torch_threads": torch.get_num_threads(),
        },
        "git": git_state(),
    }
    return portable_paths(manifest, Path(run_info["project_path"])) if run_info.get("project_path") else manifest


def _data_record(model_input: dict[str, Any], run_info: dict[str, Any], dataset: str) -> dict[str, Any]:
    return {
        "fingerprint": model_input["fingerprint"],
        "source": model_input.get("source"),
        "images": int(model_input["images"].shape[0]),
        "shape": list(model_input["images"].shape[1:]),
        "num_classes": int(model_input.get("num_classes") or 0),
        "model_input_version": run_info.get("load_versions", {}).get(dataset) or run_info.get("run_id"),
    }


def _package_versions() -> dict[str, str]:
    versions = {}
    for package in TRACKED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions
