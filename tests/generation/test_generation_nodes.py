"""Choosing what to generate from, and the latent walk, without a Kedro run."""

from __future__ import annotations

import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.gan import interpolation_path, slerp
from ganforge.pipelines.generation.nodes import choose_checkpoint

VERSIONS = {"2026-01-01T00.00.00.000Z/checkpoint": lambda: {"epoch": 1},
            "2026-01-02T00.00.00.000Z/checkpoint": lambda: {"epoch": 2}}
VARIANT = {"name": "dcgan"}


@pytest.mark.parametrize(("wanted", "epoch"), [("latest", 2), ("2026-01-01T00.00.00.000Z", 1), ("champion", 1)])
def test_the_checkpoint_is_the_named_version_the_latest_or_the_champion(wanted, epoch):
    registry = {"checkpoint_version": "2026-01-01T00.00.00.000Z"}  # the champion alias's record
    checkpoint, version = choose_checkpoint(VERSIONS, registry, {"checkpoint": wanted}, VARIANT)
    assert checkpoint["epoch"] == epoch and version.startswith("2026-01-0")


@pytest.mark.parametrize(
    ("versions", "registry", "wanted", "message"),
    [
        ({}, {}, "latest", "'dcgan' has no checkpoint yet. Train it first"),
        (VERSIONS, {}, "champion", "no champion yet"),
        (VERSIONS, {}, "2020-01-01T00.00.00.000Z", "Its versions: 2026-01-01T00.00.00.000Z, 2026-01-02"),
    ],
)
def test_what_cannot_be_generated_from_is_one_clear_error(versions, registry, wanted, message):
    with pytest.raises(ConfigError, match=message):
        choose_checkpoint(versions, registry, {"checkpoint": wanted}, VARIANT)


def test_the_walk_is_a_closed_loop_through_the_seeds_on_great_circles():
    path = interpolation_path([0, 1, 2], steps=4, dim=64)
    assert path.shape == (12, 64)
    start, second = (torch.randn(64, generator=torch.Generator().manual_seed(seed)) for seed in (0, 1))
    assert torch.equal(path[0], start) and torch.allclose(path[4], second)
    # halfway between two vectors of equal norm, spherical interpolation keeps that norm
    end = start.roll(1)
    assert float(slerp(start, end, 0.5).norm()) == pytest.approx(float(start.norm()), rel=1e-5)
    assert float(torch.lerp(start, end, 0.5).norm()) < 0.95 * float(start.norm())
