"""Put every variant's latest (or chosen, via --load-versions) scores and samples side by side.

Scores are only compared within one backbone (name and weights fingerprint): an FD-classifier
number and an Inception FID measure different things.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

TABLE_COLUMNS = ["variant", "score_label", "fid", "kid", "kid_std", "precision", "recall", "epoch",
                 "n_samples", "n_real", "backbone", "backbone_fingerprint", "run_id",
                 "checkpoint_version"]
QUALITY_MINUTES = (1, 2, 5)


def comparison_table(**metrics_by_variant: dict[str, Any]) -> pd.DataFrame:
    """One row per variant, best score first within each backbone."""
    rows = []
    for variant, metrics in metrics_by_variant.items():
        rows.append({
            **{key: metrics.get(key) for key in TABLE_COLUMNS},
            "variant": variant,
            "backbone": metrics["backbone"]["name"],
            "backbone_fingerprint": metrics["backbone"]["weights_fingerprint"],
        })
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return table.sort_values(["backbone", "backbone_fingerprint", "fid"]).reset_index(drop=True)


def time_to_quality(**curves_by_variant: pd.DataFrame) -> pd.DataFrame:
    """The best score each variant had reached after 1, 2 and 5 minutes of training (from the
    intermediate scores of evaluation.every_n_epochs); empty where no score existed yet."""
    rows = []
    for variant, curve in curves_by_variant.items():
        row: dict[str, Any] = {"variant": variant}
        if len(curve):
            row["score_label"] = curve["score_label"].iloc[0]
            row["backbone"] = curve["backbone"].iloc[0]
        for minutes in QUALITY_MINUTES:
            reached = curve[curve["train_seconds"] <= minutes * 60] if len(curve) else curve
            row[f"score_at_{minutes}_min"] = float(reached["fid"].min()) if len(reached) else np.nan
        row["total_train_minutes"] = float(curve["train_seconds"].max() / 60) if len(curve) else np.nan
        row["final_score"] = float(curve["fid"].iloc[-1]) if len(curve) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_markdown(table: pd.DataFrame, quality: pd.DataFrame) -> str:
    """The tables as markdown, one score table per backbone."""
    lines = ["# GAN Forge: variant comparison", ""]
    groups = list(table.groupby(["backbone", "backbone_fingerprint"], sort=False))
    if len(groups) > 1:
        lines += ["> Scores below come from different feature backbones and are **not comparable** "
                  "across tables.", ""]
    for (backbone, fingerprint), group in groups:
        label = group["score_label"].iloc[0]
        lines += [f"## {label} (backbone `{backbone}`, weights `{fingerprint}`)", ""]
        shown = group[["variant", "fid", "kid", "kid_std", "precision", "recall", "epoch",
                       "n_samples", "run_id"]].rename(columns={"fid": label})
        lines += [shown.to_markdown(index=False, floatfmt=".4g"), ""]
    if len(quality):
        lines += ["## Time to quality (best score reached within N minutes of training)", "",
                  quality.to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines)


def score_versus_epoch_plot(**curves_by_variant: pd.DataFrame) -> plt.Figure:
    """Score against epoch and against training wall-clock time, one line per variant."""
    figure, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    label = "score"
    for variant, curve in curves_by_variant.items():
        if not len(curve):
            continue
        label = curve["score_label"].iloc[0]
        by_epoch.plot(curve["epoch"], curve["fid"], marker="o", label=variant)
        by_time.plot(curve["train_seconds"] / 60, curve["fid"], marker="o", label=variant)
    by_epoch.set(title=f"{label} versus epoch", xlabel="epoch", ylabel=f"{label} (lower is better)")
    by_time.set(title="Time to quality", xlabel="training minutes", ylabel=label)
    for axis in (by_epoch, by_time):
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend()
    figure.tight_layout()
    return figure


def sample_grids_figure(table: pd.DataFrame, **grids_by_variant: Image.Image) -> plt.Figure:
    """Every variant's sample grid side by side, titled with its score."""
    scores = table.set_index("variant")
    figure, axes = plt.subplots(1, len(grids_by_variant), figsize=(3.2 * len(grids_by_variant), 3.6), squeeze=False)
    for axis, (variant, grid) in zip(axes[0], grids_by_variant.items(), strict=True):
        axis.imshow(np.asarray(grid), cmap="gray" if grid.mode == "L" else None, interpolation="nearest")
        if variant in scores.index:
            row = scores.loc[variant]
            axis.set_title(f"{variant}\n{row['score_label']} {row['fid']:.3g}", fontsize=10)
        else:
            axis.set_title(variant)
        axis.axis("off")
    figure.tight_layout()
    return figure
