"""Kedro nodes that sample from a trained generator and score the samples.

Every node takes the variant's resolved ``evaluation_config`` (shared defaults under the
variant's own ``evaluation:`` overrides), never settings read back out of a checkpoint. Real-data
features depend only on the data version, the backbone and the image count, so they are cached in
the catalog (``feature_cache``) under a key made of those; generated images are embedded in
memory, never via PNG files.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from ganforge.errors import BackboneUnavailableError
from ganforge.gan import draw, mix_styles, sampling_weights, upgrade_checkpoint
from ganforge.gan.sampling import truncates_in_w
from ganforge.images import caption_left, grid_image, stack_vertically
from ganforge.metrics import (
    PRIMARY,
    TRAINED_BACKBONES,
    FeatureBackbone,
    backbone_from_record,
    backbone_record,
    backbone_settings_key,
    build_inception,
    choose_backbone,
    compute_all,
    describe_none,
    feature_statistics,
    metric_columns,
    offline_backbone,
    resolve_evaluation_config,
    train_backbone,
)
from ganforge.utils import content_digest

logger = logging.getLogger(__name__)


def configure_evaluation(evaluation: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """The variant's evaluation settings: ``parameters_evaluation.yml`` under its own overrides."""
    name = (variant or {}).get("name", "variant")
    return resolve_evaluation_config(evaluation, (variant or {}).get("evaluation"), where=f"{name}.evaluation")


def _cache_key(*parts: Any) -> str:
    return content_digest(list(parts))


def _trained_backbone(
    kind: str, model_input: dict[str, Any], settings: dict[str, Any], feature_cache: dict[str, Any]
) -> tuple[FeatureBackbone, dict[str, Any]]:
    """A classifier, rotation or contrastive backbone from the cache, or trained now (and returned
    for caching)."""
    key = f"{kind}-{_cache_key(model_input['fingerprint'], settings[backbone_settings_key(kind)])}"
    if key in feature_cache:
        logger.info("Feature %s backbone loaded from the cache (%s).", kind, key)
        return backbone_from_record({"kind": kind, **feature_cache[key]()}), {}
    backbone = train_backbone(kind, model_input, settings)
    record = backbone_record(kind, backbone, settings)
    return backbone, {key: {"classifier": record["classifier"], "report": record["report"]}}


def _backbone(
    kind: str, model_input: dict[str, Any], settings: dict[str, Any], feature_cache: dict[str, Any]
) -> tuple[str, FeatureBackbone, dict[str, Any]]:
    labeled = model_input.get("labels") is not None
    if kind == "inception":
        try:
            return kind, build_inception(settings), {}
        except BackboneUnavailableError as error:
            if settings["backbone"] != "auto":
                raise
            kind = offline_backbone(labeled)
            logger.warning("Inception weights could not be had (%s); scoring with the %s backbone instead.",
                           str(error).splitlines()[0], kind)
    backbone, updates = _trained_backbone(kind, model_input, settings, feature_cache)
    report = backbone.training_report
    logger.info("FD-%s backbone: held-out accuracy %.4f on %d images.", kind, report["holdout_accuracy"],
                report["n_holdout"])
    return kind, backbone, updates


