"""Scheduled retraining: champion promotion, bad data, and runs started at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

from tests.kedro_project import (
    champion,
    kedro,
    kedro_env,
    latest,
    make_project,
    tiny_params,
    tracked_runs,
    tracking_client,
    versions,
)

pytestmark = pytest.mark.e2e


def decision(project) -> dict:
    return json.loads(latest(project / "data/08_reporting/wgan/promotion_decision.json").read_text())


def test_retraining_promotes_only_on_a_win_and_moves_the_registry_alias(tmp_path):
    project = make_project(tmp_path / "project")
    # the same data every run: promote_unchanged_data lets the margin alone decide
    params = tiny_params(("wgan",), epochs=1, **{"retrain.promote_unchanged_data": "true"})
    kedro(project, "run", "--pipeline=retrain_wgan", f"--params={params}")
    assert decision(project)["promoted"] is True and "no champion yet" in decision(project)["reason"]
    first = champion(project, "wgan")
    first_version = first["checkpoint_version"]
    assert first["registry_version"] == 1 and first["fid"] == decision(project)["candidate"]["fid"]
    assert (project / f"data/06_models/wgan/checkpoint.pt/{first_version}").is_dir()

    # an impossible margin: the new model cannot beat the champion by 100%
    result = kedro(project, "run", "--pipeline=retrain_wgan", f"--params={params},retrain.promotion_margin=1.0")
    assert "Warm start from the checkpoint" in result.stdout + result.stderr
    kept = decision(project)
    assert kept["promoted"] is False and "does not beat" in kept["reason"]
    assert kept["champion"]["real_statistics_key"] == kept["candidate"]["real_statistics_key"]
    assert champion(project, "wgan") == first  # the alias did not move

    # any improvement at all is enough with a negative margin... of -1000%
    kedro(project, "run", "--pipeline=retrain_wgan", f"--params={params},retrain.promotion_margin=-10.0")
    third = champion(project, "wgan")
    assert third["checkpoint_version"] != first_version and third["registry_version"] == 2
    assert len(tracking_client(project).search_model_versions("name='ganforge.wgan'")) == 2
    # every decision, with its reason, is on the MLflow run that made it
    runs = tracked_runs(project)
    assert [run.data.tags["ganforge.wgan.promoted"] for run in runs] == ["true", "false", "true"]
    assert "does not beat" in runs[1].data.tags["ganforge.wgan.promotion_reason"]


def test_bad_new_data_stops_retraining_and_overwrites_nothing(tmp_path):
    project = make_project(tmp_path / "project")
    params = tiny_params(("dcgan",), epochs=1)
    kedro(project, "run", "--pipeline=retrain_dcgan", f"--params={params}")
    before = {path: path.stat().st_mtime_ns for path in (project / "data").rglob("*") if path.is_file()}

    folder = tmp_path / "new_data"
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        for index in range(8):
            pixels = torch.randint(0, 255, (28, 28), generator=torch.Generator().manual_seed(index)).to(torch.uint8)
            Image.fromarray(pixels.numpy()).save(folder / label / f"{index}.png")
    (folder / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)  # a truncated download
    bad = tiny_params(("dcgan",), epochs=1, **{"data.source": "image_folder", "data.path": str(folder),
                                               "data.limit": "null"})
    result = kedro(project, "run", "--pipeline=retrain_dcgan", f"--params={bad}", check=False)
    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error (")]
    assert len(error_lines) == 1 and "broken.png" in error_lines[0]
    after = {path: path.stat().st_mtime_ns for path in (project / "data").rglob("*") if path.is_file()}
    assert {path: stamp for path, stamp in after.items() if path in before} == before
    assert not [path for path in after if path not in before and "06_models" in str(path)]


def test_two_runs_started_together_both_complete_and_keep_their_artifacts(tmp_path):
    project = make_project(tmp_path / "project")
    params = tiny_params(("gan", "dcgan"), epochs=1)
    commands = [[sys.executable, "-m", "kedro", "run", f"--pipeline={name}", f"--params={params}"]
                for name in ("dcgan", "dcgan", "gan")]
    processes = []
    for command in commands:
        # Kedro's run id (the save version of every artifact) is a millisecond timestamp: runs must
        # not create their sessions in the same millisecond. Half a second apart they still
        # overlap for their whole training.
        processes.append(subprocess.Popen(command, cwd=project, env=kedro_env(), stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True))
        time.sleep(0.5)
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], "\n".join(output[-3000:] for output in outputs)
    assert len(versions(project / "data/06_models/dcgan/checkpoint.pt")) == 2
    assert len(versions(project / "data/06_models/gan/checkpoint.pt")) == 1
    assert len(versions(project / "data/08_reporting/dcgan/metrics.json")) == 2
    grid_runs = [path for path in (project / "data/07_model_output/dcgan/epoch_grids").iterdir() if path.is_dir()]
    assert len(grid_runs) == 2
    for checkpoint in (project / "data/06_models/dcgan/checkpoint.pt").iterdir():
        torch.load(checkpoint / "checkpoint.pt", weights_only=True)
