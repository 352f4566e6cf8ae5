"""A sweep member: the experiment's training and scoring, configured by the variant's settings
with the member's seed (namespaced per member in ``pipelines/experiment.py``)."""

from __future__ import annotations

from functools import partial

from kedro.pipeline import Node, Pipeline

from .nodes import seeded_variant, summarize_sweep


def create_member_settings(seed: int) -> Pipeline:
    return Pipeline([Node(partial(seeded_variant, seed=seed), "params:variant", "variant_settings",
                          name="seeded_variant")], tags={"sweep"})


def create_summary_pipeline(members: dict[str, str]) -> Pipeline:
    """``members``: member name → its metrics dataset."""
    return Pipeline([Node(summarize_sweep, members, "sweep_summary", name="summarize_sweep")], tags={"sweep"})