def prepare_real_features(
    model_input: dict[str, Any], evaluation_config: dict[str, Any], feature_cache: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The feature backbone and the real data's features and statistics, from the cache when this
    data version, backbone and image count were seen before.

    Returns (backbone record that rebuilds it, real statistics, new cache entries to save).
    """
    settings = evaluation_config
    kind = choose_backbone(settings, model_input.get("labels") is not None)
    if kind == "none":
        logger.info("evaluation.backbone is 'none': samples are drawn but not scored.")
        return {"kind": "none", "describe": describe_none()}, {}, {}
    kind, backbone, updates = _backbone(kind, model_input, settings, feature_cache)
    record = backbone_record(kind, backbone, settings)
    images = model_input["images"]
    n_real = min(settings.get("n_real") or images.shape[0], images.shape[0])
    stats_key = f"real-{_cache_key(model_input['fingerprint'], backbone.weights_fingerprint, n_real)}"
    if stats_key in feature_cache:
        real = feature_cache[stats_key]()
        logger.info("Real-data statistics reused from the cache (%s).", stats_key)
    else:
        started = time.perf_counter()
        # all of a set stored as shards goes in as it is: the backbone reads it a batch at a time
        subset = images if n_real == images.shape[0] else images[:n_real]
        features = backbone.features(subset, settings["batch_size"], settings["device"])
        mu, sigma = feature_statistics(features)
        real = {
            "features": torch.from_numpy(features.astype(np.float32)),
            "mu": torch.from_numpy(mu),
            "sigma": torch.from_numpy(sigma),
            "n_real": n_real,
            "data_fingerprint": model_input["fingerprint"],
            "backbone": backbone.describe(),
            "seconds": time.perf_counter() - started,
        }
        updates[stats_key] = real
        logger.info("Real-data statistics computed for %d images in %.1f s.", n_real, real["seconds"])
    return record, {**real, "cache_key": stats_key}, updates


def sample_count(feature_backbone: dict[str, Any], settings: dict[str, Any]) -> int:
    """``n_samples``, raised to ``min_inception_samples`` for Inception: with fewer samples than
    its 2,048 feature dimensions the Fréchet distance is strongly biased."""
    if feature_backbone.get("kind") == "inception":
        return max(settings["n_samples"], settings["min_inception_samples"])
    return settings["n_samples"]


def sample_images(
    checkpoint: dict[str, Any], feature_backbone: dict[str, Any], evaluation_config: dict[str, Any]
) -> dict[str, Any]:
    """Draw the images to score from a checkpoint (EMA weights unless ``use_ema: false``);
    conditional labels follow the training data's class shares. ``{}`` when there is no checkpoint
    (no champion yet)."""
    if not checkpoint:
        return {}
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, which = sampling_weights(checkpoint, settings["use_ema"])
    images, labels = draw(checkpoint, weights, sample_count(feature_backbone, settings),
                          batch_size=settings["batch_size"], device=settings["device"], seed=settings["seed"],
                          truncation=settings["truncation"])
    return {"images": images, "labels": labels, "weights": which, "truncation": settings["truncation"],
            "epoch": checkpoint["epoch"],
            "variant": checkpoint["variant"], "data_fingerprint": checkpoint["data_fingerprint"],
            "conditional": bool(checkpoint["model_spec"]["num_classes"])}


def render_sample_grid(checkpoint: dict[str, Any], evaluation_config: dict[str, Any]) -> Image.Image:
    """64 samples, or for a conditional model ten per class, one row per class."""
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, _ = sampling_weights(checkpoint, settings["use_ema"])
    classes = checkpoint["model_spec"]["num_classes"]
    labels = torch.arange(classes).repeat_interleave(10) if classes else None
    images, _ = draw(checkpoint, weights, 10 * classes if classes else 64, batch_size=settings["batch_size"],
                     device=settings["device"], seed=settings["seed"], labels=labels,
                     truncation=settings["truncation"])
    return grid_image(images, nrow=10 if classes else 8)


def render_truncation_sweep(checkpoint: dict[str, Any], evaluation_config: dict[str, Any]) -> Image.Image:
    """The same twenty samples (two of each class for a conditional model) at each threshold of
    ``truncation_sweep`` and untruncated: small thresholds give cleaner, more alike images."""
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, _ = sampling_weights(checkpoint, settings["use_ema"])
    classes = checkpoint["model_spec"]["num_classes"]
    labels = torch.arange(20) % classes if classes else None
    rows = []
    name = "psi" if truncates_in_w(checkpoint["model_spec"]) else "trunc"
    for threshold in [*sorted(settings["truncation_sweep"]), None]:
        images, _ = draw(checkpoint, weights, 20, batch_size=settings["batch_size"], device=settings["device"],
                         seed=settings["seed"], labels=labels, truncation=threshold)
        rows.append(caption_left(grid_image(images, nrow=10), f"{name} {threshold:g}" if threshold else "none"))
    return stack_vertically(rows)


def render_style_mixing_grid(checkpoint: dict[str, Any], evaluation_config: dict[str, Any]) -> Image.Image:
    """A style generator's mixing grid: the left column's samples give each row its coarse
    styles (``style_mixing_layers``), the top row's give each column its fine styles; every
    other cell is that mix. Sampled as the scores are (EMA weights, ``truncation``)."""
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, _ = sampling_weights(checkpoint, settings["use_ema"])
    count_rows, count_columns = 6, 8
    rows, columns, mixed = mix_styles(checkpoint, weights, count_rows, count_columns,
                                      coarse_layers=settings["style_mixing_layers"], device=settings["device"],
                                      seed=settings["seed"], psi=settings["truncation"])
    corner = torch.full_like(rows[:1], 255)  # white: the grid's legend corner, no image
    tiles = [corner, columns]
    for row in range(count_rows):
        tiles += [rows[row : row + 1], mixed[row * count_columns : (row + 1) * count_columns]]
    return caption_left(grid_image(torch.cat(tiles), nrow=count_columns + 1), "rows:\ncoarse\n\ncolumns:\nfine")


def _scores(images: torch.Tensor, backbone: FeatureBackbone, real: dict[str, Any],
            settings: dict[str, Any]) -> dict[str, float]:
    fake_features = backbone.features(images, settings["batch_size"], settings["device"])
    return compute_all(real, fake_features, settings)


def evaluate_samples(
    samples: dict[str, Any],
    feature_backbone: dict[str, Any],
    real_statistics: dict[str, Any],
    evaluation_config: dict[str, Any],
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """FID (or FD-classifier / FD-rotation), KID and precision/recall of the samples against the
    real data; every score records its backbone and both sample counts. ``{}`` for no samples."""
    if not samples:
        return {}
    started = time.perf_counter()
    variant = samples["variant"]
    scored = feature_backbone["kind"] != "none"
    if scored and real_statistics["data_fingerprint"] != samples["data_fingerprint"]:
        logger.warning("The checkpoint was trained on data %s but is scored against data %s.",
                       samples["data_fingerprint"], real_statistics["data_fingerprint"])
    scores = (_scores(samples["images"], backbone_from_record(feature_backbone), real_statistics, evaluation_config)
              if scored else dict.fromkeys(metric_columns()))
    metrics = {
        "variant": variant,
        "run_id": run_info.get("run_id"),
        "checkpoint_version": run_info.get("load_versions", {}).get(f"{variant}.checkpoint") or run_info.get("run_id"),
        "epoch": samples["epoch"],
        "conditional": samples["conditional"],
        "generator_weights": samples["weights"],
        "truncation": samples.get("truncation"),
        "backbone": feature_backbone["describe"],
        "score_label": feature_backbone["describe"]["score_label"],
        "n_samples": int(samples["images"].shape[0]),
        "n_real": int(real_statistics.get("n_real", 0)),
        "real_statistics_key": real_statistics.get("cache_key"),
        "data_fingerprint": samples["data_fingerprint"],
        **scores,
        "seconds": time.perf_counter() - started,
    }
    if feature_backbone["kind"] in TRAINED_BACKBONES:
        metrics["classifier_holdout_accuracy"] = feature_backbone["report"]["holdout_accuracy"]
    if scored:
        logger.info("%s %s = %.3f, KID = %.4f ± %.4f, precision = %.3f, recall = %.3f (%d samples, backbone %s)",
                    variant, metrics["score_label"], scores[PRIMARY], scores["kid"], scores["kid_std"],
                    scores["precision"], scores["recall"], metrics["n_samples"], feature_backbone["describe"]["name"])
    return metrics


def score_training_curve(
    generator_snapshots: dict[int, dict[str, Any]],
    checkpoint: dict[str, Any],
    feature_backbone: dict[str, Any],
    real_statistics: dict[str, Any],
    evaluation_config: dict[str, Any],
) -> pd.DataFrame:
    """Scores of the generator every ``evaluation.every_n_epochs`` epochs, with the training
    wall-clock time reached at each: the score-versus-epoch and time-to-quality curves."""
    settings = evaluation_config
    columns = ["variant", "epoch", "step", "train_seconds", *metric_columns(), "n_samples", "n_real",
               "score_label", "backbone", "backbone_fingerprint"]
    if not generator_snapshots or feature_backbone["kind"] == "none":
        return pd.DataFrame(columns=columns)
    checkpoint = upgrade_checkpoint(checkpoint)
    backbone = backbone_from_record(feature_backbone)
    count = sample_count(feature_backbone, settings)
    rows = []
    for epoch, snapshot in sorted(generator_snapshots.items()):
        images, _ = draw(checkpoint, snapshot["generator"], count, batch_size=settings["batch_size"],
                         device=settings["device"], seed=settings["seed"], truncation=settings["truncation"])
        rows.append({
            "variant": checkpoint["variant"], "epoch": epoch, "step": snapshot["step"],
            "train_seconds": snapshot["train_seconds"], **_scores(images, backbone, real_statistics, settings),
            "n_samples": count, "n_real": real_statistics["n_real"],
            "score_label": feature_backbone["describe"]["score_label"],
            "backbone": feature_backbone["describe"]["name"],
            "backbone_fingerprint": feature_backbone["describe"]["weights_fingerprint"],
        })
        logger.info("%s epoch %d: %s %.3f", checkpoint["variant"], epoch, rows[-1]["score_label"], rows[-1][PRIMARY])
    return pd.DataFrame(rows, columns=columns)


