"""Used inside a variant's namespace: whichever of training history, score curve and scores the
variant's pipeline makes is also logged to MLflow, through the ``{variant}.*_metrics`` datasets."""

from __future__ import annotations

from collections.abc import Collection

from kedro.pipeline import Node, Pipeline

from .nodes import curve_metrics, history_metrics, score_metrics

#: the dataset each node reads → the node and the MLflow dataset it writes
_TRACKED = {
    "training_history": (history_metrics, "training_metrics"),
    "score_curve": (curve_metrics, "curve_metrics"),
    "metrics": (score_metrics, "score_metrics"),
}


def create_pipeline(made: Collection[str]) -> Pipeline:
    """Tracking nodes for the datasets in ``made`` (a pipeline's outputs)."""
    return Pipeline(
        [Node(function, source, target, name=f"log_{target}")
         for source, (function, target) in _TRACKED.items() if source in made],
        tags={"tracking"},
    )
