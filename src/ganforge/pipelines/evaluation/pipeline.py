"""Evaluation, used inside a variant's namespace: resolve the evaluation settings, prepare the
backbone and the real statistics (cached), sample from the checkpoint and score it."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import (
    configure_evaluation,
    evaluate_samples,
    prepare_real_features,
    render_sample_grid,
    render_style_mixing_grid,
    render_truncation_sweep,
    sample_images,
    score_training_curve,
)
from .pairs import evaluate_pairs, render_pair_grid, sample_pairs
from .translation import evaluate_translation, render_translation_grid, translate_domains


def create_feature_pipeline(domains: tuple[str, ...] = ()) -> Pipeline:
    """The variant's evaluation settings, its backbone and the real data's statistics; with
    ``domains``, each domain's (``<domain>.feature_backbone``, ...) from ``<domain>.model_input``,
    by the same node under the domain's namespace."""
    configure = Node(configure_evaluation, ["params:evaluation", "params:variant"], "evaluation_config",
                     name="configure_evaluation")
    prepare = Pipeline([Node(prepare_real_features, ["model_input", "evaluation_config", "feature_cache"],
                             ["feature_backbone", "real_statistics", "feature_cache_updates"],
                             name="prepare_real_features")])
    if domains:
        prepare = sum((Pipeline(prepare, namespace=domain, inputs={"evaluation_config", "feature_cache"})
                       for domain in domains), Pipeline([]))
    return Pipeline([configure, prepare], tags={"evaluation"})


#: the pictures a variant may ask for beyond the sample and truncation grids (``Variant.grids``),
#: each saved as ``<name>_grid``
EXTRA_GRIDS = {"style_mixing": render_style_mixing_grid}


def create_scoring_pipeline(grid: bool = True, extra_grids: tuple[str, ...] = ()) -> Pipeline:
    """Sample from ``checkpoint`` and score the samples (and draw their grid, and ``extra_grids``
    of :data:`EXTRA_GRIDS`)."""
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
        nodes += [Node(EXTRA_GRIDS[name], ["checkpoint", "evaluation_config"], f"{name}_grid",
                       name=f"render_{name}_grid") for name in extra_grids]
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


#: what two-domain scoring may read of each domain
DOMAIN_INPUTS = [name for domain in ("domain_a", "domain_b") for name in (
    f"{domain}.model_input", f"{domain}.feature_backbone", f"{domain}.real_statistics")]
_BACKBONES_AND_STATISTICS = ["domain_a.feature_backbone", "domain_b.feature_backbone", "domain_a.real_statistics",
                             "domain_b.real_statistics"]


def create_translation_scoring_pipeline(grid: bool = True) -> Pipeline:
    """Translate each domain's images with ``checkpoint``, score them on the target domain's
    backbone (and draw the translation grid)."""
    domains = ["domain_a.model_input", "domain_b.model_input"]
    nodes = [
        Node(translate_domains, ["checkpoint", *domains, "evaluation_config"], "samples", name="translate"),
        Node(evaluate_translation, ["samples", *_BACKBONES_AND_STATISTICS, "evaluation_config", "run_info"],
             "metrics", name="evaluate"),
    ]
    if grid:
        nodes.append(Node(render_translation_grid, ["checkpoint", *domains, "evaluation_config"], "sample_grid",
                          name="render_translation_grid"))
    return Pipeline(nodes, tags={"evaluation"})


def create_pair_scoring_pipeline(grid: bool = True) -> Pipeline:
    """Draw pairs from ``checkpoint``, score each domain on its own backbone and the pairs'
    agreement (and draw the pair grid)."""
    nodes = [
        Node(sample_pairs, ["checkpoint", "evaluation_config"], "samples", name="sample_pairs"),
        Node(evaluate_pairs, ["samples", *_BACKBONES_AND_STATISTICS, "evaluation_config", "run_info"], "metrics",
             name="evaluate"),
    ]
    if grid:
        nodes.append(Node(render_pair_grid, ["checkpoint", "evaluation_config"], "sample_grid",
                          name="render_pair_grid"))
    return Pipeline(nodes, tags={"evaluation"})
