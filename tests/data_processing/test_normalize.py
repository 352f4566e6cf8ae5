"""model_input contract and exact normalization round trips."""

from __future__ import annotations

import numpy as np
import torch

from ganforge.images import to_training_range, to_uint8
from ganforge.pipelines.data_processing import nodes
from ganforge.utils import content_digest

CONTRACT_KEYS = {
    "images",
    "labels",
    "num_classes",
    "class_names",
    "normalization",
    "fingerprint",
    "source",
    "image_size",
    "channels",
}


def test_model_input_contract_from_builtin(make_params):
    params = make_params(limit=64)
    raw, _, _ = nodes.ingest_images(params)
    model_input = nodes.build_model_input(raw, {"passed": True, "failed_rules": []})
    assert set(model_input) == CONTRACT_KEYS
    images, labels = model_input["images"], model_input["labels"]
    assert (
        images.dtype == torch.uint8 and images.shape == (64, 1, 28, 28) and images.is_contiguous()
    )
    assert labels.dtype == torch.int64 and labels.shape == (64,)
    assert model_input["num_classes"] == 10 and len(model_input["class_names"]) == 10
    assert model_input["fingerprint"] == content_digest([images, labels])
    assert (model_input["source"], model_input["image_size"], model_input["channels"]) == (
        "mnist_builtin",
        28,
        1,
    )
    # Every uint8 value survives the trip to [-1, 1] and back exactly.
    recipe = model_input["normalization"]
    training = to_training_range(images, recipe)
    assert training.min() >= -1 and training.max() <= 1
    assert torch.equal(to_uint8(training, recipe), images)
    every_value = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    assert torch.equal(to_uint8(to_training_range(every_value, recipe), recipe), every_value)


def test_float_sources_map_value_range_to_uint8(tmp_path, make_params):
    levels = torch.arange(256, dtype=torch.float32).reshape(1, 1, 16, 16)
    for low, high in ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)):
        scaled = levels / 255 * (high - low) + low
        np.save(tmp_path / "x.npy", scaled.numpy())
        params = make_params(
            source="tensor_file",
            path=str(tmp_path / "x.npy"),
            value_range=[low, high],
            image_size=16,
        )
        raw, _, _ = nodes.ingest_images(params)
        model_input = nodes.build_model_input(raw, {"passed": True, "failed_rules": []})
        assert torch.equal(model_input["images"], levels.to(torch.uint8))
        assert model_input["labels"] is None and model_input["num_classes"] == 0
        assert model_input["class_names"] == []


def test_nonfinite_pixels_are_mapped_when_warned_through():
    images = torch.tensor([[[[float("nan"), float("inf"), float("-inf"), 0.5]]]])
    assert nodes.to_uint8_pixels(images, (0.0, 1.0)).flatten().tolist() == [0, 255, 0, 128]
