"""Which feature backbone a score uses, decided in one place, and how each kind is built.

``evaluation.backbone``:

* ``inception`` — pytorch-fid's InceptionV3 (real FID); needs its weights: a local file, the torch
  hub cache, or a download (``evaluation.download_inception``: ``auto`` tries when online).
* ``classifier`` — a small CNN trained on the labeled real data ("FD-classifier").
* ``rotation`` — the same CNN trained to recognize rotations of the real images; needs no labels
  ("FD-rotation"), so any image folder can be scored offline.
* ``contrastive`` — the same CNN trained to match two random views of each real image (SimCLR);
  needs no labels ("FD-contrastive"); chosen by name only: on the emoji it ranks the other drawing
  style and blurred images as a person would, but not a run that draws emoji against one that
  draws blobs (README, "Which offline backbone orders color images").
* ``none`` — train and sample, no score.
* ``auto`` (default) — Inception when its weights can be had, else (:func:`offline_backbone`)
  the classifier on labeled data, else the rotation backbone.
"""

from __future__ import annotations

import functools
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch

from ganforge.errors import BackboneUnavailableError
from ganforge.metrics.classifier import (
    ClassifierBackbone,
    classifier_from_state,
    classifier_state,
    train_feature_classifier,
)
from ganforge.metrics.contrastive import ContrastiveBackbone, train_contrastive_backbone
from ganforge.metrics.feature_backbone import FeatureBackbone
from ganforge.metrics.inception import build_inception_backbone, fid_weights_url, inception_weights_available
from ganforge.metrics.rotation import RotationBackbone, train_rotation_backbone

logger = logging.getLogger(__name__)

MENU = (
    "Ways to score: evaluation.inception_weights: /path/to/pt_inception-2015-12-05-6726825d.pth (or that file in "
    "the torch hub cache, or evaluation.download_inception: true on a machine with internet) for FID; "
    "evaluation.backbone: classifier on labeled data; evaluation.backbone: rotation on any data (no labels "
    "needed); evaluation.backbone: contrastive on any data (no labels needed); "
    "evaluation.backbone: none to train and sample without a score."
)


@functools.cache
def is_online(timeout: float = 2.0) -> bool:
    """Whether the host of pytorch-fid's weights answers (a name lookup fails at once offline);
    asked once per process, not once per node."""
    host = urlparse(fid_weights_url()).hostname or "github.com"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def may_download(settings: dict[str, Any], online: Callable[[], bool] = is_online) -> bool:
    choice = settings.get("download_inception", "auto")
    if choice == "auto":
        return not settings.get("inception_weights") and online()
    return bool(choice)


def offline_backbone(labeled: bool) -> str:
    """What ``auto`` trains when Inception cannot be had."""
    return "classifier" if labeled else "rotation"


def choose_backbone(settings: dict[str, Any], labeled: bool, online: Callable[[], bool] = is_online) -> str:
    """The backbone kind a run scores with; raises before any training when the configured one
    cannot be built, with every way out in the message."""
    kind = settings["backbone"]
    weights = settings.get("inception_weights")
    if kind in ("inception", "auto"):
        if inception_weights_available(weights) or may_download(settings, online):
            return "inception"
        if kind == "inception" or weights:
            reason = f"{weights} does not exist" if weights else "no weights file and no download possible"
            raise BackboneUnavailableError(f"Inception weights for FID are not available ({reason}). {MENU}")
    if kind == "classifier" and not labeled:
        raise BackboneUnavailableError(f"evaluation.backbone is 'classifier' but the data has no labels. {MENU}")
    if kind == "auto":
        return offline_backbone(labeled)
    return kind


def train_backbone(kind: str, model_input: dict[str, Any], settings: dict[str, Any]) -> FeatureBackbone:
    """A freshly trained classifier, rotation or contrastive backbone on the real data."""
    options = dict(settings[backbone_settings_key(kind)])
    max_images = options.pop("max_images")
    images, labels = model_input["images"], model_input.get("labels")
    if not isinstance(images, torch.Tensor):  # stored as shards, maybe larger than memory: read a sample
        images, labels = images[:max_images], (labels[:max_images] if labels is not None else None)
    if kind == "classifier":
        model, report = train_feature_classifier(images, labels, int(model_input["num_classes"]),
                                                 device=settings["device"], **options)
        return ClassifierBackbone(model, report)
    if kind == "contrastive":
        return train_contrastive_backbone(images, max_images=max_images, device=settings["device"], **options)
    return train_rotation_backbone(images, max_images=max_images, device=settings["device"], **options)


def backbone_settings_key(kind: str) -> str:
    """The ``evaluation:`` section that configures a trained backbone."""
    return "contrastive" if kind == "contrastive" else "classifier"


def backbone_record(kind: str, backbone: FeatureBackbone, settings: dict[str, Any]) -> dict[str, Any]:
    """Plain data that rebuilds the backbone (saved with the real statistics, passed to scoring)."""
    record: dict[str, Any] = {"kind": kind, "describe": backbone.describe()}
    if kind == "inception":
        record["inception_weights"] = getattr(backbone, "source", settings.get("inception_weights"))
    else:
        record.update(classifier=classifier_state(backbone.model), report=backbone.training_report)
    return record


def backbone_from_record(record: dict[str, Any]) -> FeatureBackbone:
    if record["kind"] == "inception":
        source = record.get("inception_weights")
        local = source if source and Path(source).is_file() else None
        return build_inception_backbone(local, allow_download=local is None)
    kind_class = {"rotation": RotationBackbone, "contrastive": ContrastiveBackbone}.get(record["kind"],
                                                                                       ClassifierBackbone)
    return kind_class(classifier_from_state(record["classifier"]), record["report"])


def build_inception(settings: dict[str, Any]) -> FeatureBackbone:
    return build_inception_backbone(settings.get("inception_weights"), allow_download=may_download(settings))


def describe_none() -> dict[str, Any]:
    return {"name": "none", "weights_fingerprint": None, "feature_dim": 0, "is_real_score": False,
            "score_label": "no score"}


