"""Two Airflow DAG runs on different data, their tasks interleaved, each task its own `kedro run`
session in the `airflow` environment as the generated DAG runs it: every task of a DAG run saves
under the DAG run's version and reads what its own DAG run saved."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tests.kedro_project import kedro_env, make_project, tiny_params

pytestmark = pytest.mark.e2e

RUN_1, RUN_2 = "2026-11-24T01.00.00.000Z", "2026-11-24T02.00.00.000Z"  # run 2 is the newer


def task(project, version: str, limit: int, *selection: str) -> subprocess.CompletedProcess:
    params = tiny_params(("dcgan",), epochs=1, limit=limit)
    command = [sys.executable, "-m", "kedro", "run", "--env=airflow", "--pipeline=dcgan", f"--params={params}",
               *selection]
    result = subprocess.run(command, cwd=project, env={**kedro_env(), "GANFORGE_RUN_VERSION": version},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_overlapping_dag_runs_each_train_on_their_own_data(tmp_path):
    project = make_project(tmp_path / "project")
    task(project, RUN_1, 128, "--to-outputs=model_input")  # DAG run 1 prepares its data
    task(project, RUN_2, 64, "--to-outputs=model_input")  # DAG run 2 starts and prepares other data
    task(project, RUN_1, 128, "--tags=dcgan")  # DAG run 1 trains, scores and reports

    model_input = project / "data/05_model_input/model_input.pt"
    fingerprints = {version: torch.load(model_input / version / "model_input.pt", weights_only=True)["fingerprint"]
                    for version in (RUN_1, RUN_2)}
    assert fingerprints[RUN_1] != fingerprints[RUN_2]
    checkpoint = torch.load(project / "data/06_models/dcgan/checkpoint.pt" / RUN_1 / "checkpoint.pt",
                            weights_only=True)
    assert checkpoint["data_fingerprint"] == fingerprints[RUN_1]
    manifest = json.loads((project / "data/08_reporting/dcgan/run_manifest.json" / RUN_1 /
                           "run_manifest.json").read_text())
    assert manifest["run_id"] == RUN_1

    # a retried training task saves again under its DAG run's version
    retried = task(project, RUN_1, 128, "--nodes=dcgan.train")
    assert "left by an earlier attempt of this task" in retried.stdout + retried.stderr
