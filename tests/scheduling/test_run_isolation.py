"""Runs side by side never read each other's data: a run reads back the version it saved, and the
sessions of one Airflow DAG run read the versions their DAG run saved."""

from __future__ import annotations

from datetime import datetime

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

from ganforge.errors import ConfigError
from ganforge.hooks import GanForgeHooks
from ganforge.run_version import RUN_VERSION_VARIABLE, run_version_from_environment, version_of


def _run_catalog(folder, save_version: str, load_versions: dict | None = None) -> DataCatalog:
    entry = {"type": "ganforge.datasets.TorchDataset", "filepath": str(folder / "model_input.pt"), "versioned": True}
    return DataCatalog.from_config({"model_input": entry}, save_version=save_version, load_versions=load_versions)


def test_a_run_reads_back_what_it_saved_while_a_later_run_saves_newer_data(tmp_path):
    hooks = GanForgeHooks()
    first = _run_catalog(tmp_path, "2026-01-01T00.00.00.000Z")
    hooks.before_pipeline_run({"run_id": "first"}, Pipeline([]), first)
    first.save("model_input", {"images": "first run's"})
    hooks.after_dataset_saved("model_input", None, None)
    # another run, started later with other data parameters, saves its data in between
    _run_catalog(tmp_path, "2026-01-01T00.00.05.000Z").save("model_input", {"images": "second run's"})
    assert first.load("model_input") == {"images": "first run's"}


@pytest.mark.filterwarnings("ignore:Save version .* did not match load version")  # Kedro's, expected here
def test_a_load_version_chosen_by_the_user_is_kept(tmp_path):
    _run_catalog(tmp_path, "2025-01-01T00.00.00.000Z").save("model_input", {"images": "old"})
    hooks = GanForgeHooks()
    run = _run_catalog(tmp_path, "2026-01-01T00.00.00.000Z", load_versions={"model_input": "2025-01-01T00.00.00.000Z"})
    hooks.before_pipeline_run({"run_id": "run"}, Pipeline([]), run)
    run.save("model_input", {"images": "new"})
    hooks.after_dataset_saved("model_input", None, None)
    assert run.load("model_input") == {"images": "old"}


RUN_1, RUN_2 = "2026-01-01T03.00.00.000Z", "2026-01-01T04.00.00.000Z"


def test_the_tasks_of_a_dag_run_read_what_its_earlier_tasks_saved(tmp_path, monkeypatch):
    """Airflow: each task is its own session; the DAG template gives them one version."""
    _run_catalog(tmp_path, RUN_1).save("model_input", {"images": "DAG run 1's"})  # run 1's data task
    _run_catalog(tmp_path, RUN_2).save("model_input", {"images": "DAG run 2's"})  # a later DAG run's
    monkeypatch.setenv(RUN_VERSION_VARIABLE, RUN_1)
    training_task = _run_catalog(tmp_path, RUN_1)
    GanForgeHooks().before_pipeline_run({}, Pipeline([Node(len, "model_input", "size")]), training_task)
    assert training_task.load("model_input") == {"images": "DAG run 1's"}


def test_an_input_the_dag_run_did_not_save_is_read_at_its_latest_version(tmp_path, monkeypatch):
    _run_catalog(tmp_path, RUN_1).save("model_input", {"images": "an earlier run's"})
    monkeypatch.setenv(RUN_VERSION_VARIABLE, RUN_2)
    task = _run_catalog(tmp_path, RUN_2)
    GanForgeHooks().before_pipeline_run({}, Pipeline([Node(len, "model_input", "size")]), task)
    assert task.load("model_input") == {"images": "an earlier run's"}


def test_a_retried_task_replaces_what_its_failed_attempt_saved(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(RUN_VERSION_VARIABLE, RUN_1)
    _run_catalog(tmp_path, RUN_1).save("model_input", {"images": "failed attempt's"})
    retry = _run_catalog(tmp_path, RUN_1)
    GanForgeHooks().before_node_run(Node(len, "raw", "model_input"), retry)
    retry.save("model_input", {"images": "retry's"})
    assert retry.load("model_input") == {"images": "retry's"}
    assert "left by an earlier attempt of this task" in caplog.text


def test_the_run_version_must_be_a_kedro_version(monkeypatch):
    monkeypatch.setenv(RUN_VERSION_VARIABLE, "2026-01-01")
    with pytest.raises(ConfigError, match="not a Kedro version"):
        run_version_from_environment()
    assert version_of(datetime(2026, 1, 1, 3, 4, 5, 678901)) == "2026-01-01T03.04.05.678Z"
