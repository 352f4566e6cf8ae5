"""One experiment pipeline per GAN variant: train, sample and score, under a Kedro namespace.

Adding a variant is configuration: a conf/base/parameters_<name>.yml with a ``<name>.variant``
section and the name in :data:`VARIANTS`. The loop, the catalog entries ({variant}.* dataset
factories) and the reports are shared.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from ganforge.pipelines.evaluation.pipeline import create_curve_pipeline, create_scoring_pipeline
from ganforge.pipelines.retraining.pipeline import create_promotion_pipeline
from ganforge.pipelines.training.pipeline import create_training_pipeline

VARIANTS = ("gan", "dcgan", "wgan", "wgan_gp", "cgan")

# Datasets and parameters every variant shares rather than namespacing them.
SHARED_INPUTS = {"model_input", "run_info", "feature_backbone", "real_statistics"}
SHARED_PARAMETERS = {"params:training_defaults", "params:evaluation", "params:retrain"}


def _namespaced(pipeline: Pipeline, variant: str) -> Pipeline:
    return Pipeline(
        pipeline,
        namespace=variant,
        inputs=SHARED_INPUTS & pipeline.inputs(),
        parameters=SHARED_PARAMETERS & pipeline.inputs(),
        tags={variant},
    )


def create_experiment_pipeline(variant: str) -> Pipeline:
    """Train, sample and score one variant: parameters come from ``params:<variant>.variant``
    and artifacts are ``<variant>.*`` in the catalog."""
    return _namespaced(
        create_training_pipeline() + create_scoring_pipeline() + create_curve_pipeline(), variant
    )


def create_rescoring_pipeline(variant: str) -> Pipeline:
    """Sample and score a saved checkpoint without retraining; choose the version with
    ``--load-versions=<variant>.checkpoint:<version>``."""
    return _namespaced(create_scoring_pipeline(), variant)


def create_retraining_pipeline(variant: str) -> Pipeline:
    """Scheduled retraining of one variant: warm start from its champion, train, score, and
    promote only on a win (the champion registry is per variant, so variants never race)."""
    return _namespaced(
        create_training_pipeline(warm_start=True) + create_scoring_pipeline() + create_curve_pipeline()
        + create_promotion_pipeline(),
        variant,
    )
