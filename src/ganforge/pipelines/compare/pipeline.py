"""``kedro run --pipeline=compare``: the report across variants (latest versions, or the ones
named with --load-versions)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from .nodes import (
    comparison_markdown,
    comparison_table,
    sample_grids_figure,
    score_versus_epoch_plot,
    sweep_table,
    time_to_quality,
    two_domain_table,
)

# The report reads the variants' namespaced datasets (e.g. ``wgan.metrics``) on purpose.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.'", category=UserWarning)


def create_pipeline(variants: Sequence[str], two_domain_variants: Sequence[str] = ()) -> Pipeline:
    """The rankings of ``variants`` and, in a section of its own, the two-domain variants."""
    metrics = {variant: f"{variant}.metrics" for variant in variants}
    curves = {variant: f"{variant}.score_curve" for variant in variants}
    grids = {variant: f"{variant}.sample_grid" for variant in [*variants, *two_domain_variants]}
    two_domain = {variant: f"{variant}.metrics" for variant in two_domain_variants}
    sweeps = {variant: f"{variant}.sweep_summary" for variant in variants}
    return Pipeline(
        [
            Node(comparison_table, metrics, "comparison_table", name="comparison_table"),
            Node(two_domain_table, two_domain, "two_domain_table", name="two_domain_table"),
            Node(time_to_quality, curves, "time_to_quality", name="time_to_quality"),
            Node(sweep_table, sweeps, "sweep_table", name="sweep_table"),
            Node(comparison_markdown, ["comparison_table", "time_to_quality", "two_domain_table", "sweep_table"],
                 "comparison_report", name="comparison_report"),
            Node(score_versus_epoch_plot, curves, "score_versus_epoch", name="score_versus_epoch_plot"),
            Node(sample_grids_figure, {"table": "comparison_table", **grids}, "sample_grids",
                 name="sample_grids_figure"),
        ],
        tags={"compare"},
    )
