"""Bad input: every error names the file, the folder or the rule, and says what to do."""

from __future__ import annotations

import fractions
import logging

import numpy as np
import pytest
import torch
from dp_helpers import digits, write_idx, write_png_folder
from PIL import Image

from ganforge.errors import ConfigError, DataSourceError, DataValidationError
from ganforge.pipelines.data_processing import nodes


def _ingest(params):
    return nodes.ingest_images(params)


def _validate_and_gate(params):
    raw, manifest, info = nodes.ingest_images(params)
    report, summary = nodes.validate_manifest(manifest, info, params)
    return report, summary, lambda: nodes.gate_validation(report, params)


def test_unknown_source_lists_valid_sources(make_params):
    with pytest.raises(ConfigError, match=r"'mnist_bultin' \(data.source\). Registered: mnist_builtin, sklearn"):
        _ingest(make_params(source="mnist_bultin"))


def test_misspelt_parameter_is_a_config_error(make_params):
    with pytest.raises(ConfigError, match=r"data\.limt"):
        _ingest({**make_params(), "limt": 3})


def test_missing_image_folder(tmp_path, make_params):
    missing = tmp_path / "nope"
    with pytest.raises(DataSourceError, match=f"'{missing}' is not a folder"):
        _ingest(make_params(source="image_folder", path=str(missing)))


def test_empty_image_folder(tmp_path, make_params):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match="contains no PNG/JPEG/WebP images"):
        _ingest(make_params(source="image_folder", path=str(tmp_path / "empty")))


def test_missing_idx_files_name_paths_and_fix(tmp_path, make_params):
    with pytest.raises(DataSourceError) as error:
        _ingest(make_params(source="fashion_mnist", path=str(tmp_path)))
    message = str(error.value)
    assert str(tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte") in message
    assert "data.download: true" in message


def test_missing_cifar_names_batches(tmp_path, make_params):
    with pytest.raises(DataSourceError, match="cifar-10-batches-py/data_batch_1"):
        _ingest(make_params(source="cifar10", path=str(tmp_path)))


def test_truncated_idx_file(tmp_path, make_params):
    raw = write_idx(tmp_path, "MNIST", digits(4), np.arange(4))
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataSourceError, match="truncated"):
        _ingest(make_params(source="mnist", path=str(tmp_path)))


def test_zero_byte_image(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 2)
    (root / "blank.png").write_bytes(b"")
    with pytest.raises(DataSourceError, match=r"blank\.png' is empty \(0 bytes\)"):
        _ingest(make_params(source="image_folder", path=str(root)))


def test_truncated_png(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 2)
    good = (root / "img_000.png").read_bytes()
    (root / "cut.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(
        DataSourceError, match=r"cut\.png' could not be decoded.*truncated or corrupt"
    ):
        _ingest(make_params(source="image_folder", path=str(root)))


