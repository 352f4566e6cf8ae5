"""A data set larger than memory through the data pipeline: an image folder decoded a shard at a
time into uint8 shards (data.storage), with the same manifest, fingerprint, recipe and images as
the in-memory path, saved beside model_input and loaded back memory-mapped."""

from __future__ import annotations

from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
import torch
from dp_helpers import PROJECT, digits, write_png_folder
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, DatasetError, Version
from kedro.runner import SequentialRunner

from ganforge.datasets import TorchDataset
from ganforge.gan.shards import STAGING_MARKER, ShardedImages, ShardWriter, staging_folder, write_shards
from ganforge.pipelines.data_processing import create_pipeline
from ganforge.pipelines.data_processing.sources import image_folder as data_sources
from ganforge.utils import content_digest

SHARD_SIZE = 5


def run_pipeline(root: Path, params: dict) -> DataCatalog:
    """The data pipeline on the project's own catalog entries, with every path under ``root``."""
    conf = OmegaConfigLoader(str(PROJECT / "conf"), base_env="base", default_run_env="local")
    entries = {name: dict(entry) for name, entry in conf["catalog"].items() if name in create_pipeline().datasets()}
    for entry in entries.values():
        if "filepath" in entry:
            entry["filepath"] = str(root / entry["filepath"])
    catalog = DataCatalog.from_config(entries)
    catalog["params:data"] = {**params, "staging_path": str(root / "staging")}
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def load_latest(root: Path, name: str) -> object:
    relative = {"model_input": "data/05_model_input/model_input.pt",
                "image_manifest": "data/02_intermediate/image_manifest.parquet"}[name]
    if name == "image_manifest":
        return pd.read_parquet(sorted((root / relative).iterdir())[-1] / Path(relative).name)
    return TorchDataset(filepath=str(root / relative), version=Version(None, None)).load()


def stored_both_ways(root: Path, params: dict) -> tuple[dict, dict]:
    """model_input of the same data stored in memory and as shards."""
    for storage in ("memory", "shards"):
        run_pipeline(root / storage, {**params, "storage": storage})
    return load_latest(root / "memory", "model_input"), load_latest(root / "shards", "model_input")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_png_folder(tmp_path_factory.mktemp("png") / "images", {"cat": 13, "dog": 9}, size=12, mode="RGB")


@pytest.mark.parametrize("transform", ["none", "negative"])
def test_shards_hold_what_memory_holds(tmp_path, make_params, folder, transform):
    params = make_params(source="image_folder", path=str(folder), image_size=12, channels=3, transform=transform,
                         shard_size=SHARD_SIZE, part=[0, 1])
    in_memory, sharded = stored_both_ways(tmp_path, params)

    assert isinstance(in_memory["images"], torch.Tensor) and isinstance(sharded["images"], ShardedImages)
    assert sharded["images"].counts == [5, 5, 5, 5, 2]
    assert torch.equal(sharded["images"].to_tensor(), in_memory["images"])
    assert torch.equal(sharded["labels"], in_memory["labels"])
    assert sharded["fingerprint"] == in_memory["fingerprint"] == content_digest([in_memory["images"],
                                                                                   in_memory["labels"]])
    for key in ("channel_mean", "channel_std"):
        assert sharded["normalization"][key] == pytest.approx(in_memory["normalization"][key], abs=1e-12)
    pd.testing.assert_frame_equal(load_latest(tmp_path / "shards", "image_manifest"),
                                  load_latest(tmp_path / "memory", "image_manifest"))
    # the shards live in the model_input version, and nothing is left waiting in staging
    assert sharded["images"].folder.parent.name == "model_input.pt.shards"
    assert not any((tmp_path / "shards/staging").iterdir())


def test_an_image_folder_is_never_decoded_whole(tmp_path, make_params, folder, monkeypatch):
    """Decoded images that have not yet reached a shard file stay under two shards' worth."""
    decoded, written, waiting = [0], [0], []
    decode, flush = data_sources.decode_image, ShardWriter._flush

    def counting_decode(*args, **kwargs):
        decoded[0] += 1
        waiting.append(decoded[0] - written[0])
        return decode(*args, **kwargs)

    def counting_flush(self, count):
        written[0] += count
        flush(self, count)

    monkeypatch.setattr(data_sources, "decode_image", counting_decode)
    monkeypatch.setattr(ShardWriter, "_flush", counting_flush)
    run_pipeline(tmp_path, make_params(source="image_folder", path=str(folder), image_size=12, channels=3,
                                       storage="shards", shard_size=SHARD_SIZE, num_workers=1))
    assert decoded[0] == written[0] == 22
    assert max(waiting) <= 2 * SHARD_SIZE


