"""Runs side by side never read each other's data: a run reads back the version it saved."""

from __future__ import annotations

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from ganforge.hooks import GanForgeHooks


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
