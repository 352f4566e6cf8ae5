"""The feature-backbone interface: uint8 images in, float64 features out, plus an identity
(name and weights fingerprint) that every score records."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ganforge.errors import ConfigError
from ganforge.utils import content_digest, resolve_device

logger = logging.getLogger(__name__)


def state_dict_fingerprint(state_dict: Mapping[str, torch.Tensor], *extra: str) -> str:
    """Short digest of parameter names, dtypes, shapes and values (independent of device)."""
    return content_digest([list(extra), dict(state_dict)])


def as_device(device: str | torch.device) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


def check_images(images: torch.Tensor) -> None:
    """uint8 N×C×H×W: a tensor, or images on disk that slicing reads (ganforge.gan.shards)."""
    readable = isinstance(images, torch.Tensor) or callable(getattr(images, "take", None))
    if not readable or getattr(images, "dtype", None) != torch.uint8 or len(getattr(images, "shape", ())) != 4:
        raise ConfigError(
            "Backbones take uint8 image tensors shaped N×C×H×W; got "
            f"{type(images).__name__} {getattr(images, 'dtype', '')} "
            f"{tuple(getattr(images, 'shape', ()))}."
        )
    if images.shape[1] not in (1, 3):
        raise ConfigError(f"Images must have 1 or 3 channels, got {images.shape[1]}.")


class FeatureBackbone(ABC):
    """Common interface: ``name``, ``weights_fingerprint``, ``feature_dim`` and ``features()``."""

    name: str
    weights_fingerprint: str
    feature_dim: int
    #: False for anything whose numbers must not be reported as a real score (random weights).
    is_real_score: bool = True
    #: What a distance computed on these features should be called in reports.
    score_label: str = "FID"

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    @abstractmethod
    def _embed(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 batch already on the model's device → float features B×D."""

    def _validate(self, images: torch.Tensor) -> None:
        check_images(images)

    def describe(self) -> dict[str, Any]:
        """Plain-data identity of the backbone, for metric reports."""
        return {
            "name": self.name,
            "weights_fingerprint": self.weights_fingerprint,
            "feature_dim": self.feature_dim,
            "is_real_score": self.is_real_score,
            "score_label": self.score_label,
        }

    def features(
        self,
        images_uint8: torch.Tensor,
        batch_size: int = 50,
        device: str | torch.device = "auto",
        progress: bool = True,
    ) -> np.ndarray:
        """Embed uint8 N×C×H×W images batch by batch; returns float64 N×feature_dim."""
        self._validate(images_uint8)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}.")
        target = as_device(device)
        self.model.to(target)
        count = images_uint8.shape[0]
        out = np.empty((count, self.feature_dim), dtype=np.float64)
        with (
            torch.inference_mode(),
            tqdm(
                total=count,
                unit="img",
                desc=f"features[{self.name}]",
                disable=None if progress else True,  # None: off when not a terminal
                leave=False,
            ) as bar,
        ):
            for start in range(0, count, batch_size):
                batch = images_uint8[start : start + batch_size].to(target, non_blocking=True)
                embedded = self._embed(batch).cpu()  # to CPU first: MPS has no float64
                out[start : start + batch.shape[0]] = embedded.double().numpy()
                bar.update(batch.shape[0])
        if not np.isfinite(out).all():
            logger.warning("Backbone %s produced non-finite features.", self.name)
        return out
