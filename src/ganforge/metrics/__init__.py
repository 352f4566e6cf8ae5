"""Feature backbones and sample-quality scores (FID / FD-classifier / FD-rotation / FD-contrastive, KID,
precision/recall).

Pure PyTorch + numpy; nothing here knows about Kedro. Images are uint8 N×C×H×W CPU tensors
(C = 1 or 3); features are float64 numpy arrays N×D.

Names are imported on first use (PEP 562), so that :mod:`ganforge.metrics.frechet` (numpy only)
can be imported, and tested, where torch is not installed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "backbone_from_record": "ganforge.metrics.backbones",
    "backbone_record": "ganforge.metrics.backbones",
    "build_inception": "ganforge.metrics.backbones",
    "choose_backbone": "ganforge.metrics.backbones",
    "describe_none": "ganforge.metrics.backbones",
    "backbone_settings_key": "ganforge.metrics.backbones",
    "offline_backbone": "ganforge.metrics.backbones",
    "ContrastiveBackbone": "ganforge.metrics.contrastive",
    "train_contrastive_backbone": "ganforge.metrics.contrastive",
    "train_backbone": "ganforge.metrics.backbones",
    "CLASSIFIER_STATE_FORMAT": "ganforge.metrics.classifier",
    "ClassifierBackbone": "ganforge.metrics.classifier",
    "FeatureClassifier": "ganforge.metrics.classifier",
    "classifier_from_state": "ganforge.metrics.classifier",
    "classifier_state": "ganforge.metrics.classifier",
    "train_feature_classifier": "ganforge.metrics.classifier",
    "FeatureBackbone": "ganforge.metrics.feature_backbone",
    "FID_WEIGHTS_FILENAME": "ganforge.metrics.inception",
    "InceptionBackbone": "ganforge.metrics.inception",
    "build_inception_backbone": "ganforge.metrics.inception",
    "inception_hub_cache_path": "ganforge.metrics.inception",
    "inception_weights_available": "ganforge.metrics.inception",
    "prepare_inception_input": "ganforge.metrics.inception",
    "random_inception_state_dict": "ganforge.metrics.inception",
    "METRICS": "ganforge.metrics.registry",
    "PRIMARY": "ganforge.metrics.registry",
    "compute_all": "ganforge.metrics.registry",
    "metric_columns": "ganforge.metrics.registry",
    "RotationBackbone": "ganforge.metrics.rotation",
    "train_rotation_backbone": "ganforge.metrics.rotation",
    "feature_statistics": "ganforge.metrics.scores",
    "frechet_distance": "ganforge.metrics.frechet",
    "frechet_distance_to_features": "ganforge.metrics.scores",
    "kernel_inception_distance": "ganforge.metrics.scores",
    "precision_recall": "ganforge.metrics.scores",
    "BACKBONE_KINDS": "ganforge.metrics.settings",
    "TRAINED_BACKBONES": "ganforge.metrics.settings",
    "EvaluationConfig": "ganforge.metrics.settings",
    "resolve_evaluation_config": "ganforge.metrics.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ganforge.metrics' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
