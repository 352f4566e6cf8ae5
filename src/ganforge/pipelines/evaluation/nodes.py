"""Kedro nodes that sample from a trained generator and score the samples.

Real-data features depend only on the data version and the backbone, so they are cached in the
catalog (``feature_cache``) under a key made of the data fingerprint, the backbone's weights
fingerprint and the image count; generated images are embedded in memory, never via PNG files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from ganforge.errors import BackboneUnavailableError
from ganforge.images import grid_image, to_uint8
from ganforge.metrics import (
    ClassifierBackbone,
    FeatureBackbone,
    build_inception_backbone,
    classifier_from_state,
    classifier_state,
    feature_statistics,
    frechet_distance_to_features,
    inception_weights_available,
    kernel_inception_distance,
    precision_recall,
    train_feature_classifier,
)
from ganforge.pipelines.training.config import resolve_evaluation_config
from ganforge.pipelines.training.engine import build_generator
from ganforge.utils import resolve_device

logger = logging.getLogger(__name__)


def check_backbone_available(evaluation: dict[str, Any], has_labels: bool) -> str:
    """Which backbone a run will use; fails before any training when none can be built."""
    kind = evaluation["backbone"]
    weights = evaluation.get("inception_weights")
    inception_ready = inception_weights_available(weights) or (
        evaluation.get("download_inception", False) and not weights
    )
    if kind == "inception" and not inception_ready:
        # build it to get pytorch-fid's own failure, explained
        build_inception_backbone(weights, allow_download=evaluation.get("download_inception", False))
    if kind == "classifier" and not has_labels:
        raise BackboneUnavailableError(
            "evaluation.backbone is 'classifier' but the data has no labels to train it on. Use "
            "labeled data or provide Inception weights (evaluation.inception_weights)."
        )
    if kind == "auto" and not inception_ready and not has_labels:
        raise BackboneUnavailableError(
            "No feature backbone for FID: Inception weights are not available offline and the data "
            "has no labels to train the classifier backbone. Set evaluation.inception_weights to a "
            "local pt_inception-2015-12-05-6726825d.pth, put that file in the torch hub cache, or "
            "use labeled data."
        )
    return "inception" if kind == "inception" or (kind == "auto" and inception_ready) else "classifier"


def _cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def prepare_real_features(
    model_input: dict[str, Any], evaluation: dict[str, Any], feature_cache: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The feature backbone and the real data's features and statistics, from the cache when
    this data version, backbone and image count were seen before.

    Returns (backbone description with what is needed to rebuild it, real statistics, new cache
    entries to save).
    """
    evaluation = resolve_evaluation_config(evaluation)
    labels = model_input.get("labels")
    kind = check_backbone_available(evaluation, labels is not None)
    updates: dict[str, Any] = {}
    if kind == "inception":
        backbone_record = {"kind": "inception", "inception_weights": evaluation.get("inception_weights")}
        backbone = rebuild_backbone(backbone_record, evaluation)
    else:
        options = evaluation["classifier"]
        key = f"classifier-{_cache_key(model_input['fingerprint'], options)}"
        if key in feature_cache:
            state = feature_cache[key]()
            backbone = ClassifierBackbone(classifier_from_state(state["classifier"]), state["report"])
            logger.info("Feature classifier loaded from the cache (%s).", key)
        else:
            model, report = train_feature_classifier(
                model_input["images"], labels, int(model_input["num_classes"]),
                device=evaluation["device"], **options,
            )
            backbone = ClassifierBackbone(model, report)
            updates[key] = {"classifier": classifier_state(model), "report": report}
        logger.info(
            "FD-classifier backbone: held-out accuracy %.4f on %d images.",
            backbone.training_report["holdout_accuracy"], backbone.training_report["n_holdout"],
        )
        backbone_record = {"kind": "classifier", "classifier": classifier_state(backbone.model),
                           "report": backbone.training_report}
    backbone_record["describe"] = backbone.describe()

    images = model_input["images"]
    n_real = min(evaluation.get("n_real") or images.shape[0], images.shape[0])
    stats_key = f"real-{_cache_key(model_input['fingerprint'], backbone.weights_fingerprint, n_real)}"
    if stats_key in feature_cache:
        real = feature_cache[stats_key]()
        logger.info("Real-data statistics reused from the cache (%s).", stats_key)
    else:
        started = time.perf_counter()
        features = backbone.features(images[:n_real], evaluation["batch_size"], evaluation["device"])
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
    real = {**real, "cache_key": stats_key}
    return backbone_record, real, updates


def rebuild_backbone(record: dict[str, Any], evaluation: dict[str, Any]) -> FeatureBackbone:
    if record["kind"] == "inception":
        return build_inception_backbone(
            record.get("inception_weights"), allow_download=evaluation.get("download_inception", False)
        )
    return ClassifierBackbone(classifier_from_state(record["classifier"]), record["report"])


@torch.no_grad()
def _draw(
    checkpoint: dict[str, Any], generator_state: dict[str, torch.Tensor], count: int, evaluation: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor | None]:
    spec = checkpoint["model_spec"]
    device = resolve_device(evaluation["device"])
    generator = build_generator(spec)
    generator.load_state_dict(generator_state)
    generator.to(device).eval()
    rng = torch.Generator(device=device).manual_seed(evaluation["seed"])
    labels = None
    if spec["num_classes"]:
        # class-balanced: the same number of each class (rounded up, then cut to count)
        per_class = math.ceil(count / spec["num_classes"])
        labels = torch.arange(spec["num_classes"], device=device).repeat_interleave(per_class)[:count]
    batches = []
    for start in range(0, count, evaluation["batch_size"]):
        size = min(evaluation["batch_size"], count - start)
        noise = torch.randn(size, spec["latent_dim"], generator=rng, device=device)
        batch_labels = labels[start : start + size] if labels is not None else None
        batches.append(to_uint8(generator(noise, batch_labels), checkpoint["normalization"]).cpu())
    return torch.cat(batches), (labels.cpu() if labels is not None else None)


