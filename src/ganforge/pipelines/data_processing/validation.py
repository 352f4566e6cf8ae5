"""Great Expectations checks on the image manifest, the JSON report and its markdown summary.

Each expectation carries ``meta.rule``: a short stable name that the summary, the gate's error
message and the tests use. Duplicated content is an expectation with severity ``warning``: it is
reported but does not fail the data set.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .params import DataParams

logger = logging.getLogger(__name__)

SUMMARY_HINT = (
    "data/08_reporting/data_validation_summary.md/<latest version>/data_validation_summary.md"
)


@dataclass(frozen=True)
class Expected:
    """What the manifest should look like, from the parameters and the source."""

    image_size: int
    channels: int
    value_range: tuple[float, float]
    labeled: bool
    num_classes: int


def _gx():
    # Imported lazily: Great Expectations takes a few seconds to import and only this node needs it.
    import great_expectations as gx

    return gx


def _context():
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # GX draws a progress bar per expectation suite; in pipeline logs that is noise.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def manifest_expectations(expected: Expected) -> list:
    """The manifest suite. ``meta.rule`` names each check for humans."""
    E = _gx().expectations
    low, high = expected.value_range

    def rule(name: str, text: str) -> dict:
        return {"rule": name, "description": text}

    suite = [
        E.ExpectTableRowCountToBeBetween(
            min_value=1, meta=rule("not_empty", "the data set has at least one image")
        ),
    ]
    required = ["id", "source", "path", "height", "width", "channels", "content_hash"]
    if expected.labeled:
        required.append("label")
    suite += [
        E.ExpectColumnValuesToNotBeNull(
            column=column, meta=rule(f"no_nulls:{column}", f"no missing {column}")
        )
        for column in required
    ]
    suite += [
        E.ExpectColumnValuesToBeUnique(
            column="id", meta=rule("ids_unique", "image ids are unique")
        ),
        E.ExpectColumnValuesToBeInSet(
            column="height",
            value_set=[expected.image_size],
            meta=rule("image_height", f"height is data.image_size = {expected.image_size}"),
        ),
        E.ExpectColumnValuesToBeInSet(
            column="width",
            value_set=[expected.image_size],
            meta=rule("image_width", f"width is data.image_size = {expected.image_size}"),
        ),
        E.ExpectColumnValuesToBeInSet(
            column="channels",
            value_set=[expected.channels],
            meta=rule("image_channels", f"channels is data.channels = {expected.channels}"),
        ),
        E.ExpectColumnValuesToBeInSet(
            column="nonfinite_count",
            value_set=[0],
            meta=rule("pixels_finite", "no pixel is NaN or infinite"),
        ),
        E.ExpectColumnValuesToBeBetween(
            column="pixel_min",
            min_value=low,
            max_value=high,
            meta=rule(
                "pixel_min_in_range", f"smallest pixel within value range [{low:g}, {high:g}]"
            ),
        ),
        E.ExpectColumnValuesToBeBetween(
            column="pixel_max",
            min_value=low,
            max_value=high,
            meta=rule(
                "pixel_max_in_range", f"largest pixel within value range [{low:g}, {high:g}]"
            ),
        ),
        # max > min rather than std > 0: a float std of a constant image can be a rounding
        # error above zero, while max == min is exact.
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="pixel_max",
            column_B="pixel_min",
            or_equal=False,
            ignore_row_if="either_value_is_missing",
            meta=rule("not_blank", "no image is a single constant value (std 0)"),
        ),
        E.ExpectColumnValuesToBeUnique(
            column="content_hash",
            severity="warning",
            meta=rule("duplicate_content", "no two images have identical pixels (warning only)"),
        ),
    ]
    if expected.labeled:
        suite.append(
            E.ExpectColumnValuesToBeBetween(
                column="label",
                min_value=0,
                max_value=expected.num_classes - 1,
                meta=rule(
                    "labels_in_range", f"labels in [0, {expected.num_classes}) (num_classes)"
                ),
            )
        )
    for position, expectation in enumerate(suite):
        expectation.meta["order"] = position  # GX reorders results; the summary keeps ours
    return suite


def class_share_frame(labels: pd.Series, num_classes: int) -> pd.DataFrame:
    """One row per class 0..K-1 (absent classes included with share 0)."""
    counts = labels.dropna().astype("int64").value_counts()
    counts = counts.reindex(range(num_classes), fill_value=0)
    total = max(int(counts.sum()), 1)
    return pd.DataFrame(
        {
            "class_id": [f"class {k}" for k in range(num_classes)],
            "count": counts.to_numpy(),
            "share": counts.to_numpy() / total,
        }
    )


def _run(context, name: str, frame: pd.DataFrame, expectations: list, id_column: str, max_ids: int):
    gx = _gx()
    source = context.data_sources.add_pandas(f"{name}_source")
    asset = source.add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe(f"{name}_all").get_batch(
        batch_parameters={"dataframe": frame}
    )
    suite = context.suites.add(
        gx.ExpectationSuite(name=f"ganforge_{name}", expectations=expectations)
    )
    result = batch.validate(
        suite,
        result_format={
            "result_format": "SUMMARY",
            "unexpected_index_column_names": [id_column],
            "partial_unexpected_count": max_ids,
            "return_unexpected_index_query": False,
        },
    )
    return result.to_json_dict()


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN/inf become strings so the report stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def _checks(gx_result: dict, id_column: str, paths: dict[str, str]) -> list[dict]:
    checks = []
    for item in gx_result["results"]:
        config = item["expectation_config"]
        meta = config.get("meta") or {}
        result = item.get("result") or {}
        ids = [entry.get(id_column) for entry in result.get("partial_unexpected_index_list") or []]
        ids = [str(value) for value in ids if value is not None]
        if "observed_value" in result:
            observed = result["observed_value"]
        else:
            observed = result.get("partial_unexpected_list", [])[:5]
        kwargs = config.get("kwargs", {})
        checks.append(
            {
                "order": meta.get("order", 0),
                "rule": meta.get("rule", config["type"]),
                "description": meta.get("description", ""),
                "expectation": config["type"],
                "column": kwargs.get("column")
                or ",".join(str(kwargs[key]) for key in ("column_A", "column_B") if key in kwargs),
                "severity": config.get("severity", "critical"),
                "success": bool(item["success"]),
                "unexpected_count": int(result.get("unexpected_count") or 0),
                "first_ids": ids,
                "first_paths": [paths[value] for value in ids if value in paths],
                "observed": observed,
                "error": (item.get("exception_info") or {}).get("exception_message"),
            }
        )
    return sorted(checks, key=lambda check: check.pop("order"))


def validate(manifest: pd.DataFrame, expected: Expected, params: DataParams) -> dict:
    """Run both suites and return the report (never raises on bad data)."""
    settings = params.validation
    context = _context()
    paths = dict(zip(manifest["id"].astype(str), manifest["path"].astype(str), strict=True))
    manifest_result = _run(
        context,
        "image_manifest",
        manifest,
        manifest_expectations(expected),
        "id",
        settings.max_reported_ids,
    )
    checks = _checks(manifest_result, "id", paths)
    gx_results = {"image_manifest": manifest_result}
    skipped = []

    if expected.labeled and expected.num_classes > 0:
        expected_per_class = len(manifest) / expected.num_classes
        if expected_per_class < settings.class_balance_min_expected:
            skipped.append(
                {
                    "rule": "class_balance",
                    "reason": (
                        f"{len(manifest)} images over {expected.num_classes} classes is "
                        f"{expected_per_class:.1f} per class, below "
                        f"data.validation.class_balance_min_expected = "
                        f"{settings.class_balance_min_expected}; shares would be sampling noise"
                    ),
                }
            )
        else:
            tolerance, k = settings.class_balance_tolerance, expected.num_classes
            shares = class_share_frame(manifest["label"], k)
            E = _gx().expectations
            balance = [
                E.ExpectColumnValuesToBeBetween(
                    column="share",
                    min_value=max(0.0, (1 - tolerance) / k),
                    max_value=(1 + tolerance) / k,
                    meta={
                        "rule": "class_balance",
                        "description": (
                            f"each class share within (1 ± {tolerance:g})/{k} = "
                            f"[{max(0.0, (1 - tolerance) / k):.3f}, {(1 + tolerance) / k:.3f}]"
                        ),
                    },
                )
            ]
            balance_result = _run(
                context, "class_shares", shares, balance, "class_id", settings.max_reported_ids
            )
            gx_results["class_shares"] = balance_result
            checks += _checks(balance_result, "class_id", {})
    elif not expected.labeled:
        skipped.append(
            {"rule": "labels_in_range, class_balance", "reason": "the source has no labels"}
        )

    failed = [check for check in checks if not check["success"] and check["severity"] == "critical"]
    warnings = [
        check for check in checks if not check["success"] and check["severity"] != "critical"
    ]
    return _clean(
        {
            "success": not failed,
            "checked_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "source": params.source,
            "row_count": len(manifest),
            "expected": {
                "image_size": expected.image_size,
                "channels": expected.channels,
                "value_range": list(expected.value_range),
                "labeled": expected.labeled,
                "num_classes": expected.num_classes,
            },
            "failed_rules": [check["rule"] for check in failed],
            "warning_rules": [check["rule"] for check in warnings],
            "checks": checks,
            "skipped": skipped,
            "summary_file": SUMMARY_HINT,
            "great_expectations": gx_results,
        }
    )


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_markdown(report: dict) -> str:
    """A short human-readable table of the report."""
    status = "PASSED" if report["success"] else "FAILED"
    if report["success"] and report["warning_rules"]:
        status = "PASSED with warnings"
    expected = report["expected"]
    lines = [
        f"# Data validation: {status}",
        "",
        f"- source: `{report['source']}`, images: {report['row_count']}, "
        f"size: {expected['image_size']}×{expected['image_size']}×{expected['channels']}, "
        f"value range: {expected['value_range']}, classes: {expected['num_classes']}",
        f"- checked at: {report['checked_at']}",
        "",
        "| Check | Column | Severity | Result | Unexpected | First offending ids |",
        "|---|---|---|---|---:|---|",
    ]
    for check in report["checks"]:
        result = (
            "pass" if check["success"] else ("WARN" if check["severity"] != "critical" else "FAIL")
        )
        ids = ", ".join(f"`{value}`" for value in check["first_ids"][:5])
        if check["unexpected_count"] > 5 and ids:
            ids += ", …"
        if not check["success"] and not ids and check["observed"] not in ([], None):
            ids = f"observed: {check['observed']}"
        lines.append(
            f"| {_cell(check['rule'])} — {_cell(check['description'])} | {_cell(check['column'])} "
            f"| {check['severity']} | {result} | {check['unexpected_count']} | {_cell(ids)} |"
        )
    if report["skipped"]:
        lines += ["", "Skipped:"]
        lines += [f"- {item['rule']}: {item['reason']}" for item in report["skipped"]]
    if not report["success"]:
        lines += [
            "",
            "Nothing downstream was written. Fix the data, or set "
            "`data.validation.on_failure: warn` to proceed anyway.",
        ]
    return "\n".join(lines) + "\n"


def failure_message(report: dict) -> str:
    """One paragraph naming the failed rules and their first offending ids."""
    failed = [
        check
        for check in report["checks"]
        if not check["success"] and check["severity"] == "critical"
    ]
    parts = []
    for check in failed:
        detail = (
            f"{check['unexpected_count']} unexpected" if check["unexpected_count"] else "failed"
        )
        if check["first_ids"]:
            shown = check["first_ids"][:3]
            paths = check["first_paths"][:3]
            if paths and paths != shown:
                shown = [f"{i} ({p})" for i, p in zip(shown, paths, strict=False)]
            detail += ", first: " + ", ".join(shown)
        elif check["observed"] not in ([], None):
            detail += f", observed {check['observed']}"
        if check.get("error"):
            detail += f", error: {check['error']}"
        parts.append(f"{check['rule']} ({check['description']}: {detail})")
    return (
        f"Data validation failed {len(failed)} of {len(report['checks'])} checks for source "
        f"'{report['source']}': " + "; ".join(parts) + f". Full table: {report['summary_file']}. "
        "To proceed with this data anyway, set data.validation.on_failure: warn."
    )
