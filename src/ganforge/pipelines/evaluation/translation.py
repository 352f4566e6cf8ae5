"""Scoring of a two-domain translation model (CycleGAN): translate seeded images of each domain
to the other and back, and score the translations against the target domain's real images on
that domain's own backbone.

* Fréchet distance (and KID, precision, recall) of A → B against real B, and of B → A against A;
* cycle reconstruction error: mean absolute pixel difference (0–1 scale) of A → B → A from A;
* label preservation: how often the target domain's classifier gives a translated image the
  class of its source image (labeled domains and a classifier backbone only), next to the same
  classifier's rate on the untranslated source images.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch
from PIL import Image

from ganforge.gan import seeded_subset, translate, translator_weights, upgrade_checkpoint
from ganforge.images import PIXEL_MAX, caption_left, grid_image, stack_vertically
from ganforge.metrics import PRIMARY, backbone_from_record
from ganforge.pipelines.evaluation.domain_scores import domain_scores, headline, run_record

logger = logging.getLogger(__name__)

DIRECTIONS = {"a_to_b": ("ab", "domain_a", "domain_b"), "b_to_a": ("ba", "domain_b", "domain_a")}


def _seeded_subset(model_input: dict[str, Any], count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    images = model_input["images"]
    chosen = seeded_subset(images.shape[0], count, seed)
    labels = model_input.get("labels")
    return images[chosen], (labels[chosen] if labels is not None else None)


def translate_domains(
    checkpoint: dict[str, Any], domain_a: dict[str, Any], domain_b: dict[str, Any], evaluation_config: dict[str, Any]
) -> dict[str, Any]:
    """Up to ``n_samples`` seeded images of each domain, translated and brought back (``{}`` when
    there is no checkpoint: no champion yet)."""
    if not checkpoint:
        return {}
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, which = translator_weights(checkpoint, settings["use_ema"])
    inputs = {"domain_a": domain_a, "domain_b": domain_b}
    samples: dict[str, Any] = {"weights": which, "epoch": checkpoint["epoch"], "variant": checkpoint["variant"],
                               "data_fingerprint": checkpoint["data_fingerprint"]}
    for name, (direction, source, _) in DIRECTIONS.items():
        images, labels = _seeded_subset(inputs[source], settings["n_samples"], settings["seed"])
        translated, reconstructed = translate(checkpoint, weights, images, direction,
                                              batch_size=settings["batch_size"], device=settings["device"])
        samples[name] = {"images": translated, "source_labels": labels, "source_images": images,
                         "cycle_error": float((reconstructed.float() - images.float()).abs().mean() / PIXEL_MAX)}
    return samples


def _direction_scores(translated: dict[str, Any], backbone: dict[str, Any], real: dict[str, Any],
                      settings: dict[str, Any]) -> dict[str, Any]:
    scores = domain_scores(translated["images"], backbone, real, settings)
    preserved = untranslated = None
    if backbone["kind"] == "classifier" and translated["source_labels"] is not None:
        classifier = backbone_from_record(backbone)
        preserved, untranslated = (
            float((classifier.predict(images, settings["batch_size"], settings["device"])
                   == translated["source_labels"]).double().mean())
            for images in (translated["images"], translated["source_images"]))
    # untranslated: the same classifier on the source images as they are, the baseline a
    # translation must beat to have made them more like the target domain
    return {**scores, "label_preservation": preserved, "label_preservation_untranslated": untranslated,
            "cycle_error": translated["cycle_error"]}


def evaluate_translation(
    samples: dict[str, Any],
    backbone_a: dict[str, Any],
    backbone_b: dict[str, Any],
    real_a: dict[str, Any],
    real_b: dict[str, Any],
    evaluation_config: dict[str, Any],
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """Both directions' scores, each on its target domain's backbone and real statistics, under
    a headline of their means (``fid`` etc., what champion promotion compares). ``{}`` for no
    samples."""
    if not samples:
        return {}
    started = time.perf_counter()
    targets = {"a_to_b": (backbone_b, real_b), "b_to_a": (backbone_a, real_a)}
    variant = samples["variant"]
    metrics = run_record(samples, run_info, list(targets))
    for name, (backbone, real) in targets.items():
        metrics[name] = _direction_scores(samples[name], backbone, real, evaluation_config)
        scores = metrics[name]
        if scores[PRIMARY] is not None:
            preserved = scores["label_preservation"]
            logger.info("%s %s: %s %.3f, label preservation %s, cycle error %.4f", variant, name.replace("_", " "),
                        scores["score_label"], scores[PRIMARY], "n/a" if preserved is None else f"{preserved:.3f}",
                        scores["cycle_error"])
    metrics.update(headline(metrics["a_to_b"], metrics["b_to_a"], real_b, real_a, "A->B and B->A"))
    metrics["seconds"] = time.perf_counter() - started
    return metrics


def render_translation_grid(
    checkpoint: dict[str, Any], domain_a: dict[str, Any], domain_b: dict[str, Any], evaluation_config: dict[str, Any]
) -> Image.Image:
    """Ten seeded images per domain: real, translated, and back, one captioned row each."""
    settings = evaluation_config
    checkpoint = upgrade_checkpoint(checkpoint)
    weights, _ = translator_weights(checkpoint, settings["use_ema"])
    inputs = {"domain_a": domain_a, "domain_b": domain_b}
    rows = []
    for direction, source, target in DIRECTIONS.values():
        images, _ = _seeded_subset(inputs[source], 10, settings["seed"])
        translated, reconstructed = translate(checkpoint, weights, images, direction,
                                              batch_size=settings["batch_size"], device=settings["device"])
        start, goal = source[-1].upper(), target[-1].upper()  # the default font has no arrow glyph
        for picture, caption in ((images, f"real {start}"), (translated, f"{start}->{goal}"),
                                 (reconstructed, f"{start}->{goal}->{start}")):
            rows.append(caption_left(grid_image(_as_rgb_if(picture, checkpoint), nrow=10), caption))
    return stack_vertically(rows)


def _as_rgb_if(images: torch.Tensor, checkpoint: dict[str, Any]) -> torch.Tensor:
    """Grey rows in RGB when the other domain has colour, so rows stack."""
    channels = max(checkpoint["model_spec"].get("domain_channels") or [images.shape[1]])
    return images.expand(-1, channels, -1, -1)
