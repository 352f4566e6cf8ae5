"""``kedro run --pipeline=retrain_<variant>`` (or ``retrain`` for all): ingest and validate the
newest data, warm-start from the champion, train, score both, promote or keep."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import decide_promotion, load_champion, score_champion


def create_promotion_pipeline() -> Pipeline:
    """Used inside a variant's namespace, next to the warm-started training pipeline."""
    return Pipeline(
        [
            Node(load_champion, ["champion_registry", "checkpoint_versions"], "champion", name="load_champion"),
            Node(score_champion,
                 ["champion", "experiment_config", "feature_backbone", "real_statistics", "run_info"],
                 "champion_metrics", name="score_champion"),
            Node(decide_promotion, ["metrics", "champion_metrics", "champion_registry", "params:retrain", "run_info"],
                 ["champion_registry_update", "promotion_decision"], name="decide_promotion"),
        ],
        tags={"retrain"},
    )
