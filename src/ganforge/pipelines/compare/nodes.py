"""Put every variant's latest (or chosen, via --load-versions) scores and samples side by side.

Scores are only compared within one backbone (name and weights fingerprint): an FD-classifier
number and an Inception FID measure different things.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from ganforge.metrics import PRIMARY, metric_columns

IDENTITY_COLUMNS = ["variant", "status", "conditional", "score_label"]
RUN_COLUMNS = ["epoch", "n_samples", "n_real", "backbone", "backbone_fingerprint", "run_id", "checkpoint_version"]
#: scores are only ranked against scores computed the same way
COMPARABLE_BY = ["conditional", "backbone", "backbone_fingerprint", "n_samples", "n_real"]
QUALITY_MINUTES = (1, 2, 5)
#: scores whose first crossing is timed (FD-classifier: 100 = digit-like, 50 = mostly good digits)
QUALITY_TARGETS = (100, 50)
NOT_RUN = "no scores yet: run `kedro run --pipeline={variant}`"


def _row(variant: str, metrics: dict[str, Any] | None) -> dict[str, Any]:
    if not metrics:
        return {"variant": variant, "status": NOT_RUN.format(variant=variant)}
    scored = metrics.get(PRIMARY) is not None
    return {
        **{key: metrics.get(key) for key in [*metric_columns(), *RUN_COLUMNS, "score_label", "conditional"]},
        "variant": variant,
        "status": "scored" if scored else "not scored (evaluation.backbone: none)",
        "conditional": bool(metrics.get("conditional")),
        "backbone": metrics["backbone"]["name"],
        "backbone_fingerprint": metrics["backbone"]["weights_fingerprint"],
    }


def comparison_table(**metrics_by_variant: dict[str, Any] | None) -> pd.DataFrame:
    """One row per variant (those without scores say so), best score first within each group of
    comparable scores: same backbone and weights, same sample counts, conditional apart."""
    rows = [_row(variant, metrics) for variant, metrics in metrics_by_variant.items()]
    table = pd.DataFrame(rows, columns=[*IDENTITY_COLUMNS, *metric_columns(), *RUN_COLUMNS])
    return table.sort_values([*COMPARABLE_BY, PRIMARY], na_position="last").reset_index(drop=True)


def time_to_quality(**curves_by_variant: pd.DataFrame | None) -> pd.DataFrame:
    """The best score each variant had reached after 1, 2 and 5 minutes of training, and the
    training seconds at which its score first reached 100 and 50 (from the intermediate scores of
    evaluation.every_n_epochs, so to the nearest scored epoch); empty where it had not."""
    rows = []
    for variant, curve in curves_by_variant.items():
        if curve is None or not len(curve):
            continue
        row: dict[str, Any] = {"variant": variant, "score_label": curve["score_label"].iloc[0],
                               "backbone": curve["backbone"].iloc[0]}
        for minutes in QUALITY_MINUTES:
            reached = curve[curve["train_seconds"] <= minutes * 60]
            row[f"score_at_{minutes}_min"] = float(reached[PRIMARY].min()) if len(reached) else np.nan
        for target in QUALITY_TARGETS:
            reached = curve[curve[PRIMARY] <= target]
            row[f"seconds_to_{target}"] = float(reached["train_seconds"].min()) if len(reached) else np.nan
        row["total_train_minutes"] = float(curve["train_seconds"].max() / 60)
        row["final_score"] = float(curve[PRIMARY].iloc[-1])
        rows.append(row)
    # the columns even without rows: an empty CSV without a header cannot be read back
    columns = ["variant", "score_label", "backbone", *[f"score_at_{minutes}_min" for minutes in QUALITY_MINUTES],
               *[f"seconds_to_{target}" for target in QUALITY_TARGETS], "total_train_minutes", "final_score"]
    return pd.DataFrame(rows, columns=columns)


#: columns of the two-domain section, one row per variant and scored image set
TWO_DOMAIN_COLUMNS = ["variant", "images", "status", "score_label", PRIMARY, "kid", "precision", "recall",
                      "label_preservation", "label_preservation_untranslated", "cycle_error", "pair_agreement",
                      "epoch", "n_samples", "n_real", "run_id"]
#: what each row scores: translations of one direction (CycleGAN) or one domain's samples (CoGAN)
IMAGE_SETS = {"a_to_b": "A -> B", "b_to_a": "B -> A", "domain_a": "A", "domain_b": "B"}


def two_domain_table(**metrics_by_variant: dict[str, Any] | None) -> pd.DataFrame:
    """The two-domain variants: one row per direction of translation (CycleGAN) or per domain
    (CoGAN), each scored against its domain's real images on that domain's backbone, with label
    preservation and cycle error, or pair agreement. These scores measure translations or
    coupled pairs, so they are never ranked with the others."""
    rows = []
    for variant, metrics in metrics_by_variant.items():
        if not metrics:
            rows.append({"variant": variant, "status": NOT_RUN.format(variant=variant)})
            continue
        for name in metrics["rows"]:
            scores = metrics[name]
            rows.append({**{key: scores.get(key) for key in TWO_DOMAIN_COLUMNS}, "variant": variant,
                         "images": IMAGE_SETS[name], "pair_agreement": metrics.get("pair_agreement"),
                         "epoch": metrics["epoch"], "run_id": metrics["run_id"],
                         "status": "scored" if scores.get(PRIMARY) is not None else "not scored"})
    return pd.DataFrame(rows, columns=TWO_DOMAIN_COLUMNS)


def sweep_table(**summaries_by_variant: dict[str, Any] | None) -> pd.DataFrame:
    """Mean ± std of each score over the seeds of each variant's latest sweep."""
    rows = []
    for variant, summary in summaries_by_variant.items():
        if not summary or not summary["n"]:
            continue
        row = {"variant": variant, "seeds": summary["n"]}
        for column, mean in summary["mean"].items():
            spread = summary["std"].get(column, math.nan)
            row[column] = f"{mean:.4g} ± {spread:.2g}" if not math.isnan(spread) else f"{mean:.4g}"
        rows.append(row)
    table = pd.DataFrame(rows, columns=["variant", "seeds", *metric_columns()])
    # scores no sweep has (kid where it was not computed) left out; with no sweep, the header stays
    return table.dropna(axis=1, how="all") if rows else table


