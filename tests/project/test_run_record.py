"""What a run records about itself: the pipeline that ran."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from ganforge.hooks import GanForgeHooks


def run_info_of(run_params: dict, monkeypatch) -> dict:
    """The ``run_info`` the project hook gives the nodes of a run started with ``run_params``."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the hook installs its own
    hooks = GanForgeHooks()
    hooks.after_context_created(SimpleNamespace(params={}))
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
