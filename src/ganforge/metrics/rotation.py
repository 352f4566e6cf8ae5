"""A backbone that needs no labels: the classifier network trained to tell how far each real image
was rotated (0°, 90°, 180°, 270°; Gidaris et al. 2018). Recognizing the rotation of a digit or a
face needs its shape, so the penultimate features describe shapes as class features do, and any
folder of unlabeled images can be scored offline. Scores are "FD-rotation"."""

from __future__ import annotations

from typing import Any

import torch

from ganforge.metrics.classifier import ClassifierBackbone, train_feature_classifier

ROTATIONS = 4


def rotated_copies(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image at four rotations, with the rotation index as its label."""
    copies = [torch.rot90(images, turns, dims=(2, 3)) for turns in range(ROTATIONS)]
    labels = torch.arange(ROTATIONS).repeat_interleave(images.shape[0])
    return torch.cat(copies), labels


class RotationBackbone(ClassifierBackbone):
    score_label = "FD-rotation"

    def __init__(self, model, training_report: dict[str, Any] | None = None) -> None:
        super().__init__(model, training_report)
        self.name = f"rotation_{self.config['arch']}"


def train_rotation_backbone(images: torch.Tensor, *, max_images: int, device: str = "auto",
                            **options: Any) -> RotationBackbone:
    """Train on (at most ``max_images``) real images; the report says how well rotations are told apart."""
    if images.shape[-1] != images.shape[-2]:
        raise ValueError("The rotation backbone needs square images.")
    inputs, labels = rotated_copies(images[:max_images])
    model, report = train_feature_classifier(inputs, labels, ROTATIONS, device=device, **options)
    return RotationBackbone(model, {**report, "pretext": "rotation"})
