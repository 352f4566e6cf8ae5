"""What the two-domain scorings (translations, pairs) share: one image set's scores on one
domain's backbone, the record of the run that made them, and a headline over two such sets."""

from __future__ import annotations

from typing import Any

import torch

from ganforge.metrics import backbone_from_record, compute_all, metric_columns
from ganforge.utils import content_digest


def domain_scores(images: torch.Tensor, backbone: dict[str, Any], real: dict[str, Any],
                  settings: dict[str, Any]) -> dict[str, Any]:
    """FD (and KID, precision, recall) of uint8 ``images`` against one domain's real statistics."""
    scores: dict[str, Any] = dict.fromkeys(metric_columns())
    if backbone["kind"] != "none":
        features = backbone_from_record(backbone).features(images, settings["batch_size"], settings["device"])
        scores = compute_all(real, features, settings)
    return {**scores, "n_samples": int(images.shape[0]), "n_real": int(real.get("n_real", 0)),
            "score_label": backbone["describe"]["score_label"], "backbone": backbone["describe"]}


def run_record(samples: dict[str, Any], run_info: dict[str, Any], rows: list[str]) -> dict[str, Any]:
    """Which run, checkpoint and data scored; ``rows``: the keys of the per-set scores."""
    variant = samples["variant"]
    return {
        "variant": variant, "two_domain": True, "rows": rows, "run_id": run_info.get("run_id"),
        "checkpoint_version": run_info.get("load_versions", {}).get(f"{variant}.checkpoint") or run_info.get("run_id"),
        "epoch": samples["epoch"], "generator_weights": samples["weights"],
        "data_fingerprint": samples["data_fingerprint"],
    }


def headline(first: dict[str, Any], second: dict[str, Any], real_first: dict[str, Any],
             real_second: dict[str, Any], over: str) -> dict[str, Any]:
    """The mean of two sets' scores, with what identifies how they were computed (backbones,
    real statistics, sample counts): what champion promotion compares."""
    means = {column: None if first[column] is None or second[column] is None
             else (first[column] + second[column]) / 2 for column in metric_columns()}
    return {
        **means,
        "score_label": f"{first['score_label']}, mean of {over}",
        "backbone": {**first["backbone"], "name": f"{first['backbone']['name']} (per domain)",
                     "weights_fingerprint": content_digest([first["backbone"]["weights_fingerprint"],
                                                            second["backbone"]["weights_fingerprint"]])},
        "real_statistics_key": content_digest([real_first.get("cache_key"), real_second.get("cache_key")]),
        "n_samples": first["n_samples"] + second["n_samples"],
        "n_real": first["n_real"] + second["n_real"],
        "conditional": False,
    }
