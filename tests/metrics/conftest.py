"""Shared synthetic data for the metrics tests (small, so the whole folder runs in seconds)."""

from __future__ import annotations

import pytest
import torch

from ganforge.metrics import ClassifierBackbone, train_feature_classifier


def make_labeled_images(
    count: int, *, size: int = 28, channels: int = 1, num_classes: int = 4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Separable classes: class c is a bright square in quadrant c on a noisy dark background."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % num_classes
    images = torch.randint(0, 60, (count, channels, size, size), generator=generator).float()
    half = size // 2
    for label in range(num_classes):
        row, col = divmod(label % 4, 2)
        rows, cols = slice(row * half, (row + 1) * half), slice(col * half, (col + 1) * half)
        mask = labels == label
        images[mask, :, rows, cols] = images[mask, :, rows, cols] + 150 + 20 * (label // 4)
    return images.clamp(0, 255).to(torch.uint8), labels


@pytest.fixture(scope="session")
def make_images():
    """The synthetic-data factory, for tests that need their own sizes or seeds."""
    return make_labeled_images


@pytest.fixture(scope="session")
def labeled_data() -> tuple[torch.Tensor, torch.Tensor]:
    return make_labeled_images(600, seed=1)


@pytest.fixture(scope="session")
def trained_classifier(labeled_data):
    images, labels = labeled_data
    model, report = train_feature_classifier(
        images,
        labels,
        4,
        epochs=2,
        batch_size=64,
        lr=2e-3,
        holdout_fraction=0.2,
        seed=7,
        device="cpu",
        progress=False,
    )
    return model, report


@pytest.fixture(scope="session")
def classifier_backbone(trained_classifier) -> ClassifierBackbone:
    model, report = trained_classifier
    return ClassifierBackbone(model, training_report=report)