def test_non_image_files_are_skipped_with_one_warning(tmp_path, make_params, caplog):
    root = write_png_folder(tmp_path / "imgs", 3)
    (root / "notes.txt").write_text("hello")
    (root / "labels.csv").write_text("a,b")
    with caplog.at_level(logging.WARNING):
        raw, manifest, _ = _ingest(make_params(source="image_folder", path=str(root)))
    assert len(manifest) == 3
    warnings = [
        record.getMessage() for record in caplog.records if record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "Skipped 2 non-image file(s)" in warnings[0]
    assert "notes.txt" in warnings[0] and "labels.csv" in warnings[0]


@pytest.mark.parametrize(
    ("mode", "name", "file_format"),
    [
        # CMYK and 16-bit images are converted (test_image_decoding.py). No PNG/JPEG/WebP holds
        # 32-bit float pixels; PIL picks the decoder by content, so TIFF bytes under a .png name
        # reach the mode check just like a real file would.
        ("F", "odd.png", "TIFF"),
    ],
)
def test_unsupported_mode(tmp_path, make_params, mode, name, file_format):
    root = write_png_folder(tmp_path / "imgs", 1)
    Image.new(mode, (28, 28)).save(root / name, format=file_format)
    with Image.open(root / name) as check:
        stored_mode = check.mode
    assert stored_mode == mode
    with pytest.raises(DataSourceError, match=rf"{name}' has mode '{mode}'"):
        _ingest(make_params(source="image_folder", path=str(root)))


def test_wrong_size_without_resize(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 1, size=28)
    Image.fromarray(digits(1, 30)[0]).save(root / "big.png")
    with pytest.raises(DataSourceError, match=r"big\.png' is 30×30 but data\.image_size is 28×28"):
        _ingest(make_params(source="image_folder", path=str(root), resize=False))


def test_labels_out_of_range_fail_validation(tmp_path, make_params):
    images = digits(6, 8)[:, None]
    np.savez(tmp_path / "x.npz", images=images, labels=np.array([0, 1, 2, 3, 4, 5]))
    params = make_params(
        source="tensor_file", path=str(tmp_path / "x.npz"), image_size=8, num_classes=4
    )
    report, summary, gate = _validate_and_gate(params)
    assert report["failed_rules"] == ["labels_in_range"]
    with pytest.raises(DataValidationError) as error:
        gate()
    message = str(error.value)
    assert "labels_in_range" in message and "labels in [0, 4)" in message
    assert "tensor_file/000004" in message or "tensor_file/000005" in message
    assert "on_failure: warn" in message


def test_nan_and_inf_pixels_fail_validation(tmp_path, make_params):
    images = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)
    images[1, 0, 2, 3] = np.nan
    images[3, 0, 0, 0] = np.inf
    np.save(tmp_path / "x.npy", images)
    params = make_params(
        source="tensor_file", path=str(tmp_path / "x.npy"), image_size=8, value_range=[0, 1]
    )
    report, summary, gate = _validate_and_gate(params)  # ingest does not crash
    assert report["failed_rules"] == ["pixels_finite"]
    with pytest.raises(DataValidationError) as error:
        gate()
    message = str(error.value)
    assert "pixels_finite" in message
    assert "tensor_file/000001" in message and "tensor_file/000003" in message
    assert "| pixels_finite" in summary and "FAIL" in summary


def test_float_tensor_without_value_range(tmp_path, make_params):
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 8, 8), dtype=np.float32))
    with pytest.raises(ConfigError, match="set data.value_range"):
        _ingest(make_params(source="tensor_file", path=str(tmp_path / "x.npy")))


def test_tensor_file_missing(tmp_path, make_params):
    with pytest.raises(DataSourceError, match="missing.pt' does not exist"):
        _ingest(make_params(source="tensor_file", path=str(tmp_path / "missing.pt")))


def test_pt_with_pickled_code_is_refused(tmp_path, make_params):
    torch.save(
        {"images": torch.zeros(1, 1, 2, 2), "f": fractions.Fraction(1, 3)}, tmp_path / "x.pt"
    )
    with pytest.raises(DataSourceError, match="Could not read tensor file"):
        _ingest(make_params(source="tensor_file", path=str(tmp_path / "x.pt"), value_range=[0, 1]))


def test_a_64_pixel_color_configuration_pointed_at_28_pixel_digits(make_params):
    """conf/emoji's sizes with the digits as data: the validation gate stops the run, in one line
    naming the size and channel checks, before model_input (and so before any network) exists."""
    params = make_params(source="mnist_builtin", image_size=64, channels=3, limit=200)
    report, _, gate = _validate_and_gate(params)
    assert not report["success"]
    with pytest.raises(DataValidationError) as caught:
        gate()
    message = str(caught.value)
    assert "\n" not in message and "height" in message and "channels" in message


def test_emoji_options_on_a_source_that_does_not_read_them(make_params):
    with pytest.raises(ConfigError, match="does not read data.style, data.label_field; emoji reads them"):
        _ingest(make_params(source="mnist_builtin", style="google", label_field="category"))
