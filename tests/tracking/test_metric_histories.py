"""Training history, score curve and scores as MLflow metric histories."""

from __future__ import annotations

import math

import pandas as pd

from ganforge.pipelines.tracking.nodes import curve_metrics, history_metrics, score_metrics


def test_history_columns_become_per_epoch_histories_without_gaps():
    history = pd.DataFrame({"epoch": [1, 2], "step": [10, 20], "generator_loss": [0.5, 0.4],
                            "weighted_gradient_penalty": [math.nan, 0.1], "images_per_second": [900.0, 950.0]})
    assert history_metrics(history) == {
        "train.generator_loss": [{"step": 1, "value": 0.5}, {"step": 2, "value": 0.4}],
        "train.weighted_gradient_penalty": [{"step": 2, "value": 0.1}],
        "train.images_per_second": [{"step": 1, "value": 900.0}, {"step": 2, "value": 950.0}],
    }


def test_the_score_curve_skips_labels_and_counts():
    curve = pd.DataFrame({"epoch": [5], "fid": [80.0], "n_samples": [2000], "score_label": ["FD-classifier"]})
    assert curve_metrics(curve) == {"curve.fid": [{"step": 5, "value": 80.0}]}
    assert curve_metrics(None) == {} and curve_metrics(pd.DataFrame()) == {}


def test_final_scores_are_stepped_by_the_scored_epoch():
    metrics = {"epoch": 30, "fid": 76.3, "precision": 0.5, "recall": None, "backbone": {"name": "x"},
               "conditional": False, "n_samples": 2000, "score_label": "FD-classifier"}
    assert score_metrics(metrics) == {"fid": [{"step": 30, "value": 76.3}], "precision": [{"step": 30, "value": 0.5}]}
