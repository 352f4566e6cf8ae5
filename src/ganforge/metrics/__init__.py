"""Feature backbones and sample-quality scores (FID / FD-classifier, KID, precision/recall).

Pure PyTorch + numpy; nothing here knows about Kedro. Images are uint8 N×C×H×W CPU tensors
(C = 1 or 3); features are float64 numpy arrays N×D.
"""

from ganforge.metrics.backbones import (
    CLASSIFIER_STATE_FORMAT,
    ClassifierBackbone,
    FeatureBackbone,
    FeatureClassifier,
    InceptionBackbone,
    build_backbone,
    build_inception_backbone,
    classifier_from_state,
    classifier_state,
    inception_hub_cache_path,
    inception_weights_available,
    prepare_inception_input,
    random_inception_state_dict,
    train_feature_classifier,
)
from ganforge.metrics.scores import (
    feature_statistics,
    frechet_distance,
    frechet_distance_to_features,
    kernel_inception_distance,
    precision_recall,
)

__all__ = [
    "CLASSIFIER_STATE_FORMAT",
    "ClassifierBackbone",
    "FeatureBackbone",
    "FeatureClassifier",
    "InceptionBackbone",
    "build_backbone",
    "build_inception_backbone",
    "classifier_from_state",
    "classifier_state",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_to_features",
    "inception_hub_cache_path",
    "inception_weights_available",
    "kernel_inception_distance",
    "precision_recall",
    "prepare_inception_input",
    "random_inception_state_dict",
    "train_feature_classifier",
]
