"""Evaluation: a shared node prepares the backbone and real statistics (cached); each variant's
namespace samples from its checkpoint and scores the samples."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_samples, prepare_real_features, sample_images, score_training_curve


def create_feature_pipeline() -> Pipeline:
    """Shared by every variant: the backbone and the real data's features, cached in the catalog."""
    return Pipeline(
        [
            Node(
                prepare_real_features,
                ["model_input", "params:evaluation", "feature_cache"],
                ["feature_backbone", "real_statistics", "feature_cache_updates"],
                name="prepare_real_features",
            )
        ],
        tags={"evaluation"},
    )


def create_scoring_pipeline() -> Pipeline:
    """Per variant (used inside its namespace): sample from the checkpoint and score it."""
    return Pipeline(
        [
            Node(sample_images, "checkpoint", ["samples", "sample_grid"], name="sample"),
            Node(
                evaluate_samples,
                ["samples", "checkpoint", "feature_backbone", "real_statistics", "run_info"],
                "metrics",
                name="evaluate",
            ),
        ],
        tags={"evaluation"},
    )


def create_curve_pipeline() -> Pipeline:
    """Per variant: scores of intermediate generators (evaluation.every_n_epochs)."""
    return Pipeline(
        [
            Node(
                score_training_curve,
                ["generator_snapshots", "checkpoint", "feature_backbone", "real_statistics"],
                "score_curve",
                name="score_training_curve",
            )
        ],
        tags={"evaluation"},
    )
