"""The champion registry on MLflow's model registry, against a throw-away SQLite store."""

from __future__ import annotations

import logging
import threading

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from ganforge.datasets import ChampionRegistryDataset


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    MlflowClient(uri).search_experiments()  # create the tables once, as the project hook does
    return uri


def registry(store: str, variant: str = "wgan") -> ChampionRegistryDataset:
    return ChampionRegistryDataset(registered_model=f"ganforge.{variant}", tracking_uri=store,
                                   checkpoint_path=f"data/06_models/{variant}/checkpoint.pt")


def promotion(version: str, fid: float, promoted: bool = True) -> dict:
    record = {"checkpoint_version": version, "fid": fid, "backbone": {"name": "classifier_lenet"}}
    return {"promoted": promoted, "reason": f"fid {fid}", "champion": record if promoted else None}


def test_the_alias_moves_only_on_a_win(store):
    dataset = registry(store)
    assert dataset.load() == {}
    dataset.save(promotion("v1", 3.0))
    assert dataset.load()["checkpoint_version"] == "v1"
    dataset.save(promotion("v2", 4.0, promoted=False))
    champion = dataset.load()
    assert champion["checkpoint_version"] == "v1" and champion["backbone"] == {"name": "classifier_lenet"}
    dataset.save(promotion("v3", 2.0))
    assert dataset.load() == {"checkpoint_version": "v3", "fid": 2.0, "backbone": {"name": "classifier_lenet"},
                              "registry_version": 2}
    client = MlflowClient(store, store)
    version = client.get_model_version_by_alias("ganforge.wgan", "champion")
    # the registered version points at the checkpoint, which stays in the Kedro catalog
    assert version.tags["checkpoint"] == "data/06_models/wgan/checkpoint.pt/v3/checkpoint.pt"
    assert version.tags["fid"] == "2.0" and version.description == "fid 2.0"
    assert len(client.search_model_versions("name='ganforge.wgan'")) == 2


def test_the_registry_names_no_folder_of_the_machine(store, tmp_path):
    """A catalog path given absolute, and a record holding one, are tagged relative to the project."""
    dataset = ChampionRegistryDataset(registered_model="ganforge.wgan", tracking_uri=store,
                                      checkpoint_path=str(tmp_path / "data/06_models/wgan/checkpoint.pt"))
    update = promotion("v1", 3.0)
    update["champion"]["backbone"]["weights_source"] = str(tmp_path / "data/weights/pt_inception.pth")
    dataset.save(update)
    version = MlflowClient(store, store).get_model_version_by_alias("ganforge.wgan", "champion")
    assert version.tags["checkpoint"] == "data/06_models/wgan/checkpoint.pt/v1/checkpoint.pt"
    assert str(tmp_path) not in "".join(version.tags.values())
    assert version.source == "data/06_models/wgan/checkpoint.pt/v1/checkpoint.pt"  # no run is active here
    assert dataset.load()["backbone"]["weights_source"] == "data/weights/pt_inception.pth"


def test_two_variants_promoted_at_once_both_end_correct(store):
    datasets = {variant: registry(store, variant) for variant in ("wgan", "dcgan")}

    def promote_three_times(variant: str) -> None:
        for index, fid in enumerate((5.0, 4.0, 3.0)):
            datasets[variant].save(promotion(f"{variant}-{index}", fid))

    threads = [threading.Thread(target=promote_three_times, args=(variant,)) for variant in datasets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {variant: dataset.load()["checkpoint_version"] for variant, dataset in datasets.items()} == {
        "wgan": "wgan-2", "dcgan": "dcgan-2"}


def test_the_decision_and_its_reason_are_tags_of_the_active_run(store):
    mlflow.set_tracking_uri(store)
    with mlflow.start_run() as run:
        registry(store).save(promotion("v1", 3.0, promoted=False))
    tags = MlflowClient(store).get_run(run.info.run_id).data.tags
    assert tags["ganforge.wgan.promoted"] == "false" and tags["ganforge.wgan.promotion_reason"] == "fid 3.0"


def test_an_unreachable_registry_warns_and_reads_as_no_champion(monkeypatch, caplog):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    dataset = registry("http://127.0.0.1:9")  # the discard port: nothing listens
    with caplog.at_level(logging.WARNING):
        assert dataset.load() == {}
        dataset.save(promotion("v1", 3.0))  # does not raise: the decision file is written anyway
    assert "cannot be read" in caplog.text and "could not be recorded" in caplog.text
