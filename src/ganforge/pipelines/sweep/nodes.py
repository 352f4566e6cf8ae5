"""Nodes of a sweep: a member's settings (the variant's, with the member's seed) and the summary
over the members' scores."""

from __future__ import annotations

import copy
import math
import statistics
from typing import Any

from ganforge.metrics import PRIMARY, metric_columns


def seeded_variant(variant: dict[str, Any], seed: int) -> dict[str, Any]:
    """The variant's settings with ``training.seed`` set to this member's seed."""
    settings = copy.deepcopy(variant)
    settings.setdefault("training", {})["seed"] = seed
    return settings


def summarize_sweep(**metrics_by_member: dict[str, Any] | None) -> dict[str, Any]:
    """Mean and sample standard deviation of every score over the members that were scored, with
    each member's own scores, seed and run (a member without scores is listed as missing)."""
    members = []
    for member, metrics in sorted(metrics_by_member.items()):
        members.append({"member": member, **({key: metrics.get(key) for key in
                                               [*metric_columns(), "run_id", "seed", "epoch"]} if metrics else {})})
    scored = [member for member in members if member.get(PRIMARY) is not None]
    summary: dict[str, Any] = {"members": members, "n": len(scored), "score": PRIMARY, "mean": {}, "std": {}}
    for column in metric_columns():
        values = [member[column] for member in scored if member.get(column) is not None
                  and not math.isnan(member[column])]
        if values:
            summary["mean"][column] = statistics.fmean(values)
            summary["std"][column] = statistics.stdev(values) if len(values) > 1 else math.nan
    return summary
