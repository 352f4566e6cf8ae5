"""What a run records about itself: the pipeline that ran, and no folder of the machine that ran it."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import pytest
import torch
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from ganforge.gan import resolve_experiment_config
from ganforge.hooks import GanForgeHooks
from ganforge.pipelines.training.nodes import write_run_manifest
from tests.reproduction.manifests import shipped_params


def run_info_of(run_params: dict, monkeypatch) -> dict:
    """The ``run_info`` the project hook gives the nodes of a run started with ``run_params``."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the hook installs its own
    hooks = GanForgeHooks()
    hooks.after_context_created(SimpleNamespace(params={}, env=None,
                                                config_loader=SimpleNamespace(conf_source="conf")))
    catalog = DataCatalog()
    hooks.before_pipeline_run({"session_id": "2026-12-07T11.51.28.945Z", **run_params}, Pipeline([]), catalog)
    return catalog.load("run_info")


@pytest.mark.parametrize(("pipeline_names", "recorded"), [
    (["sngan"], "sngan"),
    (["dcgan", "wgan"], "dcgan,wgan"),
    (None, "__default__"),  # `kedro run` without --pipeline(s)
])
def test_the_run_records_the_pipeline_that_ran(pipeline_names, recorded, monkeypatch, tmp_path):
    run_info = run_info_of({"pipeline_names": pipeline_names, "project_path": str(tmp_path)}, monkeypatch)
    assert run_info["pipeline_name"] == recorded


def test_the_manifest_names_no_folder_of_the_machine(monkeypatch, tmp_path):
    project = tmp_path / "project"
    params = shipped_params()
    variant = {**params["dcgan"]["variant"], "training": {"resume_dir": str(project / "data/06_models/resume")}}
    config = resolve_experiment_config(params["training_defaults"], variant)
    monkeypatch.setattr(sys, "argv", [str(project / ".venv/bin/kedro"), "run", "--pipeline=dcgan",
                                      f"--params=data.path={project}/data/01_raw/faces"])
    run_info = run_info_of({"pipeline_names": ["dcgan"], "project_path": str(project),
                            "runtime_params": {"data": {"path": f"{project}/data/01_raw/faces"}}}, monkeypatch)
    model_input = {"images": torch.zeros(4, 1, 8, 8, dtype=torch.uint8), "fingerprint": "0123abcd"}
    manifest = write_run_manifest(config, model_input, {"device": "cpu", "checkpoint_digest": "89ab"}, run_info)
    assert manifest["pipeline"] == "dcgan"
    assert manifest["parameters"]["training"]["resume_dir"] == "data/06_models/resume"
    assert manifest["command"] == "kedro run --pipeline=dcgan --params=data.path=data/01_raw/faces"
    assert str(tmp_path) not in json.dumps(manifest)
    assert "project_path" not in manifest


def test_a_manifest_without_a_project_root_is_written_as_it_is():
    """Nodes run outside a Kedro session (tests, notebooks) have no project root to write relative to."""
    config = resolve_experiment_config(shipped_params()["training_defaults"], shipped_params()["dcgan"]["variant"])
    model_input = {"images": torch.zeros(4, 1, 8, 8, dtype=torch.uint8), "fingerprint": "0123abcd"}
    manifest = write_run_manifest(config, model_input, {"checkpoint_digest": "89ab"}, {"run_id": "r"})
    assert manifest["parameters"] == config
