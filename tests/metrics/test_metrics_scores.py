"""Scores on feature arrays: Fréchet distance, KID and improved precision/recall."""

from __future__ import annotations

import numpy as np
import pytest
from pytorch_fid.fid_score import calculate_frechet_distance

from ganforge.errors import ConfigError
from ganforge.metrics import (
    feature_statistics,
    frechet_distance,
    kernel_inception_distance,
    precision_recall,
)


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def test_feature_statistics_match_pytorch_fid_recipe() -> None:
    features = gaussian(50, 6, 0)
    mu, sigma = feature_statistics(features)
    np.testing.assert_array_equal(mu, np.mean(features, axis=0))
    np.testing.assert_array_equal(sigma, np.cov(features, rowvar=False))


def test_frechet_distance_equals_pytorch_fid() -> None:
    real, fake = gaussian(300, 32, 1), gaussian(300, 32, 2, shift=0.3)
    mu1, s1 = feature_statistics(real)
    mu2, s2 = feature_statistics(fake)
    # pytorch-fid's own route (scipy.linalg.sqrtm of Σ₁Σ₂), where the installed SciPy still runs it
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(calculate_frechet_distance(mu1, s1, mu2, s2), rel=1e-9)


def test_frechet_distance_of_a_set_with_itself_is_zero() -> None:
    mu, sigma = feature_statistics(gaussian(400, 64, 3))
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6


def _kid_reference(x: np.ndarray, y: np.ndarray) -> float:
    """Textbook unbiased MMD² with the cubic polynomial kernel, written with explicit loops."""
    d, m, n = x.shape[1], len(x), len(y)

    def k(a, b):
        return (a @ b / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_reference_formula_on_full_sets() -> None:
    x, y = gaussian(20, 5, 4), gaussian(20, 5, 5, shift=0.5)
    # One subset of the full size is a permutation of the whole set: no sampling noise.
    mean, std = kernel_inception_distance(x, y, subsets=1, subset_size=20, seed=0)
    assert mean == pytest.approx(_kid_reference(x, y), rel=1e-10)
    assert std == 0.0


def test_kid_near_zero_for_identical_sets_and_positive_for_shifted() -> None:
    real = gaussian(300, 16, 6)
    same_mean, same_std = kernel_inception_distance(real, real.copy(), subsets=20, subset_size=100)
    shifted_mean, shifted_std = kernel_inception_distance(
        real, gaussian(300, 16, 7, shift=1.0), subsets=20, subset_size=100
    )
    assert abs(same_mean) < 0.02 * shifted_mean
    assert shifted_mean > 10 * shifted_std / np.sqrt(20)
    assert same_std >= 0


def test_kid_clips_subset_size_to_smaller_set() -> None:
    mean, _ = kernel_inception_distance(gaussian(30, 4, 8), gaussian(12, 4, 9), subset_size=1000)
    assert np.isfinite(mean)


def test_kid_is_seeded() -> None:
    x, y = gaussian(80, 4, 10), gaussian(80, 4, 11)
    first = kernel_inception_distance(x, y, subsets=5, subset_size=30, seed=3)
    assert first == kernel_inception_distance(x, y, subsets=5, subset_size=30, seed=3)


def test_precision_recall_identical_sets_is_one() -> None:
    real = gaussian(200, 8, 12)
    assert precision_recall(real, real.copy(), k=3) == (1.0, 1.0)


def test_precision_recall_far_apart_sets_is_zero() -> None:
    real, fake = gaussian(200, 8, 13), gaussian(200, 8, 14, shift=50.0)
    assert precision_recall(real, fake, k=3) == (0.0, 0.0)


def test_precision_recall_mode_dropping_lowers_recall_only() -> None:
    # Two well-separated real modes; the fake set covers only one of them.
    mode_a, mode_b = gaussian(100, 4, 15), gaussian(100, 4, 16, shift=30.0)
    real = np.concatenate([mode_a, mode_b])
    fake = gaussian(100, 4, 17)
    precision, recall = precision_recall(real, fake, k=3)
    assert precision > 0.8
    assert 0.3 < recall < 0.6


def test_precision_recall_is_independent_of_batch_size() -> None:
    real, fake = gaussian(120, 6, 18), gaussian(90, 6, 19, shift=0.5)
    assert precision_recall(real, fake, batch_size=7) == precision_recall(
        real, fake, batch_size=1000
    )


def test_precision_recall_matches_dense_reference() -> None:
    real, fake = gaussian(60, 3, 20), gaussian(50, 3, 21, shift=0.7)
    k = 3

    def radii(points):
        dist = np.linalg.norm(points[:, None] - points[None], axis=-1)
        return np.sort(dist, axis=1)[:, k]

    def covered(queries, support):
        dist = np.linalg.norm(queries[:, None] - support[None], axis=-1)
        return float(np.mean((dist <= radii(support)[None]).any(axis=1)))

    precision, recall = precision_recall(real, fake, k=k)
    assert precision == pytest.approx(covered(fake, real), abs=1 / 50)
    assert recall == pytest.approx(covered(real, fake), abs=1 / 60)


def test_scores_reject_mismatched_widths() -> None:
    with pytest.raises(ConfigError, match="same backbone"):
        kernel_inception_distance(gaussian(10, 3, 0), gaussian(10, 4, 0))
    with pytest.raises(ConfigError):
        precision_recall(gaussian(10, 3, 0), gaussian(10, 3, 0) * np.nan)


def test_precision_recall_handles_ragged_batches() -> None:
    # Odd set sizes and a batch size that divides neither.
    real, fake = gaussian(101, 5, 22), gaussian(37, 5, 23)
    precision, recall = precision_recall(real, fake, k=5, batch_size=10)
    assert 0.0 <= precision <= 1.0 and 0.0 <= recall <= 1.0


@pytest.mark.parametrize("dims,real_count,fake_count", [(256, 400, 100), (32, 200, 300)])
def test_frechet_distance_from_features_equals_pytorch_fid(dims, real_count, fake_count):
    """The small-matrix route (fewer fakes than dimensions) is exact, not an approximation."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    from ganforge.metrics import frechet_distance_to_features

    rng = np.random.default_rng(3)
    mixing = rng.standard_normal((dims, dims)) * 0.1
    real = np.maximum(rng.standard_normal((real_count, dims)) @ mixing, 0)
    fake = np.maximum(rng.standard_normal((fake_count, dims)) @ mixing + 0.05, 0)
    mu1, sigma1 = feature_statistics(real)
    mu2, sigma2 = feature_statistics(fake)
    expected = calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    assert frechet_distance_to_features(mu1, sigma1, fake) == pytest.approx(expected, rel=1e-6)


def test_singular_covariances_score_quietly(capsys, recwarn) -> None:
    """A rank-deficient covariance (fewer samples than dimensions) is routine: one clean score,
    no SciPy warning and no pytorch-fid notice on the console."""
    from ganforge.metrics import feature_statistics, frechet_distance

    rng = np.random.default_rng(0)
    mu1, sigma1 = feature_statistics(rng.normal(size=(10, 32)))
    mu2, sigma2 = feature_statistics(rng.normal(size=(10, 32)))
    value = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert np.isfinite(value)
    assert capsys.readouterr().out == ""
    assert not [warning for warning in recwarn if "singular" in str(warning.message).lower()]
