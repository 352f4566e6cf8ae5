"""Project pipelines: the data pipeline, one experiment pipeline per GAN variant, rescoring,
and the comparison report."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from ganforge.pipelines import data_processing
from ganforge.pipelines.compare.pipeline import create_pipeline as create_compare_pipeline
from ganforge.pipelines.evaluation.pipeline import create_feature_pipeline
from ganforge.pipelines.experiment import (
    VARIANTS,
    create_experiment_pipeline,
    create_rescoring_pipeline,
    create_retraining_pipeline,
)


def register_pipelines() -> dict[str, Pipeline]:
    data = data_processing.create_pipeline()
    features = create_feature_pipeline()
    pipelines: dict[str, Pipeline] = {"data_processing": data}
    for variant in VARIANTS:
        pipelines[variant] = data + features + create_experiment_pipeline(variant)
        # re-score a saved checkpoint: --load-versions=<variant>.checkpoint:<version>
        pipelines[f"{variant}_score"] = features + create_rescoring_pipeline(variant)
        # scheduled batch retraining with champion promotion
        pipelines[f"retrain_{variant}"] = data + features + create_retraining_pipeline(variant)
    pipelines["retrain"] = sum((pipelines[f"retrain_{variant}"] for variant in VARIANTS), Pipeline([]))
    pipelines["compare"] = create_compare_pipeline(VARIANTS)
    everything = sum((pipelines[variant] for variant in VARIANTS), Pipeline([]))
    pipelines["__default__"] = everything + pipelines["compare"]
    return pipelines
