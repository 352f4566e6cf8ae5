"""One experiment pipeline per GAN variant: train, sample and score, under a Kedro namespace.

The variants are those the GAN library registers (``ganforge.gan.VARIANTS``); each has a
``conf/base/parameters_<name>.yml`` with a ``<name>.variant`` section. The loop, the catalog
entries ({variant}.* dataset factories) and the reports are shared. A two-domain variant reads
``<variant>_data.domain_a.model_input`` and ``<variant>_data.domain_b.model_input`` (the data
pipeline under those namespaces), pairs them for training and is scored by its own kind of scoring.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from ganforge.gan import DOMAINS, VARIANTS, pair_domains
from ganforge.pipelines.data_processing import domain_namespace
from ganforge.pipelines.evaluation.pipeline import (
    DOMAIN_INPUTS,
    create_curve_pipeline,
    create_feature_pipeline,
    create_pair_scoring_pipeline,
    create_scoring_pipeline,
    create_translation_scoring_pipeline,
)
from ganforge.pipelines.generation.pipeline import create_pipeline as create_generation_nodes
from ganforge.pipelines.retraining.pipeline import create_champion_pipeline, create_promotion_pipeline
from ganforge.pipelines.sweep.pipeline import create_member_settings, create_summary_pipeline
from ganforge.pipelines.tracking.pipeline import create_pipeline as create_tracking_pipeline
from ganforge.pipelines.training.pipeline import create_training_pipeline

# Datasets and parameters every variant shares rather than namespacing them.
SHARED_INPUTS = {"model_input", "run_info", "feature_cache"}
SHARED_PARAMETERS = {"params:training_defaults", "params:evaluation", "params:retrain", "params:generate"}
#: what the champion's re-scoring takes from the variant's own namespace
CHAMPION_INPUTS = {"checkpoint": "champion_checkpoint", "feature_backbone": "feature_backbone",
                   "real_statistics": "real_statistics", "evaluation_config": "evaluation_config",
                   "run_info": "run_info"}


def _namespaced(pipeline: Pipeline, variant: str) -> Pipeline:
    pipeline += create_tracking_pipeline(pipeline.all_outputs())  # metric histories to MLflow
    # a two-domain variant reads each domain's model_input from that domain's data namespace
    domains = {f"{domain}.model_input": f"{domain_namespace(variant, domain)}.model_input" for domain in DOMAINS}
    return Pipeline(
        pipeline,
        namespace=variant,
        inputs={**{name: name for name in SHARED_INPUTS & pipeline.inputs()},
                **{name: outside for name, outside in domains.items() if name in pipeline.inputs()}},
        parameters=SHARED_PARAMETERS & pipeline.inputs(),
        tags={variant},
    )


def create_experiment_pipeline(variant: str) -> Pipeline:
    """Train, sample and score one variant: parameters come from ``params:<variant>.variant``
    and artifacts are ``<variant>.*`` in the catalog."""
    return _namespaced(
        create_feature_pipeline() + create_training_pipeline() + _sample_scoring(variant) + create_curve_pipeline(),
        variant,
    )


def _sample_scoring(variant: str) -> Pipeline:
    """The scoring of a one-domain variant, with the extra grids it draws."""
    return create_scoring_pipeline(extra_grids=VARIANTS[variant].grids)


def sweep_member(seed: int) -> str:
    return f"seed_{seed}"


def create_sweep_pipeline(variant: str, seeds: list[int]) -> Pipeline:
    """The variant trained and scored once per seed, each member a namespace of its own
    (``<variant>.seed_<s>.*``: checkpoint, grids, scores, manifest) sharing the data, backbone and
    real statistics, so nothing ties the members together and Airflow runs them side by side;
    then the mean ± std of their scores (``<variant>.sweep_summary``)."""
    shared = {"model_input", "run_info", "feature_cache", "evaluation_config", "feature_backbone", "real_statistics"}
    members = Pipeline([])
    for seed in seeds:
        member = (create_member_settings(seed) + create_training_pipeline(variant_settings="variant_settings")
                  + _sample_scoring(variant) + create_curve_pipeline())
        member += create_tracking_pipeline(member.all_outputs())
        members += Pipeline(member, namespace=sweep_member(seed), inputs=shared & member.inputs(),
                            parameters={"params:variant", *SHARED_PARAMETERS} & member.inputs())
    summary = create_summary_pipeline({sweep_member(seed): f"{sweep_member(seed)}.metrics" for seed in seeds})
    sweep = create_feature_pipeline() + members + summary
    return Pipeline(sweep, namespace=variant, inputs=SHARED_INPUTS & sweep.inputs(),
                    parameters=SHARED_PARAMETERS & sweep.inputs(), tags={variant})


def create_rescoring_pipeline(variant: str) -> Pipeline:
    """Sample and score a saved checkpoint without retraining; choose the version with
    ``--load-versions=<variant>.checkpoint:<version>``."""
    return _namespaced(create_feature_pipeline() + _sample_scoring(variant), variant)


def create_generation_pipeline(variant: str) -> Pipeline:
    """Images from a trained variant (its champion, latest or a named checkpoint version), no training."""
    return _namespaced(create_generation_nodes(), variant)


def create_retraining_pipeline(variant: str) -> Pipeline:
    """Scheduled retraining of one variant: warm start from its champion, train, score the new
    model and (with the same scoring pipeline, namespaced) the champion, promote only on a win.
    The champion registry is per variant, so variants never race."""
    champion_scoring = Pipeline(create_scoring_pipeline(grid=False), namespace="champion",
                                inputs=CHAMPION_INPUTS)
    return _namespaced(
        create_champion_pipeline() + create_feature_pipeline() + create_training_pipeline(warm_start=True)
        + _sample_scoring(variant) + create_curve_pipeline() + champion_scoring + create_promotion_pipeline(),
        variant,
    )


def _pair_domains_pipeline() -> Pipeline:
    return Pipeline([Node(pair_domains, [f"{domain}.model_input" for domain in DOMAINS], "model_input",
                          name="pair_domains")], tags={"training"})


#: how a two-domain variant is scored, by ``Variant.scoring``
TWO_DOMAIN_SCORING = {"translations": create_translation_scoring_pipeline, "pairs": create_pair_scoring_pipeline}


def _scoring(variant: str, grid: bool = True) -> Pipeline:
    return TWO_DOMAIN_SCORING[VARIANTS[variant].scoring](grid=grid)


def create_two_domain_experiment_pipeline(variant: str) -> Pipeline:
    """Train and score a two-domain variant (CycleGAN, CoGAN) on each domain's model_input."""
    return _namespaced(
        _pair_domains_pipeline() + create_feature_pipeline(DOMAINS) + create_training_pipeline() + _scoring(variant),
        variant,
    )


def create_two_domain_rescoring_pipeline(variant: str) -> Pipeline:
    """Score a saved checkpoint of a two-domain variant without retraining."""
    return _namespaced(create_feature_pipeline(DOMAINS) + _scoring(variant), variant)


def create_two_domain_retraining_pipeline(variant: str) -> Pipeline:
    """Scheduled retraining of a two-domain variant, as :func:`create_retraining_pipeline`: the
    champion is scored on the same domains, backbones and statistics."""
    scoring = _scoring(variant, grid=False)
    champion_scoring = Pipeline(
        scoring, namespace="champion",
        inputs={"checkpoint": "champion_checkpoint", "evaluation_config": "evaluation_config", "run_info": "run_info",
                **{name: name for name in DOMAIN_INPUTS if name in scoring.inputs()}})
    return _namespaced(
        create_champion_pipeline() + _pair_domains_pipeline() + create_feature_pipeline(DOMAINS)
        + create_training_pipeline(warm_start=True) + _scoring(variant) + champion_scoring
        + create_promotion_pipeline(),
        variant,
    )
