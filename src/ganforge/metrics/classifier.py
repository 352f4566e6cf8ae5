"""The domain-classifier backbone ("FD-classifier"): a small CNN trained on the labeled real data
(LeNet-style for ≤28 px, a slightly larger conv net above) whose penultimate features stand in
for Inception's pool3. Its scores are only comparable between runs that share its weights (see
``weights_fingerprint``)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ganforge.errors import BackboneUnavailableError, ConfigError
from ganforge.metrics.feature_backbone import FeatureBackbone, as_device, check_images, state_dict_fingerprint

logger = logging.getLogger(__name__)

CLASSIFIER_STATE_FORMAT = "ganforge.feature_classifier/1"


class FeatureClassifier(nn.Module):
    """Small CNN whose penultimate layer is the feature space for FD-classifier.

    ``lenet`` (≤28 px): LeNet-5 as in Caffe — conv5(20, pad 2)-pool-conv5(50)-pool → 128-d.
    ``convnet`` (32+ px): 3 × [conv3-ReLU-pool] with 32/64/128 channels → 256-d.
    Kept deliberately small: on 2 CPU cores training must take minutes, not hours.
    An adaptive pool (to the map size the nominal input gives) makes any input size work.
    """

    def __init__(
        self, arch: str, in_channels: int, num_classes: int, image_size: tuple[int, int]
    ) -> None:
        super().__init__()
        if arch == "lenet":
            feature_dim, last_channels, pooled = 128, 50, 5
            # Valid second conv as in LeNet; pad it for tiny inputs so the map stays non-empty.
            pad2 = 0 if min(image_size) >= 16 else 2
            body: list[nn.Module] = [
                nn.Conv2d(in_channels, 20, 5, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                nn.Conv2d(20, 50, 5, padding=pad2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
        elif arch == "convnet":
            feature_dim, last_channels, pooled = 256, 128, 4
            body = []
            channels = in_channels
            for width in (32, 64, 128):
                body += [
                    nn.Conv2d(channels, width, 3, padding=1),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(2),
                ]
                channels = width
        else:
            raise ConfigError(f"Unknown classifier arch '{arch}'; use 'lenet' or 'convnet'.")
        self.config = {
            "arch": arch,
            "in_channels": int(in_channels),
            "num_classes": int(num_classes),
            "image_size": [int(image_size[0]), int(image_size[1])],
            "feature_dim": feature_dim,
        }
        self.body = nn.Sequential(
            *body,
            nn.AdaptiveAvgPool2d(pooled),
            nn.Flatten(),
            nn.Linear(last_channels * pooled * pooled, feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(feature_dim, num_classes)

    @staticmethod
    def prepare(images_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 pixels → float in [-1, 1], channels-last (see ``_channels_last``)."""
        scaled = images_uint8.float().mul_(2.0 / 255.0).sub_(1.0)
        return scaled.contiguous(memory_format=torch.channels_last)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


# Channels-last makes oneDNN convolutions and max-pooling ~1.5-5× faster on CPU for these small
# nets; weights are stored in the standard layout, so this is invisible outside the module.
def _channels_last(model: FeatureClassifier) -> FeatureClassifier:
    return model.to(memory_format=torch.channels_last)


def _default_arch(image_size: tuple[int, int]) -> str:
    return "lenet" if max(image_size) <= 28 else "convnet"


def _as_label_tensor(labels: Any, count: int, num_classes: int) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(labels)).long().reshape(-1)
    if tensor.shape[0] != count:
        raise ConfigError(f"Got {tensor.shape[0]} labels for {count} images.")
    if count and (int(tensor.min()) < 0 or int(tensor.max()) >= num_classes):
        raise ConfigError(
            f"Labels must lie in [0, {num_classes}); found range "
            f"[{int(tensor.min())}, {int(tensor.max())}]."
        )
    return tensor


