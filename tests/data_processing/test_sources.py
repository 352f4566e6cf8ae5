"""Each data.source on small data written by the tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dp_helpers import digits, write_cifar, write_idx, write_png_folder

from ganforge.errors import ConfigError, DataSourceError
from ganforge.pipelines.data_processing import nodes
from ganforge.pipelines.data_processing.params import parse_data_params
from ganforge.pipelines.data_processing.sources import SourceData, load_source, seeded_order, transform_images


def _load(params):
    return load_source(parse_data_params(params))


@pytest.mark.parametrize(
    ("source", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")]
)
def test_idx_sources_read_torchvision_raw_layout(tmp_path, make_params, source, folder):
    images, labels = digits(12), np.arange(12) % 10
    write_idx(tmp_path, folder, images, labels)
    write_idx(tmp_path, folder, digits(5, seed=9), np.arange(5), prefix="t10k")
    data = _load(make_params(source=source, path=str(tmp_path)))
    assert data.images.shape == (12, 1, 28, 28) and data.images.dtype == torch.uint8
    assert data.labels.dtype == torch.int64 and len(data.class_names) == 10
    # The seeded shuffle keeps image and label together and records the original index.
    original = int(data.ids[0].rsplit("/", 1)[1])
    assert torch.equal(data.images[0, 0], torch.from_numpy(images[original]))
    assert int(data.labels[0]) == labels[original]
    test = _load(make_params(source=source, path=str(tmp_path), split="test"))
    assert len(test.images) == 5


def test_idx_source_needs_only_the_requested_split(tmp_path, make_params):
    write_idx(tmp_path, "MNIST", digits(3), np.arange(3))
    assert len(_load(make_params(source="mnist", path=str(tmp_path))).images) == 3


def test_cifar10_reads_pickles_without_md5(tmp_path, make_params):
    write_cifar(tmp_path, per_batch=4, test=6)
    params = make_params(source="cifar10", path=str(tmp_path), image_size=32, channels=3)
    train = _load(params)
    assert train.images.shape == (20, 3, 32, 32) and train.images.is_contiguous()
    assert train.class_names[0] == "airplane"
    test = _load({**params, "split": "test"})
    assert test.images.shape == (6, 3, 32, 32)


def test_image_folder_with_class_subfolders(tmp_path, make_params):
    write_png_folder(tmp_path / "imgs", {"cat": 3, "ant": 2}, size=28)
    data = _load(make_params(source="image_folder", path=str(tmp_path / "imgs"), num_workers=2))
    assert data.class_names == ["ant", "cat"]  # sorted folder names
    assert sorted(data.labels.tolist()) == [0, 0, 1, 1, 1]
    for image_id, label in zip(data.ids, data.labels.tolist(), strict=True):
        assert image_id.startswith(data.class_names[label] + "/")


def test_image_folder_resizes_and_converts(tmp_path, make_params):
    write_png_folder(tmp_path / "imgs", 3, size=40, mode="RGB")
    params = make_params(
        source="image_folder", path=str(tmp_path / "imgs"), image_size=16, channels=1
    )
    data = _load(params)
    assert data.images.shape == (3, 1, 16, 16) and data.labels is None
    rgb = _load({**params, "channels": 3})
    assert rgb.images.shape == (3, 3, 16, 16)


def test_mnist_builtin_limit_is_shuffled_not_label_sorted(make_params):
    data = _load(make_params(limit=200, seed=3))
    assert data.images.shape == (200, 1, 28, 28)
    assert len(set(data.labels.tolist())) == 10  # the raw file is sorted by label
    again = _load(make_params(limit=200, seed=3))
    assert data.ids == again.ids


def test_sklearn_digits_are_resized_labeled_and_shuffled(make_params):
    data = _load(make_params(source="sklearn_digits"))
    assert data.images.shape == (1797, 1, 28, 28) and data.images.dtype == torch.uint8
    assert sorted(set(data.labels.tolist())) == list(range(10))
    # white ink on black like MNIST (the corners are background), the 0..16 ink scaled to 0..255
    assert data.images[:, :, 0, 0].float().mean() < 10 and data.images.max() == 255
    small = _load(make_params(source="sklearn_digits", image_size=16, limit=100, seed=2))
    assert small.images.shape == (100, 1, 16, 16) and small.ids[0].startswith("sklearn_digits/")
    assert small.ids != _load(make_params(source="sklearn_digits", image_size=16, limit=100, seed=3)).ids


def test_parts_of_one_source_are_disjoint_and_cover_it(make_params):
    whole = _load(make_params(limit=101))
    halves = [_load(make_params(limit=101, part=[k, 2])) for k in (0, 1)]
    assert [len(half.ids) for half in halves] == [50, 51]
    assert not set(halves[0].ids) & set(halves[1].ids)
    assert halves[0].ids + halves[1].ids == whole.ids
    assert torch.equal(torch.cat([half.images for half in halves]), whole.images)


def test_negative_and_edge_domains_are_derived_from_the_images(make_params):
    original = _load(make_params(limit=20))
    negative = _load(make_params(limit=20, transform="negative"))
    assert torch.equal(negative.images, 255 - original.images) and negative.ids[0] == f"negative:{original.ids[0]}"
    assert torch.equal(negative.labels, original.labels)
    stroke = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    stroke[..., 1:4, 1:4] = 200  # a 3×3 square: its 3×3 dilation is 5×5, its erosion one pixel
    edges = transform_images(SourceData(stroke, None, [], ["s"], ["s"]), "edges").images[0, 0]
    expected = torch.full((5, 5), 200, dtype=torch.uint8)
    expected[2, 2] = 0
    assert torch.equal(edges, expected)


def test_bad_parts_are_one_clear_error(make_params):
    with pytest.raises(ConfigError, match=r"data.part: .*must be \[k, n\] with 0 <= k < n, got \[2, 2\]"):
        _load(make_params(part=[2, 2]))
    with pytest.raises(DataSourceError, match=r"data.part \[0, 5\] of 3 images is empty"):
        _load(make_params(limit=3, part=[0, 5]))


def test_seeded_order_is_a_permutation():
    order = seeded_order(50, seed=1, limit=None)
    assert sorted(order.tolist()) == list(range(50))
    assert seeded_order(50, 1, 10).tolist() == order[:10].tolist()


def test_tensor_file_npz_and_pt(tmp_path, make_params):
    images = np.random.default_rng(0).random((6, 1, 8, 8), dtype=np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2])
    np.savez(tmp_path / "x.npz", images=images, labels=labels)
    params = make_params(
        source="tensor_file", path=str(tmp_path / "x.npz"), value_range=[0, 1], image_size=8
    )
    data = _load(params)
    assert data.images.dtype == torch.float32 and data.value_range == (0.0, 1.0)
    raw, manifest, info = nodes.ingest_images(params)
    assert info["num_classes"] == 3 and info["class_names"] == ["0", "1", "2"]
    assert manifest["label"].dtype == "Int64"

    torch.save({"images": torch.from_numpy(digits(4, 8)).unsqueeze(1)}, tmp_path / "y.pt")
    data = _load(make_params(source="tensor_file", path=str(tmp_path / "y.pt"), image_size=8))
    assert data.images.dtype == torch.uint8 and data.labels is None


def test_manifest_columns_and_statistics(tmp_path, make_params):
    images = np.zeros((3, 1, 4, 4), dtype=np.uint8)
    images[0, 0, 0, 0] = 255
    images[1] = 7
    images[2, 0, :2] = 10
    np.save(tmp_path / "x.npy", images)
    _, manifest, _ = nodes.ingest_images(
        make_params(source="tensor_file", path=str(tmp_path / "x.npy"))
    )
    expected_columns = {
        "id",
        "source",
        "path",
        "label",
        "height",
        "width",
        "channels",
        "pixel_min",
        "pixel_max",
        "pixel_mean",
        "pixel_std",
        "nonfinite_count",
        "content_hash",
    }
    assert expected_columns <= set(manifest.columns)
    row = manifest.set_index("path").loc[f"{tmp_path / 'x.npy'}#0"]
    assert (row["pixel_min"], row["pixel_max"]) == (0, 255)
    assert row["pixel_mean"] == pytest.approx(255 / 16)
    assert row["pixel_std"] == pytest.approx(
        float(torch.tensor(images[0], dtype=torch.float32).std())
    )
    assert manifest["label"].isna().all() and manifest["id"].is_unique
