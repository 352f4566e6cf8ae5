"""The main job on a data set kept on disk: a real `kedro run --pipeline=wgan` that ingests an image
folder a shard at a time (data.storage: shards), trains streaming the shards through DataLoader
workers (training.data_in_memory: false) and scores against the memory-mapped set."""

from __future__ import annotations

import json

import pytest

from tests.kedro_project import kedro, latest, make_project, tiny_params, write_unlabeled_folder

pytestmark = pytest.mark.e2e


def test_wgan_runs_from_shards_end_to_end(tmp_path):
    folder = write_unlabeled_folder(tmp_path / "photos", 96)
    project = make_project(tmp_path / "project")
    params = tiny_params(("wgan",), epochs=2, **{
        "data.source": "image_folder", "data.path": str(folder), "data.image_size": 16, "data.channels": 3,
        "data.limit": "null", "data.storage": "shards", "data.shard_size": 40,
        "wgan.variant.training.data_in_memory": "false", "evaluation.classifier.max_images": 50})
    result = kedro(project, "run", "--pipeline=wgan", f"--params={params}")
    log = result.stdout + result.stderr

    assert "Decoding 96 images into shards of 40" in log
    assert "Streaming the training set" in log
    model_input = latest(project / "data/05_model_input/model_input.pt")
    index = json.loads((model_input.parent / "model_input.pt.shards/images/index.json").read_text())
    assert index["counts"] == [40, 40, 16] and index["shape"] == [3, 16, 16]
    assert not any((project / "data/02_intermediate/staging").iterdir())
    metrics = json.loads(latest(project / "data/08_reporting/wgan/metrics.json").read_text())
    assert metrics["fid"] is not None and metrics["n_samples"] == 100
