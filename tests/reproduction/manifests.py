"""Run manifests as the project writes them, from the shipped configuration."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import torch
from kedro.config import OmegaConfigLoader

from ganforge.gan import DOMAINS, domains_of, resolve_experiment_config
from ganforge.pipelines.evaluation.nodes import configure_evaluation
from ganforge.pipelines.training.nodes import write_run_manifest

REPO = Path(__file__).resolve().parents[2]
RUN_ID = "2026-12-07T11.51.28.945Z"


@functools.cache
def shipped_params() -> dict[str, Any]:
    """conf/base's parameters, as `kedro run` reads them."""
    loader = OmegaConfigLoader(conf_source=str(REPO / "conf"), base_env="base", default_run_env="base",
                               merge_strategy={"parameters": "soft"})
    return loader["parameters"]


def shipped_manifest(variant: str, project: Path | None = None) -> dict[str, Any]:
    """The manifest ``write_run_manifest`` writes for a run of ``variant`` on its shipped settings
    (the data and training records are stand-ins), as read back from JSON."""
    params = shipped_params()
    config = resolve_experiment_config(params["training_defaults"], params[variant]["variant"])
    config["evaluation"] = configure_evaluation(params["evaluation"], params[variant]["variant"])
    data = {"images": torch.zeros(4, 1, 8, 8, dtype=torch.uint8), "fingerprint": "0123abcd", "source": "mnist_builtin"}
    two_domain = domains_of(variant) == 2
    model_input = {"fingerprint": "0123abcd", "domains": {domain: data for domain in DOMAINS}} if two_domain else data
    run_info = {
        "run_id": RUN_ID, "pipeline_name": variant, "command": f"kedro run --pipeline={variant}",
        "data_parameters": params["data"], "load_versions": {},
        "domain_data_parameters": {variant: {domain: params[variant][domain]["data"] for domain in DOMAINS}}
        if two_domain else {},
        "project_path": str(project) if project else None,
    }
    training_info = {"device": "cpu", "epochs": config["training"]["epochs"], "checkpoint_digest": "89abcdef01234567",
                     "warm_start": None}
    return json.loads(json.dumps(write_run_manifest(config, model_input, training_info, run_info)))
