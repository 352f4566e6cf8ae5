"""Data-parallel training: N gloo processes with batch b train exactly as one process with batch
N·b, errors in a worker end the run as they would on one process, and what cannot be trained
data-parallel is refused before any process starts."""

from __future__ import annotations

import copy

import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.gan import resolve_experiment_config, train
from ganforge.gan.randomness import BatchRandom
from ganforge.gan.resume import resume_key
from tests.training.conftest import TINY_DEFAULTS, make_model_input, shipped_variant

# wgan_gp with convolutional networks, as conf/photos trains it: a critic without batch coupling
# (GroupNorm), a generator with BatchNorm (normalized over the global batch) and no bias right
# before a BatchNorm (its true gradient is 0, so Adam would turn rounding noise into full steps).
CONVOLUTIONAL = {"architecture": "dcgan", "base_channels": 4, "discriminator_norm": "layer", "latent_dim": 16,
                 "generator_hidden": None, "discriminator_hidden": None}


def wgan_gp_config(tmp_path, batch_size: int, processes: int | None, **training) -> dict:
    variant = shipped_variant("wgan_gp")
    variant["model"].update(CONVOLUTIONAL)
    variant["training"].update(training)
    variant["training"]["n_critic"] = 2
    variant["training"]["distributed"] = {"enabled": processes is not None, "nproc_per_node": processes or 2}
    defaults = {**TINY_DEFAULTS, "resume_dir": str(tmp_path / f"resume-{processes}"), "batch_size": batch_size,
                "augment": ["color", "translation", "cutout"]}
    return resolve_experiment_config(defaults, variant)


def assert_same_tensors(first: dict, second: dict, path: str = "") -> None:
    assert first.keys() == second.keys(), path
    for key, value in first.items():
        if isinstance(value, dict):
            assert_same_tensors(value, second[key], f"{path}.{key}")
        elif isinstance(value, torch.Tensor) and value.is_floating_point():
            torch.testing.assert_close(second[key], value, rtol=1e-4, atol=1e-5, msg=f"{path}.{key} differs")
        elif isinstance(value, torch.Tensor):
            assert torch.equal(second[key], value), f"{path}.{key} differs"


def test_two_processes_with_half_the_batch_train_as_one_process(tmp_path):
    data = make_model_input(count=192, size=16)  # 3 global batches of 64 per epoch
    one = train(data, wgan_gp_config(tmp_path, 64, None))
    two = train(data, wgan_gp_config(tmp_path, 32, 2))

    assert two.distributed == {"world_size": 2, "backend": "gloo"}
    assert one.checkpoint["counters"] == two.checkpoint["counters"] == {"discriminator": 6, "generator": 3}
    for part in ("networks", "ema", "optimizers"):
        assert_same_tensors(one.checkpoint[part], two.checkpoint[part], part)
    for row_one, row_two in zip(one.history, two.history, strict=True):
        for column in ("discriminator_loss", "generator_loss", "weighted_gradient_penalty"):
            assert row_two[column] == pytest.approx(row_one[column], rel=1e-4, abs=1e-6)
    assert two.epoch_samples.keys() == one.epoch_samples.keys()  # rank 0's grids came back


def test_an_error_in_the_workers_ends_the_run_as_on_one_process(tmp_path):
    data = make_model_input(count=48, size=16)
    with pytest.raises(ConfigError, match=r"batch_size \(32\) × 2 process\(es\) is larger than the data set"):
        train(data, wgan_gp_config(tmp_path, 32, 2))


def test_a_recipe_that_cannot_train_data_parallel_is_refused_before_launching(tmp_path):
    variant = copy.deepcopy(shipped_variant("progan"))
    variant["training"]["distributed"] = {"enabled": True}
    config = resolve_experiment_config({**TINY_DEFAULTS, "resume_dir": str(tmp_path)}, variant)
    with pytest.raises(ConfigError, match="'progan' cannot train data-parallel"):
        train(make_model_input(count=32, size=16, classes=0), config)


def test_each_process_draws_its_rows_of_the_global_batch():
    def draws(rank: int, world_size: int) -> list[torch.Tensor]:
        random = BatchRandom(torch.Generator().manual_seed(3), rank, world_size)
        return [random.randn(4, 2), random.rand(4, 1, 1, 1), random.randint(0, 9, 4, 1, 1)]

    whole = draws(0, 1)
    plain = torch.Generator().manual_seed(3)
    # one process draws exactly what plain torch calls draw: single-process runs are unchanged
    assert torch.equal(whole[0], torch.randn(4, 2, generator=plain))
    assert torch.equal(whole[1], torch.rand(4, 1, 1, 1, generator=plain))
    # two processes: their rows side by side are one process's draw for the global batch of 8
    halves = [draws(rank, 2) for rank in (0, 1)]
    global_batch = BatchRandom(torch.Generator().manual_seed(3)).randn(8, 2)
    assert torch.equal(torch.cat([halves[0][0], halves[1][0]]), global_batch)
    for first, second in zip(*halves, strict=True):
        assert first.shape == second.shape and not torch.equal(first, second)


def test_resume_key_depends_on_the_world_size_not_on_the_rendezvous(tmp_path):
    base = wgan_gp_config(tmp_path, 32, 2)
    moved = copy.deepcopy(base)
    moved["training"]["distributed"]["rdzv_endpoint"] = "node0.cluster:29400"
    wider = copy.deepcopy(base)
    wider["training"]["distributed"]["nproc_per_node"] = 4
    single = wgan_gp_config(tmp_path, 32, None)
    keys = [resume_key(config, "data") for config in (base, moved, wider, single)]
    assert keys[0] == keys[1]
    assert len({keys[0], keys[2], keys[3]}) == 3