def sample_images(checkpoint: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Draw ``evaluation.n_samples`` images from a checkpoint (EMA weights by default).

    Returns the samples (uint8 tensor, labels for conditional models) and a grid picture; for
    conditional models the grid has one row per class.
    """
    evaluation = checkpoint["config"]["evaluation"]
    use_ema = evaluation["use_ema"] and checkpoint.get("ema_generator") is not None
    weights = checkpoint["ema_generator"] if use_ema else checkpoint["generator"]
    images, labels = _draw(checkpoint, weights, evaluation["n_samples"], evaluation)
    num_classes = checkpoint["model_spec"]["num_classes"]
    if num_classes:
        per_row = min(10, images.shape[0] // num_classes)
        rows = [images[labels == label][:per_row] for label in range(num_classes)]
        grid = grid_image(torch.cat(rows), nrow=per_row)
    else:
        grid = grid_image(images[:64], nrow=8)
    samples = {"images": images, "labels": labels, "weights": "ema" if use_ema else "raw",
               "epoch": checkpoint["epoch"], "variant": checkpoint["variant"]}
    return samples, grid


def _score(
    images: torch.Tensor, backbone: FeatureBackbone, real: dict[str, Any], evaluation: dict[str, Any]
) -> dict[str, float]:
    fake_features = backbone.features(images, evaluation["batch_size"], evaluation["device"])
    real_features = real["features"].double().numpy()
    kid_mean, kid_std = kernel_inception_distance(
        real_features, fake_features, subsets=evaluation["kid_subsets"],
        subset_size=evaluation["kid_subset_size"], seed=evaluation["seed"],
    )
    precision, recall = precision_recall(real_features, fake_features, k=evaluation["precision_recall_k"])
    return {
        "fid": frechet_distance_to_features(real["mu"].numpy(), real["sigma"].numpy(), fake_features),
        "kid": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
    }


def evaluate_samples(
    samples: dict[str, Any],
    checkpoint: dict[str, Any],
    feature_backbone: dict[str, Any],
    real_statistics: dict[str, Any],
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """FID (or FD-classifier), KID and precision/recall of the samples against the real data."""
    evaluation = checkpoint["config"]["evaluation"]
    if real_statistics["data_fingerprint"] != checkpoint["data_fingerprint"]:
        logger.warning(
            "The checkpoint was trained on data %s but is scored against data %s.",
            checkpoint["data_fingerprint"], real_statistics["data_fingerprint"],
        )
    started = time.perf_counter()
    backbone = rebuild_backbone(feature_backbone, evaluation)
    scores = _score(samples["images"], backbone, real_statistics, evaluation)
    variant = checkpoint["variant"]
    metrics = {
        "variant": variant,
        "run_id": run_info.get("run_id"),
        "checkpoint_version": run_info.get("load_versions", {}).get(f"{variant}.checkpoint") or run_info.get("run_id"),
        "epoch": checkpoint["epoch"],
        "generator_weights": samples["weights"],
        "backbone": feature_backbone["describe"],
        "score_label": feature_backbone["describe"]["score_label"],
        "n_samples": int(samples["images"].shape[0]),
        "n_real": int(real_statistics["n_real"]),
        "real_statistics_key": real_statistics["cache_key"],
        "data_fingerprint": real_statistics["data_fingerprint"],
        **scores,
        "seconds": time.perf_counter() - started,
    }
    if feature_backbone["kind"] == "classifier":
        metrics["classifier_holdout_accuracy"] = feature_backbone["report"]["holdout_accuracy"]
    logger.info(
        "%s %s = %.3f, KID = %.4f ± %.4f, precision = %.3f, recall = %.3f (%d samples, backbone %s)",
        variant, metrics["score_label"], scores["fid"], scores["kid"], scores["kid_std"],
        scores["precision"], scores["recall"], metrics["n_samples"], feature_backbone["describe"]["name"],
    )
    return metrics


def score_training_curve(
    generator_snapshots: dict[int, dict[str, Any]],
    checkpoint: dict[str, Any],
    feature_backbone: dict[str, Any],
    real_statistics: dict[str, Any],
) -> pd.DataFrame:
    """Scores of the generator every ``evaluation.every_n_epochs`` epochs, with the training
    wall-clock time reached at each: the score-versus-epoch and time-to-quality curves."""
    evaluation = checkpoint["config"]["evaluation"]
    columns = ["variant", "epoch", "step", "train_seconds", "fid", "kid", "kid_std", "precision", "recall",
               "score_label", "backbone", "backbone_fingerprint"]
    if not generator_snapshots:
        return pd.DataFrame(columns=columns)
    backbone = rebuild_backbone(feature_backbone, evaluation)
    rows = []
    for epoch, snapshot in sorted(generator_snapshots.items()):
        images, _ = _draw(checkpoint, snapshot["generator"], evaluation["n_samples"], evaluation)
        rows.append({
            "variant": checkpoint["variant"], "epoch": epoch, "step": snapshot["step"],
            "train_seconds": snapshot["train_seconds"],
            **_score(images, backbone, real_statistics, evaluation),
            "score_label": feature_backbone["describe"]["score_label"],
            "backbone": feature_backbone["describe"]["name"],
            "backbone_fingerprint": feature_backbone["describe"]["weights_fingerprint"],
        })
        logger.info("%s epoch %d: %s %.3f", checkpoint["variant"], epoch, rows[-1]["score_label"], rows[-1]["fid"])
    return pd.DataFrame(rows, columns=columns)
