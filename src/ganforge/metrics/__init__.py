"""Feature backbones and sample-quality scores (FID / FD-classifier / FD-rotation, KID,
precision/recall).

Pure PyTorch + numpy; nothing here knows about Kedro. Images are uint8 N×C×H×W CPU tensors
(C = 1 or 3); features are float64 numpy arrays N×D.
"""

from ganforge.metrics.backbones import (
    backbone_from_record,
    backbone_record,
    build_inception,
    choose_backbone,
    describe_none,
    train_backbone,
)
from ganforge.metrics.classifier import (
    CLASSIFIER_STATE_FORMAT,
    ClassifierBackbone,
    FeatureClassifier,
    classifier_from_state,
    classifier_state,
    train_feature_classifier,
)
from ganforge.metrics.feature_backbone import FeatureBackbone
from ganforge.metrics.inception import (
    FID_WEIGHTS_FILENAME,
    InceptionBackbone,
    build_inception_backbone,
    inception_hub_cache_path,
    inception_weights_available,
    prepare_inception_input,
    random_inception_state_dict,
)
from ganforge.metrics.registry import METRICS, PRIMARY, compute_all, metric_columns
from ganforge.metrics.rotation import RotationBackbone, train_rotation_backbone
from ganforge.metrics.scores import (
    feature_statistics,
    frechet_distance,
    frechet_distance_to_features,
    kernel_inception_distance,
    precision_recall,
)
from ganforge.metrics.settings import BACKBONE_KINDS, EvaluationConfig, resolve_evaluation_config

__all__ = [
    "BACKBONE_KINDS",
    "CLASSIFIER_STATE_FORMAT",
    "FID_WEIGHTS_FILENAME",
    "METRICS",
    "PRIMARY",
    "ClassifierBackbone",
    "EvaluationConfig",
    "FeatureBackbone",
    "FeatureClassifier",
    "InceptionBackbone",
    "RotationBackbone",
    "backbone_from_record",
    "backbone_record",
    "build_inception",
    "build_inception_backbone",
    "choose_backbone",
    "classifier_from_state",
    "classifier_state",
    "compute_all",
    "describe_none",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_to_features",
    "inception_hub_cache_path",
    "inception_weights_available",
    "kernel_inception_distance",
    "metric_columns",
    "precision_recall",
    "prepare_inception_input",
    "random_inception_state_dict",
    "resolve_evaluation_config",
    "train_backbone",
    "train_feature_classifier",
    "train_rotation_backbone",
]