def test_auto_storage_follows_the_memory_budget(tmp_path, make_params, folder):
    params = make_params(source="image_folder", path=str(folder), image_size=12, channels=3, storage="auto")
    run_pipeline(tmp_path / "small", params)
    # 22 RGB 12×12 images are 9,504 bytes: over a budget of 8 KB
    run_pipeline(tmp_path / "large", {**params, "memory_budget_gb": 8e3 / 1024**3})
    assert isinstance(load_latest(tmp_path / "small", "model_input")["images"], torch.Tensor)
    assert isinstance(load_latest(tmp_path / "large", "model_input")["images"], ShardedImages)


def test_array_sources_can_be_stored_as_shards(tmp_path, make_params):
    data = tmp_path / "images.npy"
    np.save(data, digits(30, 8)[:, None] / 255.0)  # float pixels: converted to uint8 before the shards
    params = make_params(source="tensor_file", path=str(data), image_size=8, value_range=[0, 1], shard_size=8)
    in_memory, sharded = stored_both_ways(tmp_path, params)
    assert torch.equal(sharded["images"].to_tensor(), in_memory["images"])
    assert sharded["fingerprint"] == in_memory["fingerprint"]
    # auto applies to array sources too: 30 images of 1×8×8 = 1,920 bytes, over a 1,900-byte budget
    run_pipeline(tmp_path / "auto", {**params, "storage": "auto", "memory_budget_gb": 1.9e3 / 1024**3})
    assert isinstance(load_latest(tmp_path / "auto", "model_input")["images"], ShardedImages)


def test_a_failed_decode_leaves_no_staging_behind(tmp_path, make_params, folder):
    broken = tmp_path / "broken"
    write_png_folder(broken, 12, size=12)
    (broken / "img_007.png").write_bytes(b"not a png")
    with pytest.raises(Exception, match="could not be decoded"):
        run_pipeline(tmp_path, make_params(source="image_folder", path=str(broken), image_size=12,
                                           storage="shards", shard_size=SHARD_SIZE))
    assert not any((tmp_path / "staging").iterdir())


def test_the_dataset_links_shards_into_each_version_and_reads_them_mapped(tmp_path):
    images = torch.randint(0, 256, (11, 1, 4, 4), dtype=torch.uint8)
    staged = write_shards(images, None, staging_folder(tmp_path / "staging"), shard_size=4)
    other = write_shards(images.flip(0), None, tmp_path / "kept", shard_size=4)  # not staging: left alone
    data = {"images": staged, "domains": {"b": {"images": other}}, "fingerprint": "x"}

    dataset = TorchDataset(filepath=str(tmp_path / "out/set.pt"), version=Version(None, None))
    dataset.save(data)
    saved = sorted((tmp_path / "out/set.pt").iterdir())[-1]
    assert (saved / "set.pt.shards/images/index.json").is_file()
    assert (saved / "set.pt.shards/domains.b.images/index.json").is_file()
    assert not (tmp_path / "staging").exists() or not any((tmp_path / "staging").iterdir())
    assert (tmp_path / "kept/index.json").is_file()
    assert staged.folder == saved / "set.pt.shards/images"  # the object in memory followed its files

    loaded = TorchDataset(filepath=str(tmp_path / "out/set.pt"), version=Version(None, None)).load()
    assert torch.equal(loaded["images"].to_tensor(), images)
    assert torch.equal(loaded["domains"]["b"]["images"][torch.tensor([0, 10])], images.flip(0)[[0, 10]])
    assert torch.equal(loaded["images"][:3], images[:3])
    assert torch.equal(torch.cat(list(loaded["images"].chunks(3))), images)  # blocks across shard ends
    assert not (saved / "set.pt.shards/images" / STAGING_MARKER).exists()


def test_shards_refuse_a_bucket_with_one_clear_error(tmp_path):
    shards = write_shards(torch.zeros(3, 1, 2, 2, dtype=torch.uint8), None, tmp_path / "set")
    dataset = TorchDataset(filepath="memory://bucket/set.pt")
    with pytest.raises(DatasetError, match="need a local or mounted filesystem"):
        dataset.save({"images": shards})
    assert not fsspec.filesystem("memory").exists("memory://bucket/set.pt")
