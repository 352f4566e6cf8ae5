"""Great Expectations suite, report, summary and the gate."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from dp_helpers import digits

from ganforge.errors import ConfigError, DataValidationError
from ganforge.pipelines.data_processing import nodes


def _report(tmp_path, make_params, images, labels=None, **overrides):
    arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
    np.savez(tmp_path / "x.npz", **arrays)
    params = make_params(
        source="tensor_file", path=str(tmp_path / "x.npz"), image_size=images.shape[-1], **overrides
    )
    _, manifest, info = nodes.ingest_images(params)
    report, summary = nodes.validate_manifest(manifest, info, params)
    return report, summary, params


def test_clean_data_passes_and_report_is_json(tmp_path, make_params):
    labels = np.arange(40) % 4
    report, summary, params = _report(
        tmp_path,
        make_params,
        digits(40, 8)[:, None],
        labels,
        validation={"class_balance_min_expected": 5},
    )
    assert report["success"] and report["failed_rules"] == []
    rules = [check["rule"] for check in report["checks"]]
    for rule in (
        "not_empty",
        "ids_unique",
        "image_height",
        "image_channels",
        "pixels_finite",
        "pixel_min_in_range",
        "not_blank",
        "labels_in_range",
        "class_balance",
    ):
        assert rule in rules
    json.loads(json.dumps(report, allow_nan=False))  # standard JSON, no NaN/Infinity
    assert summary.startswith("# Data validation: PASSED")
    assert nodes.gate_validation(report, params) == {"passed": True, "failed_rules": []}


def test_blank_wrong_size_and_out_of_range_fail_together(tmp_path, make_params):
    images = np.random.default_rng(0).random((6, 1, 8, 8)).astype(np.float32)
    images[2] = 0.5  # blank
    images[4, 0, 0, 0] = 1.5  # above value_range
    report, summary, params = _report(tmp_path, make_params, images, value_range=[0, 1], channels=3)
    assert set(report["failed_rules"]) == {"image_channels", "not_blank", "pixel_max_in_range"}
    checks = {check["rule"]: check for check in report["checks"]}
    assert checks["not_blank"]["first_ids"] == ["tensor_file/000002"]
    assert checks["pixel_max_in_range"]["first_ids"] == ["tensor_file/000004"]
    assert checks["image_channels"]["unexpected_count"] == 6
    with pytest.raises(DataValidationError) as error:
        nodes.gate_validation(report, params)
    message = str(error.value)
    for rule in ("image_channels", "not_blank", "pixel_max_in_range", "data_validation_summary.md"):
        assert rule in message


def test_duplicates_are_a_warning_not_a_failure(tmp_path, make_params, caplog):
    images = digits(5, 8)[:, None]
    images[3] = images[1]
    with caplog.at_level(logging.WARNING):
        report, summary, params = _report(tmp_path, make_params, images)
    assert report["success"] and report["warning_rules"] == ["duplicate_content"]
    duplicate = next(check for check in report["checks"] if check["rule"] == "duplicate_content")
    assert set(duplicate["first_ids"]) == {"tensor_file/000001", "tensor_file/000003"}
    assert "PASSED with warnings" in summary and "| WARN |" in summary
    assert any("duplicate_content" in record.getMessage() for record in caplog.records)


def test_class_balance_validated_on_class_share_frame(tmp_path, make_params):
    labels = np.array([0] * 30 + [1] * 5 + [2] * 5)
    report, summary, params = _report(
        tmp_path,
        make_params,
        digits(40, 8)[:, None],
        labels,
        validation={"class_balance_min_expected": 5, "class_balance_tolerance": 0.5},
    )
    assert report["failed_rules"] == ["class_balance"]
    balance = next(check for check in report["checks"] if check["rule"] == "class_balance")
    assert set(balance["first_ids"]) == {"class 0", "class 1", "class 2"}


def test_class_balance_skipped_for_small_samples(tmp_path, make_params):
    labels = np.array([0] * 8 + [1] * 2)
    report, summary, _ = _report(tmp_path, make_params, digits(10, 8)[:, None], labels)
    assert report["success"]
    assert report["skipped"][0]["rule"] == "class_balance"
    assert "Skipped" in summary


def test_gate_with_warn_logs_and_passes(tmp_path, make_params, caplog):
    images = digits(4, 8)[:, None]
    report, _, params = _report(
        tmp_path,
        make_params,
        images,
        np.array([0, 1, 2, 9]),
        num_classes=3,
        validation={"on_failure": "warn"},
    )
    assert not report["success"]
    with caplog.at_level(logging.WARNING):
        gate = nodes.gate_validation(report, params)
    assert gate == {"passed": False, "failed_rules": ["labels_in_range"]}
    assert any(
        "labels_in_range" in record.getMessage() and "on_failure is 'warn'" in record.getMessage()
        for record in caplog.records
    )


def test_bad_on_failure_value(make_params):
    with pytest.raises(ConfigError, match="data.validation.on_failure"):
        nodes.gate_validation({"success": True}, make_params(validation={"on_failure": "ignore"}))
