"""The tracking hook's decisions that need no `kedro run`: who logs, and what a bad setting says."""

from __future__ import annotations

from types import SimpleNamespace

import mlflow
import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro_mlflow.io.metrics import MlflowMetricsHistoryDataset

from ganforge.tracking import TrackingHooks, TrackingUnavailableError, _run_tags


def _pipeline() -> Pipeline:
    return Pipeline([Node(lambda: {"loss": [{"step": 1, "value": 0.5}]}, None, "wgan.training_metrics",
                          name="log", namespace="wgan")])


def test_only_rank_zero_of_a_distributed_run_logs(monkeypatch, tmp_path):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.chdir(tmp_path)
    hooks = TrackingHooks()
    hooks.after_context_created(SimpleNamespace(params={}))  # rank 1 never reads the MLflow settings
    catalog = DataCatalog({"wgan.training_metrics": MlflowMetricsHistoryDataset(prefix="wgan")})
    hooks.before_pipeline_run({"run_id": "x"}, _pipeline(), catalog)
    assert hooks.run_id is None and mlflow.active_run() is None
    assert catalog["wgan.training_metrics"]._logging_activated is False
    catalog.save("wgan.training_metrics", {"loss": [{"step": 1, "value": 0.5}]})  # logs nothing, starts no run
    assert mlflow.active_run() is None and not (tmp_path / "mlruns").exists()


def test_an_unknown_unreachable_policy_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(TrackingUnavailableError, match="use one of: fail, warn"):
        TrackingHooks().after_context_created(SimpleNamespace(params={"tracking": {"mlflow_unreachable": "ignore"}}))


def test_run_tags_name_no_folder_of_the_machine(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", [str(tmp_path / ".venv/bin/kedro"), "run"])
    hooks = TrackingHooks()
    hooks._project_path = tmp_path
    run_params = {"run_id": "r", "project_path": str(tmp_path), "pipeline_names": ["wgan"],
                  "runtime_params": {"data": {"path": f"{tmp_path}/data/01_raw/faces"}}}
    tagged = hooks._portable_run_params(run_params)
    assert tagged["project_path"] is None  # kedro-mlflow tags only the values that are set
    assert tagged["runtime_params"] == {"data": {"path": "data/01_raw/faces"}}
    assert tagged["pipeline_names"] == ["wgan"]
    assert _run_tags(run_params, _pipeline())["mlflow.source.name"] == "kedro"


def test_logged_parameters_name_no_folder_of_the_machine(tmp_path, monkeypatch):
    logged = {}
    monkeypatch.setattr(mlflow, "log_param", lambda name, value: logged.__setitem__(name, value))
    hooks = TrackingHooks()
    hooks._project_path = tmp_path
    hooks._log_param("wgan.resolved.training.resume_dir", f"{tmp_path}/data/06_models/resume")
    hooks._log_param("data.path", "/mnt/shared/faces")
    hooks._log_param("wgan.resolved.training.epochs", 5)
    assert logged == {"wgan.resolved.training.resume_dir": "data/06_models/resume", "data.path": "/mnt/shared/faces",
                      "wgan.resolved.training.epochs": 5}
