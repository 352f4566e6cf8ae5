"""Champion/challenger: score the current champion and the newly trained model on the same
backbone and real statistics, and promote the new one only if it wins by the configured margin."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ganforge.pipelines.evaluation.nodes import evaluate_samples, sample_images

logger = logging.getLogger(__name__)

CHECKPOINT_PARTITION = "{version}/checkpoint"


def load_champion(registry: dict[str, Any], checkpoint_versions: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """The champion's registry entry and checkpoint, or ``{}`` when there is none yet."""
    entry = registry.get("champion")
    if not entry:
        return {}
    key = CHECKPOINT_PARTITION.format(version=entry["checkpoint_version"])
    if key not in checkpoint_versions:
        logger.warning(
            "The champion's checkpoint version %s is missing; treating the variant as having no champion.",
            entry["checkpoint_version"],
        )
        return {}
    return {"entry": entry, "checkpoint": checkpoint_versions[key]()}


def score_champion(
    champion: dict[str, Any],
    experiment_config: dict[str, Any],
    feature_backbone: dict[str, Any],
    real_statistics: dict[str, Any],
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """Re-score the champion now, with this run's evaluation settings, backbone and real
    statistics, so that both models are measured on exactly the same yardstick."""
    if not champion:
        return {}
    checkpoint = copy.copy(champion["checkpoint"])
    checkpoint["config"] = {**checkpoint["config"], "evaluation": experiment_config["evaluation"]}
    samples, _ = sample_images(checkpoint)
    metrics = evaluate_samples(samples, checkpoint, feature_backbone, real_statistics, run_info)
    metrics["checkpoint_version"] = champion["entry"]["checkpoint_version"]
    return metrics


def decide_promotion(
    candidate: dict[str, Any],
    champion_metrics: dict[str, Any],
    registry: dict[str, Any],
    retrain: dict[str, Any],
    run_info: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns the (possibly unchanged) registry and the decision record with its reason."""
    margin = float(retrain.get("promotion_margin", 0.0))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    label = candidate["score_label"]
    if not champion_metrics:
        promoted, reason = True, f"no champion yet: the new model becomes champion ({label} {candidate['fid']:.4g})"
    elif (champion_metrics["backbone"]["weights_fingerprint"] != candidate["backbone"]["weights_fingerprint"]
          or champion_metrics["real_statistics_key"] != candidate["real_statistics_key"]):
        promoted, reason = False, "champion and candidate were not scored on the same backbone and real statistics"
    else:
        threshold = champion_metrics["fid"] * (1.0 - margin)
        promoted = candidate["fid"] < threshold
        verdict = "beats" if promoted else "does not beat"
        reason = (f"candidate {label} {candidate['fid']:.4g} {verdict} the champion's {champion_metrics['fid']:.4g} "
                  f"by the required margin of {margin:.1%} (threshold {threshold:.4g})")
    decision = {
        "variant": candidate["variant"],
        "run_id": run_info.get("run_id"),
        "decided_at": now,
        "promoted": promoted,
        "reason": reason,
        "margin": margin,
        "candidate": _summary(candidate),
        "champion": _summary(champion_metrics) if champion_metrics else None,
    }
    logger.info("Promotion decision for '%s': %s — %s.", candidate["variant"],
                "PROMOTED" if promoted else "kept the champion", reason)
    updated = copy.deepcopy(registry) if registry else {"variant": candidate["variant"], "decisions": []}
    updated.setdefault("decisions", []).append({k: decision[k] for k in ("run_id", "decided_at", "promoted", "reason")})
    if promoted:
        updated["champion"] = {
            **_summary(candidate),
            "promoted_at": now,
            "data_version": run_info.get("load_versions", {}).get("model_input") or run_info.get("run_id"),
        }
    return updated, decision


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("checkpoint_version", "run_id", "epoch", "score_label", "fid", "kid", "kid_std", "precision", "recall",
            "n_samples", "n_real", "real_statistics_key", "data_fingerprint")
    return {**{key: metrics.get(key) for key in keys}, "backbone": metrics.get("backbone")}
