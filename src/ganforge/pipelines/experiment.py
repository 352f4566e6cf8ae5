"""One experiment pipeline per GAN variant: train, sample and score, under a Kedro namespace.

The variants are those the GAN library registers (``ganforge.gan.VARIANTS``); each has a
``conf/base/parameters_<name>.yml`` with a ``<name>.variant`` section. The loop, the catalog
entries ({variant}.* dataset factories) and the reports are shared.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from ganforge.pipelines.evaluation.pipeline import (
    create_curve_pipeline,
    create_feature_pipeline,
    create_scoring_pipeline,
)
from ganforge.pipelines.retraining.pipeline import create_champion_pipeline, create_promotion_pipeline
from ganforge.pipelines.training.pipeline import create_training_pipeline

# Datasets and parameters every variant shares rather than namespacing them.
SHARED_INPUTS = {"model_input", "run_info", "feature_cache"}
SHARED_PARAMETERS = {"params:training_defaults", "params:evaluation", "params:retrain"}
#: what the champion's re-scoring takes from the variant's own namespace
CHAMPION_INPUTS = {"checkpoint": "champion_checkpoint", "feature_backbone": "feature_backbone",
                   "real_statistics": "real_statistics", "evaluation_config": "evaluation_config",
                   "run_info": "run_info"}


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
        create_feature_pipeline() + create_training_pipeline() + create_scoring_pipeline() + create_curve_pipeline(),
        variant,
    )


def create_rescoring_pipeline(variant: str) -> Pipeline:
    """Sample and score a saved checkpoint without retraining; choose the version with
    ``--load-versions=<variant>.checkpoint:<version>``."""
    return _namespaced(create_feature_pipeline() + create_scoring_pipeline(), variant)


def create_retraining_pipeline(variant: str) -> Pipeline:
    """Scheduled retraining of one variant: warm start from its champion, train, score the new
    model and (with the same scoring pipeline, namespaced) the champion, promote only on a win.
    The champion registry is per variant, so variants never race."""
    champion_scoring = Pipeline(create_scoring_pipeline(grid=False), namespace="champion",
                                inputs=CHAMPION_INPUTS)
    return _namespaced(
        create_champion_pipeline() + create_feature_pipeline() + create_training_pipeline(warm_start=True)
        + create_scoring_pipeline() + create_curve_pipeline() + champion_scoring + create_promotion_pipeline(),
        variant,
    )
