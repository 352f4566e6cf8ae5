"""Project pipelines: the data pipeline, one experiment pipeline per registered GAN variant,
rescoring, retraining and the comparison report."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from ganforge.gan import VARIANTS
from ganforge.pipelines import data_processing
from ganforge.pipelines.compare.pipeline import create_pipeline as create_compare_pipeline
from ganforge.pipelines.experiment import (
    create_experiment_pipeline,
    create_rescoring_pipeline,
    create_retraining_pipeline,
)


def register_pipelines() -> dict[str, Pipeline]:
    data = data_processing.create_pipeline()
    variants = VARIANTS.names()
    pipelines: dict[str, Pipeline] = {"data_processing": data}
    for variant in variants:
        pipelines[variant] = data + create_experiment_pipeline(variant)
        # re-score a saved checkpoint: --load-versions=<variant>.checkpoint:<version>
        pipelines[f"{variant}_score"] = create_rescoring_pipeline(variant)
        # scheduled batch retraining with champion promotion
        pipelines[f"retrain_{variant}"] = data + create_retraining_pipeline(variant)
    pipelines["retrain"] = sum((pipelines[f"retrain_{variant}"] for variant in variants), Pipeline([]))
    pipelines["compare"] = create_compare_pipeline(variants)
    everything = sum((pipelines[variant] for variant in variants), Pipeline([]))
    pipelines["__default__"] = everything + pipelines["compare"]
    return pipelines