def _fit(
    model: FeatureClassifier,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    generator: torch.Generator,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    progress: bool,
) -> tuple[float, int]:
    """Adam on cross-entropy, a seeded permutation per epoch; returns the last loss and the last
    epoch's count of correct training predictions."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    count = train_x.shape[0]
    steps_per_epoch = math.ceil(count / batch_size)
    last_loss, correct = float("nan"), 0
    model.train()
    arch = model.config["arch"]
    with tqdm(total=epochs * steps_per_epoch, desc=f"classifier[{arch}]", disable=None if progress else True) as bar:
        for epoch in range(epochs):
            permutation = torch.randperm(count, generator=generator).to(train_x.device)
            correct = 0
            for step in range(steps_per_epoch):
                index = permutation[step * batch_size : (step + 1) * batch_size]
                logits = model(FeatureClassifier.prepare(train_x[index]))
                loss = F.cross_entropy(logits, train_y[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                last_loss = float(loss.detach())
                correct += int((logits.detach().argmax(1) == train_y[index]).sum())
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{last_loss:.4f}")
            if not math.isfinite(last_loss):
                raise ConfigError(f"Feature classifier loss became {last_loss}; lower the learning rate.")
    return last_loss, correct


def train_feature_classifier(
    images_uint8: torch.Tensor,
    labels: Any,
    num_classes: int,
    *,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    holdout_fraction: float = 0.1,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
    arch: str | None = None,
) -> tuple[FeatureClassifier, dict[str, Any]]:
    """Train the domain classifier on labeled real images; returns ``(model, report)``.

    ``report`` holds ``holdout_accuracy`` (None if no hold-out), ``train_accuracy``,
    ``n_train``, ``n_holdout``, ``epochs``, ``seconds`` and the settings. Bit-reproducible for
    a given seed on CPU: the split, init and shuffling all come from the seed, and the caller's
    global RNG is left untouched.
    """
    check_images(images_uint8)
    count = images_uint8.shape[0]
    if num_classes < 2:
        raise ConfigError(f"The feature classifier needs at least 2 classes, got {num_classes}.")
    if not 0.0 <= holdout_fraction < 1.0:
        raise ConfigError(f"holdout_fraction must be in [0, 1), got {holdout_fraction}.")
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ConfigError(
            f"epochs, batch_size and lr must be positive (got {epochs}, {batch_size}, {lr})."
        )
    label_tensor = _as_label_tensor(labels, count, num_classes)
    n_holdout = int(round(count * holdout_fraction))
    if holdout_fraction > 0:
        n_holdout = max(n_holdout, 1)
    n_train = count - n_holdout
    if n_train < 1:
        raise ConfigError(f"Not enough labeled images ({count}) to train the feature classifier.")

    target = as_device(device)
    image_size = (int(images_uint8.shape[2]), int(images_uint8.shape[3]))
    arch = arch or _default_arch(image_size)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    train_idx, holdout_idx = order[:n_train], order[n_train:]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FeatureClassifier(arch, images_uint8.shape[1], num_classes, image_size)
    _channels_last(model).to(target)
    # Keep the data as one uint8 tensor on the device; batches are index slices (no workers).
    train_x = images_uint8[train_idx].to(target)
    train_y = label_tensor[train_idx].to(target)
    started = time.perf_counter()
    last_loss, correct = _fit(model, train_x, train_y, generator, epochs=epochs, batch_size=batch_size, lr=lr,
                              progress=progress)
    model.eval()
    holdout_accuracy = (
        _accuracy(model, images_uint8[holdout_idx], label_tensor[holdout_idx], batch_size, target)
        if n_holdout
        else None
    )
    seconds = time.perf_counter() - started
    report = {
        "arch": arch,
        "num_classes": int(num_classes),
        "feature_dim": model.config["feature_dim"],
        "image_size": list(image_size),
        "in_channels": int(images_uint8.shape[1]),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "lr": float(lr),
        "seed": int(seed),
        "n_train": int(n_train),
        "n_holdout": int(n_holdout),
        "holdout_accuracy": holdout_accuracy,
        "train_accuracy": correct / n_train,  # last epoch, measured while training
        "final_train_loss": last_loss,
        "seconds": seconds,
        "device": str(target),
    }
    logger.info(
        "Feature classifier (%s) trained in %.1fs: hold-out accuracy %s on %d images",
        arch,
        seconds,
        "n/a" if holdout_accuracy is None else f"{holdout_accuracy:.4f}",
        n_holdout,
    )
    return model, report


def _accuracy(
    model: FeatureClassifier,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> float:
    correct = 0
    with torch.inference_mode():
        for start in range(0, images.shape[0], batch_size):
            batch = FeatureClassifier.prepare(images[start : start + batch_size].to(device))
            predicted = model(batch).argmax(1).cpu()
            correct += int((predicted == labels[start : start + batch_size]).sum())
    return correct / images.shape[0]


def classifier_state(model: FeatureClassifier) -> dict[str, Any]:
    """Plain-data snapshot (config + CPU state dict), loadable with ``weights_only=True``."""
    return {
        "format": CLASSIFIER_STATE_FORMAT,
        "config": dict(model.config),
        "state_dict": {
            key: value.detach().cpu().contiguous().clone()  # standard layout, not channels-last
            for key, value in model.state_dict().items()
        },
    }


def classifier_from_state(state: Mapping[str, Any]) -> FeatureClassifier:
    """Rebuild a :class:`FeatureClassifier` from :func:`classifier_state` output (eval mode)."""
    if not isinstance(state, Mapping) or state.get("format") != CLASSIFIER_STATE_FORMAT:
        found = state.get("format") if isinstance(state, Mapping) else type(state).__name__
        raise BackboneUnavailableError(
            f"Not a feature-classifier state (expected format {CLASSIFIER_STATE_FORMAT!r}, "
            f"found {found!r}). Retrain the classifier or point to the right file."
        )
    config = state["config"]
    model = FeatureClassifier(
        config["arch"], config["in_channels"], config["num_classes"], tuple(config["image_size"])
    )
    model.load_state_dict(state["state_dict"])
    return _channels_last(model).eval()


class ClassifierBackbone(FeatureBackbone):
    """Penultimate features of a trained :class:`FeatureClassifier` ("FD-classifier")."""

    score_label = "FD-classifier"

    def __init__(
        self, model: FeatureClassifier, training_report: dict[str, Any] | None = None
    ) -> None:
        super().__init__(_channels_last(model))
        self.config = dict(model.config)
        self.name = f"classifier_{self.config['arch']}"
        self.feature_dim = int(self.config["feature_dim"])
        self.weights_fingerprint = state_dict_fingerprint(
            model.state_dict(), repr(sorted(self.config.items()))
        )
        self.training_report = training_report

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "classifier_config": dict(self.config)}

    def _validate(self, images: torch.Tensor) -> None:
        super()._validate(images)
        expected = (self.config["in_channels"], *self.config["image_size"])
        if tuple(images.shape[1:]) != tuple(expected):
            # The classifier only knows the real data's geometry; scoring other shapes would
            # silently measure resampling artefacts.
            raise ConfigError(
                f"The feature classifier was trained on C×H×W = {expected}, but images are "
                f"{tuple(images.shape[1:])}. Generate images with the real data's shape."
            )

    def _embed(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        return self.model.embed(FeatureClassifier.prepare(batch_uint8))

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int, device: str | torch.device = "cpu") -> torch.Tensor:
        """The classifier's class for each uint8 image (CPU tensor of indices)."""
        self._validate(images)
        target = as_device(device)
        model = self.model.to(target)
        classes = [model(FeatureClassifier.prepare(images[start : start + batch_size].to(target))).argmax(dim=1).cpu()
                   for start in range(0, images.shape[0], batch_size)]
        return torch.cat(classes)
