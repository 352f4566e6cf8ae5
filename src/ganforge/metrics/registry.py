"""The sample-quality metrics, registered by name. The score table, the score curve, the champion
summary and the compare report all read their columns from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganforge.metrics.scores import frechet_distance_to_features, kernel_inception_distance, precision_recall
from ganforge.registry import Registry


@dataclass(frozen=True)
class Metric:
    columns: tuple[str, ...]
    lower_is_better: bool
    #: (real statistics, real features, fake features, settings) → {column: value}
    compute: Callable[[dict[str, Any], np.ndarray, np.ndarray, dict[str, Any]], dict[str, float]]


METRICS: Registry[Metric] = Registry("metric", "metrics")
#: the column that ranks models (its label comes from the backbone: FID, FD-classifier, ...)
PRIMARY = "fid"


def _frechet(real: dict[str, Any], real_features: np.ndarray, fake: np.ndarray, settings: dict) -> dict[str, float]:
    return {"fid": frechet_distance_to_features(real["mu"].numpy(), real["sigma"].numpy(), fake)}


def _kid(real: dict[str, Any], real_features: np.ndarray, fake: np.ndarray, settings: dict) -> dict[str, float]:
    mean, std = kernel_inception_distance(real_features, fake, subsets=settings["kid_subsets"],
                                          subset_size=settings["kid_subset_size"], seed=settings["seed"])
    return {"kid": mean, "kid_std": std}


def _precision_recall(real: dict[str, Any], real_features: np.ndarray, fake: np.ndarray,
                      settings: dict) -> dict[str, float]:
    precision, recall = precision_recall(real_features, fake, k=settings["precision_recall_k"])
    return {"precision": precision, "recall": recall}


METRICS.register("frechet_distance", Metric(("fid",), True, _frechet))
METRICS.register("kid", Metric(("kid", "kid_std"), True, _kid))
METRICS.register("precision_recall", Metric(("precision", "recall"), False, _precision_recall))


def metric_columns() -> list[str]:
    return [column for name in METRICS for column in METRICS[name].columns]


def compute_all(real: dict[str, Any], fake_features: np.ndarray, settings: dict[str, Any]) -> dict[str, float]:
    real_features = real["features"].double().numpy()
    scores: dict[str, float] = {}
    for name in METRICS:
        scores.update(METRICS[name].compute(real, real_features, fake_features, settings))
    return scores
