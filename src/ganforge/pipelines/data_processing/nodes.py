"""Nodes of the data pipeline: ingest → validate → gate → normalize.

Each node is a small function of its inputs. The raw tensors travel between nodes in memory
(``raw_images`` is a MemoryDataset in assign mode, so they are neither copied nor written).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from typing import Any

import numpy as np
import pandas as pd
import torch

from ganforge.errors import ConfigError, DataValidationError
from ganforge.gan.shards import ShardedImages, ShardWriter, staging_folder, write_shards
from ganforge.images import normalization_recipe
from ganforge.utils import content_digest

from . import validation
from .params import DataParams, parse_data_params
from .sources import (
    FolderPlan,
    SourceData,
    apply_transform,
    check_source,
    decode_chunks,
    load_image_folder,
    load_source,
    plan_image_folder,
    settle_source_defaults,
)

logger = logging.getLogger(__name__)

# Pixel statistics are computed in blocks so a float copy of CIFAR-sized data stays small.
_STATS_BLOCK = 8192


def pixel_statistics(images: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-image min, max, mean, std and count of non-finite pixels, vectorised per block.

    For float images with NaN/inf the statistics cover the finite pixels only (NaN when there
    are none), so that ``pixels_finite`` is the one rule that flags them.
    """
    count = images.shape[0]
    flat = images.reshape(count, -1)
    columns = {name: np.empty(count, dtype=np.float64) for name in ("min", "max", "mean", "std")}
    nonfinite = np.zeros(count, dtype=np.int64)
    for start in range(0, count, _STATS_BLOCK):
        block = flat[start : start + _STATS_BLOCK]
        stop = start + block.shape[0]
        values = block.float()
        finite = None if block.dtype == torch.uint8 else torch.isfinite(values)
        if finite is None or bool(finite.all()):
            low, high = block.amin(dim=1), block.amax(dim=1)
            std, mean = torch.std_mean(values, dim=1)
        else:
            kept = finite.sum(dim=1)
            nonfinite[start:stop] = (~finite).sum(dim=1).numpy()
            zeroed = torch.where(finite, values, torch.zeros(()))
            mean = zeroed.sum(dim=1) / kept
            centred = torch.where(finite, values - mean[:, None], torch.zeros(()))
            std = (centred.square().sum(dim=1) / (kept - 1).clamp(min=1)).sqrt()
            low = torch.where(finite, values, torch.full((), float("inf"))).amin(dim=1)
            high = torch.where(finite, values, torch.full((), float("-inf"))).amax(dim=1)
            none_left = kept == 0
            low, high = (
                low.masked_fill(none_left, float("nan")),
                high.masked_fill(none_left, float("nan")),
            )
            std = std.masked_fill(none_left, float("nan"))
        columns["min"][start:stop] = low.double().numpy()
        columns["max"][start:stop] = high.double().numpy()
        columns["mean"][start:stop] = mean.double().numpy()
        columns["std"][start:stop] = std.double().numpy()
    columns["nonfinite"] = nonfinite
    return columns


def content_hashes(images: torch.Tensor) -> list[str]:
    """blake2b of each image's bytes (shape and dtype are equal within one tensor)."""
    rows = images.reshape(images.shape[0], -1).contiguous().numpy()
    return [hashlib.blake2b(row.tobytes(), digest_size=16).hexdigest() for row in rows]


def build_manifest(data: SourceData, source: str) -> pd.DataFrame:
    """One row per image: identity, provenance, label, shape and pixel statistics."""
    count, channels, height, width = data.images.shape
    stats = pixel_statistics(data.images)
    labels = data.labels.numpy() if data.labels is not None else [pd.NA] * count
    return pd.DataFrame(
        {
            "id": pd.array(data.ids, dtype="string"),
            "source": pd.array([source] * count, dtype="string"),
            "path": pd.array(data.paths, dtype="string"),
            "label": pd.array(labels, dtype="Int64"),
            "height": np.full(count, height, dtype=np.int64),
            "width": np.full(count, width, dtype=np.int64),
            "channels": np.full(count, channels, dtype=np.int64),
            "pixel_min": stats["min"],
            "pixel_max": stats["max"],
            "pixel_mean": stats["mean"],
            "pixel_std": stats["std"],
            "nonfinite_count": stats["nonfinite"],
            "content_hash": pd.array(content_hashes(data.images), dtype="string"),
        }
    )


def _class_info(data: SourceData, configured: int | None) -> tuple[int, list[str]]:
    if data.labels is None:
        return 0, []
    if configured is not None:
        num_classes = configured
    elif data.class_names:
        num_classes = len(data.class_names)
    else:
        num_classes = int(data.labels.max()) + 1 if len(data.labels) else 0
    names = list(data.class_names[:num_classes])
    names += [str(k) for k in range(len(names), num_classes)]
    return num_classes, names


