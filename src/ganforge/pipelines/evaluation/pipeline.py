"""Evaluation, used inside a variant's namespace: resolve the evaluation settings, prepare the
backbone and the real statistics (cached), sample from the checkpoint and score it."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import (
    configure_evaluation,
    evaluate_samples,
    prepare_real_features,
    render_sample_grid,
    render_truncation_sweep,
    sample_images,
    score_training_curve,
)


def create_feature_pipeline() -> Pipeline:
    """The variant's evaluation settings, its backbone and the real data's statistics."""
    return Pipeline(
        [
            Node(configure_evaluation, ["params:evaluation", "params:variant"], "evaluation_config",
                 name="configure_evaluation"),
            Node(prepare_real_features, ["model_input", "evaluation_config", "feature_cache"],
                 ["feature_backbone", "real_statistics", "feature_cache_updates"], name="prepare_real_features"),
        ],
        tags={"evaluation"},
    )


def create_scoring_pipeline(grid: bool = True) -> Pipeline:
    """Sample from ``checkpoint`` and score the samples (and draw their grid)."""
    nodes = [
        Node(sample_images, ["checkpoint", "feature_backbone", "evaluation_config"], "samples", name="sample"),
        Node(evaluate_samples, ["samples", "feature_backbone", "real_statistics", "evaluation_config", "run_info"],
             "metrics", name="evaluate"),
    ]
    if grid:
        nodes.append(Node(render_sample_grid, ["checkpoint", "evaluation_config"], "sample_grid",
                          name="render_sample_grid"))
        nodes.append(Node(render_truncation_sweep, ["checkpoint", "evaluation_config"], "truncation_grid",
                          name="render_truncation_sweep"))
    return Pipeline(nodes, tags={"evaluation"})


def create_curve_pipeline() -> Pipeline:
    """Scores of intermediate generators (evaluation.every_n_epochs)."""
    return Pipeline(
        [
            Node(score_training_curve,
                 ["generator_snapshots", "checkpoint", "feature_backbone", "real_statistics", "evaluation_config"],
                 "score_curve", name="score_training_curve")
        ],
        tags={"evaluation"},
    )
