"""Champion/challenger: the current champion is re-scored by the scoring pipeline (under the
``champion`` namespace) on the same backbone and real statistics as the new model, and the new one
is promoted only if it wins by the configured margin. The champion lives in MLflow's model registry
(``{variant}.champion_registry``: the version behind the ``champion`` alias)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ganforge.metrics import PRIMARY, metric_columns

logger = logging.getLogger(__name__)

CHECKPOINT_PARTITION = "{version}/checkpoint"


def load_champion(
    entry: dict[str, Any], checkpoint_versions: dict[str, Callable[[], Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The champion's registry record and checkpoint, or ``({}, {})`` when there is none yet."""
    if not entry:
        return {}, {}
    key = CHECKPOINT_PARTITION.format(version=entry["checkpoint_version"])
    if key not in checkpoint_versions:
        logger.warning(
            "The champion's checkpoint version %s is missing; treating the variant as having no champion.",
            entry["checkpoint_version"],
        )
        return {}, {}
    return entry, checkpoint_versions[key]()


def decide_promotion(
    candidate: dict[str, Any],
    champion_metrics: dict[str, Any],
    champion_entry: dict[str, Any],
    retrain: dict[str, Any],
    run_info: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The update for the model registry (``promoted``, ``reason`` and the new ``champion``'s
    record when promoted) and the decision record with its reason."""
    margin = float(retrain.get("promotion_margin", 0.0))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    label = candidate["score_label"]
    if champion_metrics:
        champion_metrics = {**champion_metrics, "checkpoint_version": champion_entry["checkpoint_version"]}
    promoted, reason = _verdict(candidate, champion_metrics, margin, label,
                                bool(retrain.get("promote_unchanged_data", False)))
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
    champion = {
        **_summary(candidate),
        "promoted_at": now,
        "data_version": run_info.get("load_versions", {}).get("model_input") or run_info.get("run_id"),
    } if promoted else None
    return {"promoted": promoted, "reason": reason, "champion": champion}, decision


def _verdict(candidate: dict[str, Any], champion: dict[str, Any], margin: float, label: str,
             promote_unchanged_data: bool = False) -> tuple[bool, str]:
    if candidate.get(PRIMARY) is None:
        return False, "the candidate has no score (evaluation.backbone: none); nothing to compare"
    if not champion:
        return True, f"no champion yet: the new model becomes champion ({label} {candidate[PRIMARY]:.4g})"
    # A scheduled run without new data only trains the champion longer on what it has seen: a score
    # won that way is not a reason to replace a model that users already serve.
    fingerprint = candidate.get("data_fingerprint")
    if not promote_unchanged_data and fingerprint is not None and fingerprint == champion.get("data_fingerprint"):
        return False, ("the data has not changed since the champion was trained (fingerprint "
                       f"{str(fingerprint)[:12]}): retrained without promoting "
                       "(retrain.promote_unchanged_data: true promotes on a win)")
    if (champion["backbone"]["weights_fingerprint"] != candidate["backbone"]["weights_fingerprint"]
            or champion["real_statistics_key"] != candidate["real_statistics_key"]
            or champion["n_samples"] != candidate["n_samples"]):
        return False, "champion and candidate were not scored on the same backbone, real statistics and sample count"
    threshold = champion[PRIMARY] * (1.0 - margin)
    promoted = candidate[PRIMARY] < threshold
    verdict = "beats" if promoted else "does not beat"
    return promoted, (f"candidate {label} {candidate[PRIMARY]:.4g} {verdict} the champion's {champion[PRIMARY]:.4g} "
                      f"by the required margin of {margin:.1%} (threshold {threshold:.4g})")


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("checkpoint_version", "run_id", "epoch", "score_label", *metric_columns(), "n_samples", "n_real",
            "real_statistics_key", "data_fingerprint")
    return {**{key: metrics.get(key) for key in keys}, "backbone": metrics.get("backbone")}
