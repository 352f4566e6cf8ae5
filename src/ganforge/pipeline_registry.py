"""Project pipelines: the data pipeline, one experiment pipeline per GAN variant, and the report."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from ganforge.pipelines import data_processing
from ganforge.pipelines.training import VARIANTS, create_experiment_pipeline


def register_pipelines() -> dict[str, Pipeline]:
    data = data_processing.create_pipeline()
    pipelines: dict[str, Pipeline] = {"data_processing": data}
    for variant in VARIANTS:
        pipelines[variant] = data + create_experiment_pipeline(variant)
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