def ingest_images(params: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Read ``data.source`` → (raw images, manifest, source info).

    The raw images are a tensor in memory or, for an image folder stored as shards
    (``data.storage``), shards in a staging folder written a chunk at a time."""
    check_source((params or {}).get("source", "mnist_builtin"))
    settings = settle_source_defaults(parse_data_params(params))
    plan = plan_image_folder(settings) if settings.source == "image_folder" else None
    if plan is not None and settings.stores_shards(len(plan)):
        data, manifest = _ingest_folder_as_shards(plan, settings)
    else:
        data = apply_transform(load_image_folder(settings, plan), settings) if plan else load_source(settings)
        manifest = build_manifest(data, settings.source)
    num_classes, class_names = _class_info(data, settings.num_classes)
    logger.info(
        "Ingested %d images of shape %s (%s) from '%s'%s.",
        len(manifest),
        tuple(data.images.shape[1:]),
        str(data.images.dtype).replace("torch.", ""),
        settings.source,
        f", {num_classes} classes" if num_classes else ", unlabeled",
    )
    info = {
        "source": settings.source,
        "labeled": data.labels is not None,
        "num_classes": num_classes,
        "class_names": class_names,
        "value_range": list(data.value_range),
    }
    image_bytes = int(np.prod(data.images.shape[1:]))  # as uint8, whatever the source's dtype
    storage = {"as_shards": settings.stores_shards(len(data.images), image_bytes), "shard_size": settings.shard_size,
               "staging_path": settings.staging_path}
    raw = {"images": data.images, "labels": data.labels, "storage": storage, **info}
    return raw, manifest, info


def _ingest_folder_as_shards(plan: FolderPlan, settings: DataParams) -> tuple[SourceData, pd.DataFrame]:
    """Decode a shard's worth of images at a time into shards in a new staging folder, building
    the manifest as it goes: no more than two shards of decoded images are held at once."""
    folder = staging_folder(settings.staging_path)
    logger.info("Decoding %d images into shards of %d in '%s' (data.storage: %s).",
                len(plan), settings.shard_size, folder, settings.storage)
    writer, frames = ShardWriter(folder, settings.shard_size), []
    try:
        for chunk in decode_chunks(plan, settings, settings.shard_size):
            chunk = apply_transform(chunk, settings)
            writer.append(chunk.images, chunk.labels)
            frames.append(build_manifest(chunk, settings.source))
        images = writer.close()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a half-written staging folder is nobody's data
        raise
    manifest = pd.concat(frames, ignore_index=True)
    ids, paths = manifest["id"].tolist(), manifest["path"].tolist()
    return SourceData(images, plan.labels, plan.class_names, ids, paths), manifest


def validate_manifest(
    manifest: pd.DataFrame, source_info: dict[str, Any], params: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """GX checks on the manifest → (JSON report, markdown summary); never raises on bad data."""
    settings = parse_data_params(params)
    expected = validation.Expected(
        image_size=settings.image_size,
        channels=settings.channels,
        value_range=tuple(source_info["value_range"]),
        labeled=bool(source_info["labeled"]),
        num_classes=int(source_info["num_classes"]),
    )
    report = validation.validate(manifest, expected, settings)
    summary = validation.summary_markdown(report)
    passed = sum(check["success"] for check in report["checks"])
    logger.info(
        "Data validation %s: %d/%d checks passed%s.",
        "passed" if report["success"] else "FAILED",
        passed,
        len(report["checks"]),
        f", warnings: {', '.join(report['warning_rules'])}" if report["warning_rules"] else "",
    )
    for check in report["checks"]:
        if not check["success"] and check["severity"] != "critical":
            logger.warning(
                "Data validation warning %s: %d image(s), e.g. %s",
                check["rule"],
                check["unexpected_count"],
                ", ".join(check["first_ids"][:5]),
            )
    return report, summary


def gate_validation(report: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Stop the run on a failed report (``on_failure: fail``) or log loudly and go on (``warn``)."""
    settings = parse_data_params(params)
    if report["success"]:
        return {"passed": True, "failed_rules": []}
    message = validation.failure_message(report)
    if settings.validation.on_failure == "warn":
        logger.warning("%s Proceeding because data.validation.on_failure is 'warn'.", message)
        return {"passed": False, "failed_rules": list(report["failed_rules"])}
    raise DataValidationError(message)


def to_uint8_pixels(images: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Map ``value_range`` linearly onto 0..255 (rounded, clamped); uint8 passes through."""
    if images.dtype == torch.uint8:
        return images.contiguous()
    low, high = float(value_range[0]), float(value_range[1])
    # Only reachable with on_failure: warn; NaN becomes the low end, ±inf the ends of the range.
    values = torch.nan_to_num(images.float(), nan=low, posinf=high, neginf=low)
    scaled = (values - low).mul_(255.0 / (high - low))
    return scaled.round_().clamp_(0, 255).to(torch.uint8).contiguous()


def build_model_input(raw: dict[str, Any], gate: dict[str, Any]) -> dict[str, Any]:
    """The ``model_input`` contract the training pipeline reads (see the README)."""
    if not isinstance(gate, dict) or "passed" not in gate:  # guards against miswired pipelines
        raise ConfigError("build_model_input must run after gate_validation.")
    labels = raw["labels"].to(torch.int64).contiguous() if raw["labels"] is not None else None
    images = raw["images"]
    if not isinstance(images, ShardedImages):
        images = to_uint8_pixels(images, tuple(raw["value_range"]))
        storage = raw.get("storage") or {}
        if storage.get("as_shards"):
            images = write_shards(images, labels, staging_folder(storage["staging_path"]), storage["shard_size"])
    return {
        "images": images,
        "labels": labels,
        "num_classes": int(raw["num_classes"]) if labels is not None else 0,
        "class_names": list(raw["class_names"]) if labels is not None else [],
        "normalization": normalization_recipe(images),
        "fingerprint": content_digest([images, labels]),
        "source": raw["source"],
        "image_size": int(images.shape[-1]),
        "channels": int(images.shape[1]),
    }
