"""Feature backbones: domain classifier (FD-classifier) and pytorch-fid's InceptionV3.

Inception tests run pytorch-fid's real InceptionV3 with *random* weights (no download is
possible offline); they prove plumbing and weight loading, never a real FID value.
"""

from __future__ import annotations

import urllib.error

import numpy as np
import pytest
import pytorch_fid.inception as fid_inception
import torch
import torchvision.transforms as TF
from PIL import Image
from pytorch_fid.fid_score import get_activations

from ganforge.errors import BackboneUnavailableError, ConfigError
from ganforge.metrics import (
    ClassifierBackbone,
    build_inception_backbone,
    choose_backbone,
    classifier_from_state,
    classifier_state,
    feature_statistics,
    frechet_distance,
    inception_hub_cache_path,
    inception_weights_available,
    prepare_inception_input,
    random_inception_state_dict,
    train_feature_classifier,
)

# ----------------------------------------------------------------------------- classifier


def test_classifier_reaches_high_holdout_accuracy(trained_classifier) -> None:
    _, report = trained_classifier
    assert report["arch"] == "lenet"
    assert report["holdout_accuracy"] >= 0.95
    assert report["n_train"] == 480 and report["n_holdout"] == 120
    assert report["epochs"] == 2 and report["seconds"] > 0


def test_classifier_training_is_bit_reproducible(labeled_data) -> None:
    images, labels = labeled_data
    images, labels = images[:200], labels[:200]
    kwargs = dict(
        epochs=1,
        batch_size=50,
        lr=1e-3,
        holdout_fraction=0.25,
        seed=3,
        device="cpu",
        progress=False,
    )
    torch.manual_seed(123)
    first, report_a = train_feature_classifier(images, labels, 4, **kwargs)
    after_first = torch.rand(1)
    torch.manual_seed(123)
    second, report_b = train_feature_classifier(images, labels, 4, **kwargs)
    assert torch.equal(after_first, torch.rand(1)), "training must not disturb the global RNG"
    for (key, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), key
    report_a.pop("seconds"), report_b.pop("seconds")
    assert report_a == report_b
    other, _ = train_feature_classifier(images, labels, 4, **{**kwargs, "seed": 4})
    assert not torch.equal(other.head.weight, first.head.weight)


def test_classifier_backbone_interface(classifier_backbone, labeled_data) -> None:
    images, _ = labeled_data
    features = classifier_backbone.features(
        images[:70], batch_size=32, device="cpu", progress=False
    )
    assert features.shape == (70, 128) and features.dtype == np.float64
    assert classifier_backbone.name == "classifier_lenet"
    assert classifier_backbone.feature_dim == 128
    assert len(classifier_backbone.weights_fingerprint) == 16
    assert classifier_backbone.score_label == "FD-classifier"
    batched = classifier_backbone.features(images[:70], batch_size=70, device="cpu", progress=False)
    np.testing.assert_allclose(features, batched, rtol=1e-5, atol=1e-6)


def test_classifier_state_round_trips_through_weights_only_load(
    trained_classifier, classifier_backbone, labeled_data, tmp_path
) -> None:
    model, _ = trained_classifier
    path = tmp_path / "classifier.pt"
    torch.save(classifier_state(model), path)
    restored = ClassifierBackbone(classifier_from_state(torch.load(path, weights_only=True)))
    images, _ = labeled_data
    np.testing.assert_array_equal(
        restored.features(images[:20], device="cpu", progress=False),
        classifier_backbone.features(images[:20], device="cpu", progress=False),
    )
    assert restored.weights_fingerprint == classifier_backbone.weights_fingerprint


def test_classifier_rejects_images_of_another_shape(classifier_backbone) -> None:
    with pytest.raises(ConfigError, match="trained on"):
        classifier_backbone.features(torch.zeros(2, 3, 28, 28, dtype=torch.uint8), progress=False)


def test_convnet_for_larger_rgb_images(make_images) -> None:
    images, labels = make_images(64, size=32, channels=3, seed=2)
    model, report = train_feature_classifier(
        images,
        labels,
        4,
        epochs=1,
        batch_size=32,
        lr=1e-3,
        holdout_fraction=0.25,
        seed=0,
        device="cpu",
        progress=False,
    )
    backbone = ClassifierBackbone(model, report)
    assert backbone.name == "classifier_convnet" and backbone.feature_dim == 256
    assert backbone.features(images[:5], device="cpu", progress=False).shape == (5, 256)


