"""Project pipelines: the data pipeline, one experiment pipeline per registered GAN variant,
rescoring, retraining and the comparison report."""

from __future__ import annotations

import os
from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.pipeline import Pipeline

from ganforge.gan import DOMAINS, VARIANTS, domains_of
from ganforge.pipelines import data_processing
from ganforge.pipelines.compare.pipeline import create_pipeline as create_compare_pipeline
from ganforge.pipelines.experiment import (
    create_experiment_pipeline,
    create_generation_pipeline,
    create_rescoring_pipeline,
    create_retraining_pipeline,
    create_sweep_pipeline,
    create_two_domain_experiment_pipeline,
    create_two_domain_rescoring_pipeline,
    create_two_domain_retraining_pipeline,
)

DEFAULT_SWEEP_SEEDS = [1, 2, 3]


def sweep_seeds() -> list[int]:
    """``sweep.seeds`` from the project's parameters files (base, then the run environment,
    ``KEDRO_ENV`` or local): the members of a sweep are pipelines, built before a run's --params
    are known."""
    conf = Path.cwd() / "conf"
    if not conf.is_dir():
        return DEFAULT_SWEEP_SEEDS
    loader = OmegaConfigLoader(conf_source=str(conf), base_env="base", default_run_env="local",
                               env=os.environ.get("KEDRO_ENV"), merge_strategy={"parameters": "soft"})
    seeds = (loader["parameters"].get("sweep") or {}).get("seeds") or DEFAULT_SWEEP_SEEDS
    return [int(seed) for seed in seeds]


def register_pipelines() -> dict[str, Pipeline]:
    data = data_processing.create_pipeline()
    variants = VARIANTS.names()
    pipelines: dict[str, Pipeline] = {"data_processing": data}
    one_domain = [variant for variant in variants if domains_of(variant) == 1]
    for variant in one_domain:
        pipelines[variant] = data + create_experiment_pipeline(variant)
        # re-score a saved checkpoint: --load-versions=<variant>.checkpoint:<version>
        pipelines[f"{variant}_score"] = create_rescoring_pipeline(variant)
        # scheduled batch retraining with champion promotion
        pipelines[f"retrain_{variant}"] = data + create_retraining_pipeline(variant)
        # images from the champion, the latest or a named checkpoint: generate.checkpoint
        pipelines[f"generate_{variant}"] = create_generation_pipeline(variant)
        # the variant once per seed of sweep.seeds, side by side, summarized as mean ± std
        pipelines[f"sweep_{variant}"] = data + create_sweep_pipeline(variant, sweep_seeds())
    two_domain = [variant for variant in variants if variant not in one_domain]
    for variant in two_domain:
        # each domain through the data pipeline under <variant>.domain_a / <variant>.domain_b
        domain_data = sum((data_processing.create_domain_pipeline(variant, domain) for domain in DOMAINS),
                          Pipeline([]))
        pipelines[variant] = domain_data + create_two_domain_experiment_pipeline(variant)
        pipelines[f"{variant}_score"] = create_two_domain_rescoring_pipeline(variant)
        pipelines[f"retrain_{variant}"] = domain_data + create_two_domain_retraining_pipeline(variant)
        if VARIANTS[variant].scoring == "pairs":  # a translator has no noise to generate from
            pipelines[f"generate_{variant}"] = create_generation_pipeline(variant)
    pipelines["retrain"] = sum((pipelines[f"retrain_{variant}"] for variant in variants), Pipeline([]))
    pipelines["compare"] = create_compare_pipeline(one_domain, two_domain)
    everything = sum((pipelines[variant] for variant in variants), Pipeline([]))
    pipelines["__default__"] = everything + pipelines["compare"]
    return pipelines
