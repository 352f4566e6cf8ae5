"""A training set on disk as memory-mapped uint8 shards, streamed by a DataLoader with workers,
trains exactly as the same set held in memory; the engine chooses between the two by a memory
budget (training.data_in_memory)."""

from __future__ import annotations

import pytest
import torch

from ganforge.errors import DataSourceError
from ganforge.gan import resolve_experiment_config, train
from ganforge.gan.data import InMemoryBatches, StreamingBatches
from ganforge.gan.engine import batch_source
from ganforge.gan.shards import ShardedImages, ShardWriter, write_shards
from ganforge.utils import content_digest
from tests.training.conftest import TINY_DEFAULTS, make_model_input, shipped_variant


def sharded(model_input: dict, folder, shard_size: int = 24) -> dict:
    return {**model_input, "images": write_shards(model_input["images"], model_input["labels"], folder, shard_size)}


def test_shards_give_back_the_images_in_any_order(tmp_path):
    images = torch.randint(0, 256, (50, 3, 4, 4), dtype=torch.uint8)
    labels = torch.arange(50) % 7
    writer = ShardWriter(tmp_path / "set", shard_size=16)
    for start in range(0, 50, 9):  # chunks that straddle shard boundaries
        writer.append(images[start:start + 9], labels[start:start + 9])
    shards = writer.close()
    assert shards.counts == [16, 16, 16, 2]
    assert len(shards) == 50 and shards.shape == (50, 3, 4, 4) and shards.nbytes == images.numel()
    order = torch.randperm(50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(shards.take(order), images[order])
    assert torch.equal(ShardedImages(tmp_path / "set").to_tensor(), images)
    assert torch.equal(shards.labels(), labels)


def test_a_folder_that_is_not_a_shard_set_is_one_clear_error(tmp_path):
    with pytest.raises(DataSourceError, match="is not a shard folder"):
        ShardedImages(tmp_path)


@pytest.mark.parametrize("world_size", [1, 2])
def test_streamed_batches_are_the_in_memory_batches(tmp_path, world_size):
    model_input = make_model_input(count=100, size=8)
    streamed_input = sharded(model_input, tmp_path / "set")
    for rank in range(world_size):
        memory = InMemoryBatches(model_input, 16, torch.device("cpu"), True, rank, world_size)
        stream = StreamingBatches(streamed_input, 16, torch.device("cpu"), True, rank, world_size, workers=2)
        assert stream.steps_per_epoch == memory.steps_per_epoch
        for first, second in zip(memory.epoch(torch.Generator().manual_seed(5)),
                                 stream.epoch(torch.Generator().manual_seed(5)), strict=True):
            assert torch.equal(first.real, second.real) and torch.equal(first.labels, second.labels)
        assert torch.equal(memory.examples(6, 1).real, stream.examples(6, 1).real)


def _config(tmp_path, data_in_memory: str, budget: float = 4.0) -> dict:
    defaults = {**TINY_DEFAULTS, "resume_dir": str(tmp_path / f"resume-{data_in_memory}"),
                "data_in_memory": data_in_memory, "memory_budget_gb": budget, "data_loader_workers": 2}
    return resolve_experiment_config(defaults, shipped_variant("dcgan"))


def test_streaming_and_in_memory_training_give_the_same_checkpoint(tmp_path):
    model_input = make_model_input(count=64, size=16)
    in_memory = train(model_input, _config(tmp_path, "true"))
    streamed = train(sharded(model_input, tmp_path / "set"), _config(tmp_path, "false"))
    produced = ("networks", "ema", "optimizers", "rng", "counters")
    assert content_digest({key: streamed.checkpoint[key] for key in produced}) == \
        content_digest({key: in_memory.checkpoint[key] for key in produced})
    assert streamed.history[-1]["discriminator_loss"] == in_memory.history[-1]["discriminator_loss"]


def test_the_engine_streams_a_set_over_the_memory_budget(tmp_path):
    model_input = sharded(make_model_input(count=64, size=16), tmp_path / "set")  # 16 KiB of pixels
    config = _config(tmp_path, "auto", budget=8 / 1024**2)  # an 8 KiB budget
    assert isinstance(batch_source(model_input, config, torch.device("cpu")), StreamingBatches)
    config = _config(tmp_path, "auto", budget=1.0)
    assert isinstance(batch_source(model_input, config, torch.device("cpu")), InMemoryBatches)
    config = _config(tmp_path, "true", budget=8 / 1024**2)  # forced: the user knows better
    assert isinstance(batch_source(model_input, config, torch.device("cpu")), InMemoryBatches)


def test_two_processes_stream_their_rows_of_a_sharded_set(tmp_path):
    model_input = make_model_input(count=64, size=16)
    config = _config(tmp_path, "false")
    config["training"].update(batch_size=4, distributed={**config["training"]["distributed"], "enabled": True})
    streamed = train(sharded(model_input, tmp_path / "set"), config)
    in_memory = train(model_input, _config(tmp_path, "true"))  # one process, batch 8
    assert streamed.distributed["world_size"] == 2
    for network, weights in in_memory.checkpoint["networks"]["discriminator"].items():
        if weights.is_floating_point():
            torch.testing.assert_close(streamed.checkpoint["networks"]["discriminator"][network], weights,
                                       rtol=1e-4, atol=1e-5)


def test_a_sharded_set_travels_to_other_nodes_as_its_folder(tmp_path):
    from ganforge.gan.distributed import _portable, _restored

    model_input = sharded(make_model_input(count=30, size=8), tmp_path / "set")
    torch.save(_portable(model_input), tmp_path / "launch.pt")
    restored = _restored(torch.load(tmp_path / "launch.pt", weights_only=True))
    assert isinstance(restored["images"], ShardedImages)
    assert torch.equal(restored["images"].to_tensor(), model_input["images"].to_tensor())
