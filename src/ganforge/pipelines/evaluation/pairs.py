"""Scoring of a coupled two-domain model (CoGAN): draw pairs from shared noise, score each
domain's images against its own real images on its own backbone, and measure how often a pair
shows the same thing.

Pair agreement: domain A's classifier on the A image and domain B's classifier on the B image
give the same class (labeled domains and classifier backbones only). Pairs of unrelated images
agree about 1/classes of the time; a coupled model that learned the correspondence, near 1.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch
from PIL import Image

from ganforge.gan import DOMAINS, draw_pairs, sampling_weights, upgrade_checkpoint
from ganforge.images import caption_left, grid_image, stack_vertically
from ganforge.metrics import PRIMARY, backbone_from_record
from ganforge.pipelines.evaluation.domain_scores import domain_scores, headline, run_record

logger = logging.getLogger(__name__)


def sample_pairs(checkpoint: dict[str, Any], evaluation_config: dict[str, Any]) -> dict[str, Any]:
    """``n_samples`` seeded pairs (``{}`` when there is no checkpoint: no champion yet)."""
    if not checkpoint:
        return {}
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, which = sampling_weights(checkpoint, settings["use_ema"])
    images_a, images_b = draw_pairs(checkpoint, weights, settings["n_samples"], batch_size=settings["batch_size"],
                                    device=settings["device"], seed=settings["seed"])
    return {"domain_a": {"images": images_a}, "domain_b": {"images": images_b}, "weights": which,
            "epoch": checkpoint["epoch"], "variant": checkpoint["variant"],
            "data_fingerprint": checkpoint["data_fingerprint"]}


def _predicted(images: torch.Tensor, backbone: dict[str, Any], settings: dict[str, Any]) -> torch.Tensor | None:
    if backbone["kind"] != "classifier":
        return None
    return backbone_from_record(backbone).predict(images, settings["batch_size"], settings["device"])


def evaluate_pairs(
    samples: dict[str, Any],
    backbone_a: dict[str, Any],
    backbone_b: dict[str, Any],
    real_a: dict[str, Any],
    real_b: dict[str, Any],
    evaluation_config: dict[str, Any],
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """Each domain's scores on its own backbone, the pair agreement rate, and a headline of the
    two domains' mean scores (what champion promotion compares). ``{}`` for no samples."""
    if not samples:
        return {}
    started = time.perf_counter()
    settings, variant = evaluation_config, samples["variant"]
    backbones, reals = (backbone_a, backbone_b), (real_a, real_b)
    metrics = run_record(samples, run_info, list(DOMAINS))
    for name, backbone, real in zip(DOMAINS, backbones, reals, strict=True):
        metrics[name] = domain_scores(samples[name]["images"], backbone, real, settings)
    classes = [_predicted(samples[name]["images"], backbone, settings)
               for name, backbone in zip(DOMAINS, backbones, strict=True)]
    agreement = None if None in classes else float((classes[0] == classes[1]).double().mean())
    metrics["pair_agreement"] = agreement
    metrics.update(headline(metrics["domain_a"], metrics["domain_b"], real_a, real_b, "A and B"))
    if metrics[PRIMARY] is not None:
        logger.info("%s: %s A %.3f, B %.3f, pair agreement %s", variant, metrics["domain_a"]["score_label"],
                    metrics["domain_a"][PRIMARY], metrics["domain_b"][PRIMARY],
                    "n/a" if agreement is None else f"{agreement:.3f}")
    metrics["seconds"] = time.perf_counter() - started
    return metrics


def render_pair_grid(checkpoint: dict[str, Any], evaluation_config: dict[str, Any]) -> Image.Image:
    """Twenty pairs: a row of domain A images over the row of their domain B twins, twice."""
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, _ = sampling_weights(checkpoint, settings["use_ema"])
    images_a, images_b = draw_pairs(checkpoint, weights, 20, batch_size=settings["batch_size"],
                                    device=settings["device"], seed=settings["seed"])
    rows = []
    for start in (0, 10):
        rows.append(caption_left(grid_image(images_a[start : start + 10], nrow=10), "A"))
        rows.append(caption_left(grid_image(images_b[start : start + 10], nrow=10), "B"))
    return stack_vertically(rows)
