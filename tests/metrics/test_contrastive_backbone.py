"""The contrastive backbone (FD-contrastive): its views, its training and its place in the policy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.metrics import (
    ContrastiveBackbone,
    backbone_from_record,
    backbone_record,
    choose_backbone,
    feature_statistics,
    frechet_distance,
    resolve_evaluation_config,
    train_contrastive_backbone,
)
from ganforge.metrics.contrastive import random_views


def _shapes(count: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    """Color images on white: a filled square of a random color, size and place each."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.full((count, 3, size, size), 255, dtype=torch.uint8)
    for index in range(count):
        side = int(torch.randint(4, 9, (1,), generator=generator))
        top, left = torch.randint(0, size - side, (2,), generator=generator).tolist()
        images[index, :, top:top + side, left:left + side] = torch.randint(0, 200, (3, 1, 1), generator=generator,
                                                                          dtype=torch.uint8)
    return images


@pytest.fixture(scope="module")
def contrastive() -> ContrastiveBackbone:
    return train_contrastive_backbone(_shapes(120), epochs=3, batch_size=32, device="cpu", progress=False)


def test_views_keep_shape_and_range_and_show_white_where_the_image_moved_out():
    images = torch.full((4, 3, 16, 16), -1.0)  # black images: only the moved-in margin can be light
    views = random_views(images, torch.Generator().manual_seed(0), max_shift=0.25, scale_range=(0.6, 0.6))
    assert views.shape == images.shape and views.min() >= -1 and views.max() <= 1
    # shrunk to 60 %, the image leaves a surround on every side, filled with the (recolored) white
    assert (views[:, :, 0, :] > 0.5).all() or (views[:, :, -1, :] > 0.5).all()
    again = random_views(images, torch.Generator().manual_seed(0), max_shift=0.25, scale_range=(0.6, 0.6))
    assert torch.equal(views, again)


def test_training_is_reproducible_and_learns_to_find_twins(contrastive):
    report = contrastive.training_report
    # a batch of 32 images: chance of picking the twin among the 63 other views is 1/63
    assert report["holdout_accuracy"] > 0.3
    again = train_contrastive_backbone(_shapes(120), epochs=3, batch_size=32, device="cpu", progress=False)
    assert again.weights_fingerprint == contrastive.weights_fingerprint


def test_record_rebuilds_the_same_features(contrastive):
    images = _shapes(20, seed=5)
    record = backbone_record("contrastive", contrastive, {})
    rebuilt = backbone_from_record(record)
    assert isinstance(rebuilt, ContrastiveBackbone) and rebuilt.score_label == "FD-contrastive"
    np.testing.assert_allclose(rebuilt.features(images, 10, "cpu"), contrastive.features(images, 10, "cpu"),
                               rtol=1e-5, atol=1e-6)


def test_shifted_reals_score_closer_than_noise(contrastive):
    reals, others = _shapes(200, seed=1), _shapes(200, seed=2)
    noise = torch.randint(0, 256, reals.shape, generator=torch.Generator().manual_seed(3), dtype=torch.uint8)
    reference = feature_statistics(contrastive.features(reals, 50, "cpu"))

    def distance(images):
        return frechet_distance(*reference, *feature_statistics(contrastive.features(images, 50, "cpu")))

    assert distance(others) < distance(noise) / 10


def test_small_sets_train_in_one_batch_and_too_small_ones_say_what_to_do():
    small = train_contrastive_backbone(_shapes(20), epochs=1, batch_size=256, device="cpu", progress=False)
    assert small.training_report["n_train"] == 18
    with pytest.raises(ConfigError, match="evaluation.backbone: rotation"):
        train_contrastive_backbone(_shapes(9), epochs=1, device="cpu", progress=False)


def test_contrastive_is_chosen_by_name_and_auto_keeps_the_calibrated_backbones():
    offline = lambda: False  # noqa: E731
    named = resolve_evaluation_config({"download_inception": False, "backbone": "contrastive"})
    assert choose_backbone(named, labeled=True, online=offline) == "contrastive"
    auto = resolve_evaluation_config({"download_inception": False})
    assert choose_backbone(auto, labeled=True, online=offline) == "classifier"
    assert choose_backbone(auto, labeled=False, online=offline) == "rotation"