def comparison_markdown(table: pd.DataFrame, quality: pd.DataFrame, two_domain: pd.DataFrame | None = None,
                        sweeps: pd.DataFrame | None = None) -> str:
    """The tables as markdown: one ranking per group of comparable scores, conditional variants in
    their own section (their samples follow the real class mix, but they are told the class), and
    the two-domain variants apart from all of them."""
    lines = ["# GAN Forge: variant comparison", ""]
    scored = table[table["status"] == "scored"]
    groups = list(scored.groupby(COMPARABLE_BY, sort=False, dropna=False))
    if len(groups) > 1:
        lines += ["> Each table ranks scores computed the same way (backbone and weights, sample counts). "
                  "Numbers in different tables are **not comparable**.", ""]
    for (conditional, backbone, fingerprint, n_samples, n_real), group in groups:
        label = group["score_label"].iloc[0]
        kind = "conditional variants" if conditional else "unconditional variants"
        lines += [f"## {label}, {kind} (backbone `{backbone}`, weights `{fingerprint}`, "
                  f"{int(n_samples)} generated vs {int(n_real)} real images)", ""]
        shown = group[["variant", *metric_columns(), "epoch", "run_id"]].rename(columns={PRIMARY: label})
        lines += [shown.to_markdown(index=False, floatfmt=".4g"), ""]
    two_domain = two_domain if two_domain is not None else pd.DataFrame(columns=TWO_DOMAIN_COLUMNS)
    unscored = pd.concat([table[table["status"] != "scored"], two_domain[two_domain["status"] != "scored"]])
    unscored = unscored.drop_duplicates("variant")
    if len(unscored):
        lines += ["## Not in the ranking", "", *[f"- `{row.variant}`: {row.status}" for row in unscored.itertuples()],
                  ""]
    if sweeps is not None and len(sweeps):
        labels = table["score_label"].dropna()
        label = labels.iloc[0] if len(labels) else PRIMARY
        lines += ["## Over seeds (mean ± sample std of each variant's latest sweep, `kedro run --pipeline="
                  "sweep_<variant>`)", "", "The numbers to quote: one run's score moves with its seed.", "",
                  sweeps.rename(columns={PRIMARY: label}).to_markdown(index=False), ""]
    if len(quality):
        lines += ["## Time to quality (best score reached within N minutes of training)", "",
                  quality.to_markdown(index=False, floatfmt=".4g"), ""]
    two_domain = two_domain[two_domain["status"] == "scored"]
    if len(two_domain):
        lines += ["## Two-domain variants (translations, not samples: not comparable with the tables above)", "",
                  "Each row is scored against the real images of its domain (a translation's: its target "
                  "domain), on that domain's backbone. Label preservation: the share of translations that the "
                  "target domain's classifier gives their source image's class (untranslated: its rate on the "
                  "source images as they are). Cycle error: mean absolute pixel change (0-1) after a round trip. "
                  "Pair agreement: the share of pairs from one noise whose A and B images each domain's "
                  "classifier puts in the same class.", "",
                  _blank_missing(two_domain.drop(columns=["n_samples", "n_real", "status"]).dropna(axis=1, how="all")
                                 .rename(columns={PRIMARY: "score"})).to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines)


def _blank_missing(table: pd.DataFrame) -> pd.DataFrame:
    """Empty cells where a score does not apply (a translation's pair agreement), not "nan"."""
    return table.astype(object).where(table.notna(), "")


def score_versus_epoch_plot(**curves_by_variant: pd.DataFrame) -> plt.Figure:
    """Score against epoch and against training wall-clock time, one line per variant."""
    figure, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    label = "score"
    for variant, curve in curves_by_variant.items():
        if curve is None or not len(curve):
            continue
        label = curve["score_label"].iloc[0]
        by_epoch.plot(curve["epoch"], curve[PRIMARY], marker="o", label=variant)
        by_time.plot(curve["train_seconds"] / 60, curve[PRIMARY], marker="o", label=variant)
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
    scores = table[table["status"] == "scored"].set_index("variant")
    grids_by_variant = {variant: grid for variant, grid in grids_by_variant.items() if grid is not None}
    if not grids_by_variant:
        figure, axis = plt.subplots(figsize=(6, 1.5))
        axis.text(0.5, 0.5, "No variant has samples yet: run `kedro run --pipeline=<variant>`.", ha="center")
        axis.axis("off")
        return figure
    figure, axes = plt.subplots(1, len(grids_by_variant), figsize=(3.2 * len(grids_by_variant), 3.6), squeeze=False)
    for axis, (variant, grid) in zip(axes[0], grids_by_variant.items(), strict=True):
        axis.imshow(np.asarray(grid), cmap="gray" if grid.mode == "L" else None, interpolation="nearest")
        if variant in scores.index:
            row = scores.loc[variant]
            axis.set_title(f"{variant}\n{row['score_label']} {row[PRIMARY]:.3g}", fontsize=10)
        else:
            axis.set_title(variant)
        axis.axis("off")
    figure.tight_layout()
    return figure
