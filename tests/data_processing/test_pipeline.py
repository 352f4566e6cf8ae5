"""The data_processing pipeline end to end with the project's own catalog and parameters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from dp_helpers import PROJECT, digits, write_png_folder
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, Version
from kedro.runner import SequentialRunner

from ganforge.datasets import TorchDataset
from ganforge.errors import DataValidationError
from ganforge.pipelines.data_processing import create_pipeline
from ganforge.utils import content_digest

OUTPUTS = ("image_manifest", "data_validation_report", "data_validation_summary", "model_input")


def _catalog_under(root: Path, keep) -> DataCatalog:
    """The conf/base catalog entries (or factories) whose name ``keep`` accepts, with file paths
    moved under ``root``."""
    conf = OmegaConfigLoader(str(PROJECT / "conf"), base_env="base", default_run_env="local")
    entries = {name: dict(entry) for name, entry in conf["catalog"].items() if keep(name)}
    for entry in entries.values():
        if "filepath" in entry:
            entry["filepath"] = str(root / entry["filepath"])
    return DataCatalog.from_config(entries)


def project_catalog(root: Path, data_params: dict) -> DataCatalog:
    """The real conf/base catalog entries of this pipeline, with file paths moved under ``root``."""
    catalog = _catalog_under(root, create_pipeline().datasets().__contains__)
    catalog["params:data"] = data_params
    return catalog


def _latest_model_input(root: Path) -> dict:
    path = root / "data/05_model_input/model_input.pt"
    return TorchDataset(filepath=str(path), version=Version(None, None)).load()


def _run(root: Path, params: dict) -> DataCatalog:
    catalog = project_catalog(root, params)
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_catalog_declares_the_contract():
    conf = OmegaConfigLoader(str(PROJECT / "conf"), base_env="base", default_run_env="local")
    entry = conf["catalog"]["model_input"]
    assert {key: entry[key] for key in ("type", "filepath", "versioned")} == {
        "type": "ganforge.datasets.TorchDataset",
        "filepath": "data/05_model_input/model_input.pt",
        "versioned": True,
    }
    for name in OUTPUTS:
        assert conf["catalog"][name]["versioned"] is True


def test_pipeline_end_to_end_then_failure_leaves_model_input_untouched(tmp_path, make_params):
    catalog = _run(tmp_path, make_params(limit=40))
    model_input = catalog.load("model_input")
    assert model_input["images"].shape == (40, 1, 28, 28)
    assert model_input["fingerprint"] == content_digest([model_input["images"], model_input["labels"]])
    # What the training side does: load the versioned file by its catalog path.
    reloaded = _latest_model_input(tmp_path)
    assert torch.equal(reloaded["images"], model_input["images"])
    manifest = catalog.load("image_manifest")
    assert len(manifest) == 40 and manifest["label"].dtype == "Int64"
    report = catalog.load("data_validation_report")
    assert report["success"]
    assert "PASSED" in catalog.load("data_validation_summary")

    # Second run on bad data: the report is saved, nothing downstream is.
    images = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    images[2, 0, 5, 5] = np.nan
    np.save(tmp_path / "bad.npy", images)
    bad = make_params(source="tensor_file", path=str(tmp_path / "bad.npy"), value_range=[0, 1])
    with pytest.raises(DataValidationError, match="pixels_finite.*tensor_file/000002"):
        _run(tmp_path, bad)
    versions = sorted((tmp_path / "data/08_reporting/data_validation.json").iterdir())
    assert len(versions) == 2
    latest = json.loads((versions[-1] / "data_validation.json").read_text())
    assert latest["failed_rules"] == ["pixels_finite"]
    assert len(list((tmp_path / "data/05_model_input/model_input.pt").iterdir())) == 1
    assert torch.equal(
        _latest_model_input(tmp_path)["images"],
        model_input["images"],
    )


def test_pipeline_image_folder_unlabeled(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 5, size=20, mode="RGB")
    catalog = _run(
        tmp_path, make_params(source="image_folder", path=str(root), image_size=16, channels=3)
    )
    model_input = catalog.load("model_input")
    assert model_input["images"].shape == (5, 3, 16, 16) and model_input["labels"] is None
    assert model_input["num_classes"] == 0 and model_input["class_names"] == []
    assert digits(1).dtype == np.uint8


def _domain_catalog(root: Path, domain_params: dict[str, dict]) -> DataCatalog:
    """The conf/base dataset factories of two-domain data, with file paths moved under ``root``."""
    catalog = _catalog_under(root, lambda name: name.startswith("{variant}_data.{domain}."))
    for name, params in domain_params.items():
        catalog[f"params:{name}.data"] = params
    return catalog


def test_two_domains_run_the_same_pipeline_each_with_its_own_versioned_outputs(tmp_path):
    from ganforge.pipelines.data_processing import DOMAINS, create_domain_pipeline

    # CoGAN's digits and their negatives: one source cut in two parts, so no image is in both
    params = {"cogan.domain_a": {"limit": 120, "part": [0, 2]},
              "cogan.domain_b": {"limit": 120, "part": [1, 2], "transform": "negative"}}
    catalog = _domain_catalog(tmp_path, params)
    both = create_domain_pipeline("cogan", DOMAINS[0]) + create_domain_pipeline("cogan", DOMAINS[1])
    SequentialRunner().run(both, catalog)
    loaded = {}
    for domain in DOMAINS:
        folder = tmp_path / f"data/05_model_input/cogan/{domain}/model_input.pt"
        loaded[domain] = TorchDataset(filepath=str(folder), version=Version(None, None)).load()
        assert (tmp_path / f"data/08_reporting/cogan/{domain}/data_validation.json").is_dir()
        assert (tmp_path / f"data/02_intermediate/cogan/{domain}/image_manifest.parquet").is_dir()
    a, b = loaded["domain_a"], loaded["domain_b"]
    assert a["images"].shape == b["images"].shape == (60, 1, 28, 28)
    assert a["fingerprint"] != b["fingerprint"]
    # negatives: mostly bright background where the digits have a dark one
    assert a["images"].float().mean() < 80 < 175 < b["images"].float().mean()
    assert not (tmp_path / "data/05_model_input/model_input.pt").exists()  # the single-domain set is untouched
    with pytest.raises(ValueError, match="domain must be one of domain_a, domain_b, got 'domain_c'"):
        create_domain_pipeline("cogan", "domain_c")
