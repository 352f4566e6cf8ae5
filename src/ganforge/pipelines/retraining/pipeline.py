"""``kedro run --pipeline=retrain_<variant>`` (or ``retrain`` for all): ingest and validate the
newest data, warm-start from the champion, train, score both, promote or keep."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import decide_promotion, load_champion


def create_champion_pipeline() -> Pipeline:
    """Used inside a variant's namespace: find the champion (before training, which may warm-start
    from it)."""
    return Pipeline(
        [Node(load_champion, ["champion_registry", "checkpoint_versions"], ["champion_entry", "champion_checkpoint"],
              name="load_champion")],
        tags={"retrain"},
    )


def create_promotion_pipeline() -> Pipeline:
    """Used inside a variant's namespace, after the new model and the champion were scored."""
    return Pipeline(
        [
            Node(decide_promotion,
                 ["metrics", "champion.metrics", "champion_entry", "params:retrain", "run_info"],
                 ["champion_registry_update", "promotion_decision"], name="decide_promotion"),
        ],
        tags={"retrain"},
    )