def test_fid_self_is_zero_and_grows_with_noise(classifier_backbone, make_images) -> None:
    images, _ = make_images(400, seed=5)
    real_stats = feature_statistics(
        classifier_backbone.features(images, device="cpu", progress=False)
    )
    assert abs(frechet_distance(*real_stats, *real_stats)) < 1e-6
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(images.shape, generator=generator)
    distances = []
    for sigma in (0.0, 15.0, 40.0, 80.0):
        noisy = (images.float() + sigma * noise).round().clamp(0, 255).to(torch.uint8)
        fake = classifier_backbone.features(noisy, device="cpu", progress=False)
        distances.append(frechet_distance(*real_stats, *feature_statistics(fake)))
    assert distances[0] < 1e-6
    assert all(a < b for a, b in zip(distances, distances[1:], strict=False)), distances


# ----------------------------------------------------------------------------- Inception


@pytest.fixture(scope="module")
def random_inception():
    return build_inception_backbone(random_weights=True, seed=0)


@pytest.fixture(scope="module")
def random_weights_file(tmp_path_factory):
    """Seed-0 random weights saved in the pt_inception layout (a full fid_inception_v3 dict)."""
    path = tmp_path_factory.mktemp("weights") / "pt_inception-random.pth"
    torch.save(random_inception_state_dict(0), path)
    return path


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """An empty torch hub cache and a download function that must not touch the network."""
    original = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    calls = []

    def offline(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(fid_inception, "load_state_dict_from_url", offline)
    yield calls
    torch.hub.set_dir(original)


def _tiny_images(channels: int, count: int = 2, size: int = 16) -> torch.Tensor:
    generator = torch.Generator().manual_seed(channels)
    return torch.randint(
        0, 256, (count, channels, size, size), generator=generator, dtype=torch.uint8
    )


@pytest.mark.parametrize("channels", [1, 3])
def test_plumbing_random_inception_gives_finite_2048d_features(random_inception, channels) -> None:
    """PLUMBING ONLY: random weights; proves the pipeline, not a meaningful FID."""
    assert isinstance(random_inception.model, fid_inception.InceptionV3)
    assert random_inception.name == "inception_v3_pool3_random"
    assert not random_inception.is_real_score
    assert "NOT a real score" in random_inception.score_label
    features = random_inception.features(
        _tiny_images(channels), batch_size=2, device="cpu", progress=False
    )
    assert features.shape == (2, 2048) and features.dtype == np.float64
    assert np.isfinite(features).all()
    assert not np.allclose(features[0], features[1])


def test_plumbing_inception_input_matches_pytorch_fid_preparation() -> None:
    gray = _tiny_images(1, count=1)
    pil_rgb = Image.fromarray(gray[0, 0].numpy(), mode="L").convert("RGB")
    expected = TF.ToTensor()(pil_rgb).unsqueeze(0)
    assert torch.equal(prepare_inception_input(gray), expected)


def test_plumbing_features_equal_pytorch_fid_get_activations(random_inception, tmp_path) -> None:
    """PLUMBING ONLY: our batching/preparation equals pytorch-fid's file-based path."""
    images = _tiny_images(3)
    files = []
    for index, image in enumerate(images):
        path = tmp_path / f"{index}.png"
        Image.fromarray(image.permute(1, 2, 0).numpy(), mode="RGB").save(path)
        files.append(str(path))
    reference = get_activations(
        files, random_inception.model, batch_size=2, dims=2048, device="cpu", num_workers=0
    )
    ours = random_inception.features(images, batch_size=2, device="cpu", progress=False)
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_random_inception_is_seeded(random_inception, random_weights_file) -> None:
    state = torch.load(random_weights_file, weights_only=True)
    # The backbone built with seed 0 and the separately generated seed-0 dict agree...
    first_conv = random_inception.model.blocks[0][0].conv.weight
    assert torch.equal(first_conv, state["Conv2d_1a_3x3.conv.weight"])
    # ...and the dict has exactly the keys/shapes pytorch-fid's fid_inception_v3 loads.
    assert state["fc.weight"].shape == (1008, 2048)
    assert not any(key.startswith("AuxLogits") for key in state)


def test_local_weights_file_is_loaded(random_inception, random_weights_file, empty_hub) -> None:
    """PLUMBING ONLY: random weights saved like pt_inception, loaded through weights_path."""
    path = random_weights_file
    assert inception_weights_available(path)
    loaded = build_inception_backbone(path)
    assert loaded.name == "inception_v3_pool3" and loaded.is_real_score
    assert loaded.weights_fingerprint == random_inception.weights_fingerprint
    images = _tiny_images(1, count=1)
    np.testing.assert_array_equal(
        loaded.features(images, device="cpu", progress=False),
        random_inception.features(images, device="cpu", progress=False),
    )
    assert empty_hub == [], "a local file must not trigger a download"
    assert fid_inception.load_state_dict_from_url.__name__ == "offline", "substitution restored"


def test_hub_cache_file_is_used(random_inception, random_weights_file, empty_hub) -> None:
    cached = inception_hub_cache_path()
    assert cached.name == "pt_inception-2015-12-05-6726825d.pth"
    assert not inception_weights_available()
    cached.parent.mkdir(parents=True)
    cached.symlink_to(random_weights_file)
    assert inception_weights_available()
    backbone = build_inception_backbone()
    assert backbone.weights_fingerprint == random_inception.weights_fingerprint
    assert empty_hub == []


def test_missing_weights_raise_helpful_error(empty_hub, tmp_path) -> None:
    assert not inception_weights_available()
    with pytest.raises(BackboneUnavailableError) as caught:
        build_inception_backbone()
    message = str(caught.value)
    assert empty_hub == [fid_inception.FID_WEIGHTS_URL]  # pytorch-fid's own download path
    assert "evaluation.inception_weights" in message
    assert str(inception_hub_cache_path()) in message
    assert "evaluation.backbone: classifier" in message

    with pytest.raises(BackboneUnavailableError, match="downloading is disabled"):
        build_inception_backbone(allow_download=False)
    with pytest.raises(BackboneUnavailableError, match="does not exist"):
        build_inception_backbone(tmp_path / "nope.pth")
    assert not inception_weights_available(tmp_path / "nope.pth")
    assert len(empty_hub) == 1


def test_corrupt_weights_file_raises(tmp_path, empty_hub) -> None:
    path = tmp_path / "bad.pth"
    torch.save({"not": torch.zeros(1)}, path)
    with pytest.raises(BackboneUnavailableError, match="loading from"):
        build_inception_backbone(path)


def _settings(**overrides):
    from ganforge.metrics import resolve_evaluation_config

    return resolve_evaluation_config({"download_inception": False, **overrides})


def test_backbone_policy_always_leaves_a_way_to_train(empty_hub, random_weights_file) -> None:
    offline = lambda: False  # noqa: E731
    online = lambda: True  # noqa: E731
    assert choose_backbone(_settings(), labeled=True, online=offline) == "classifier"
    # unlabeled photos offline: the self-supervised backbone, never a dead end
    assert choose_backbone(_settings(), labeled=False, online=offline) == "rotation"
    assert choose_backbone(_settings(backbone="none"), labeled=False, online=offline) == "none"
    assert choose_backbone(_settings(inception_weights=str(random_weights_file)), labeled=False) == "inception"
    # download_inception: auto tries the download only where the machine is online
    auto = _settings(download_inception="auto")
    assert choose_backbone(auto, labeled=False, online=online) == "inception"
    assert choose_backbone(auto, labeled=False, online=offline) == "rotation"


def test_backbone_policy_errors_name_every_way_out(empty_hub, tmp_path) -> None:
    offline = lambda: False  # noqa: E731
    with pytest.raises(BackboneUnavailableError) as caught:
        choose_backbone(_settings(backbone="inception"), labeled=False, online=offline)
    for hint in ("evaluation.inception_weights", "download_inception", "backbone: rotation", "backbone: none"):
        assert hint in str(caught.value)
    with pytest.raises(BackboneUnavailableError, match="no labels"):
        choose_backbone(_settings(backbone="classifier"), labeled=False, online=offline)
    with pytest.raises(BackboneUnavailableError, match="does not exist"):
        choose_backbone(_settings(inception_weights=str(tmp_path / "nope.pth")), labeled=True, online=offline)
    with pytest.raises(ConfigError, match="evaluation.backbone"):
        _settings(backbone="vgg")
