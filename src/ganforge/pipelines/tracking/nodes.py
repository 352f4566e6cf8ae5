"""Tables and score records as MLflow metric histories (``{key: [{"step", "value"}, ...]}``, what
kedro-mlflow's ``MlflowMetricsHistoryDataset`` logs). Steps are epochs, so the curves of runs of
different lengths line up in the MLflow UI."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

MetricHistories = dict[str, list[dict[str, float]]]

#: columns that are the step or a count, not something to plot
NOT_METRICS = {"epoch", "step", "n_samples", "n_real"}


def history_metrics(training_history: pd.DataFrame) -> MetricHistories:
    """Per-epoch losses, images per second and the other training-history columns."""
    return _histories(training_history, prefix="train.")


def curve_metrics(score_curve: pd.DataFrame | None) -> MetricHistories:
    """The score curve: FD, KID, precision, recall, ... at each scored epoch."""
    return _histories(score_curve, prefix="curve.")


def score_metrics(metrics: dict[str, Any] | None) -> MetricHistories:
    """The final scores (every number of the metrics record), at the scored checkpoint's epoch."""
    metrics = metrics or {}
    epoch = int(metrics.get("epoch") or 0)
    return {key: [{"step": epoch, "value": float(value)}] for key, value in metrics.items()
            if key not in NOT_METRICS and _is_number(value)}


def _histories(table: pd.DataFrame | None, prefix: str) -> MetricHistories:
    if table is None or table.empty or "epoch" not in table:
        return {}
    histories = {}
    for column in table.columns:
        if column in NOT_METRICS or not pd.api.types.is_numeric_dtype(table[column]):
            continue
        points = [{"step": int(epoch), "value": float(value)}
                  for epoch, value in zip(table["epoch"], table[column], strict=True) if _is_number(value)]
        if points:
            histories[f"{prefix}{column}"] = points
    return histories


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
