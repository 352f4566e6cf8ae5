"""The Fréchet distance against values computed by hand. numpy and pytest only: CI also runs this
module on the newest Python the project declares, in an environment without torch or SciPy
(``.ci/run``, with ``--noconftest``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganforge.metrics.frechet import frechet_distance, symmetric_square_root, trace_sqrt_product


def test_diagonal_covariances_by_hand() -> None:
    # Commuting (diagonal) covariances: d² = |μ₁ − μ₂|² + Σ (√a − √b)².
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = (1 + 0 + 4) + (1 - 2) ** 2 + (2 - 1) ** 2 + 0
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_non_commuting_two_by_two_by_hand() -> None:
    # For a 2×2 M with non-negative eigenvalues, tr √M = √(tr M + 2 √det M).
    sigma1 = np.array([[2.0, 1.0], [1.0, 2.0]])
    sigma2 = np.array([[1.0, 0.0], [0.0, 3.0]])
    product = sigma1 @ sigma2  # [[2, 3], [1, 6]]: trace 8, determinant 9
    assert not np.allclose(product, product.T)
    trace_root = math.sqrt(8 + 2 * math.sqrt(9))  # √14
    assert trace_sqrt_product(sigma1, sigma2) == pytest.approx(trace_root, rel=1e-12)
    mu1, mu2 = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    expected = 5 + 4 + 4 - 2 * trace_root
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-12)


def test_symmetric_square_root_squares_back() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 8))
    sigma = np.cov(features, rowvar=False)
    root = symmetric_square_root(sigma)
    np.testing.assert_allclose(root @ root, sigma, atol=1e-12)
    np.testing.assert_allclose(root, root.T)


def test_identical_gaussians_score_zero_even_when_singular() -> None:
    # 10 samples in 32 dimensions: a covariance of rank 9, where sqrtm needed an ε.
    features = np.random.default_rng(1).normal(size=(10, 32))
    mu, sigma = features.mean(axis=0), np.cov(features, rowvar=False)
    # the zero eigenvalues come back as ±1e-16 rounding, whose square roots are ~1e-8 each
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6 * np.trace(sigma)


def test_singular_covariances_give_a_finite_non_negative_value() -> None:
    rng = np.random.default_rng(2)
    first, second = rng.normal(size=(10, 32)), rng.normal(size=(10, 32)) + 0.5
    value = frechet_distance(first.mean(0), np.cov(first, rowvar=False), second.mean(0), np.cov(second, rowvar=False))
    assert np.isfinite(value) and value > 0


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="D×D covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
