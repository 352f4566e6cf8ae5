"""Scores on feature arrays (float64 N×D): Fréchet distance, KID, improved precision/recall."""

from __future__ import annotations

import logging

import numpy as np
import torch

from ganforge.errors import ConfigError
from ganforge.metrics.frechet import frechet_distance

logger = logging.getLogger(__name__)


def _check_features(features: np.ndarray, what: str, min_rows: int = 2) -> np.ndarray:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise ConfigError(f"{what} must be a 2-D N×D array, got shape {array.shape}.")
    if array.shape[0] < min_rows:
        raise ConfigError(f"{what} needs at least {min_rows} samples, got {array.shape[0]}.")
    if not np.isfinite(array).all():
        raise ConfigError(f"{what} contain NaN or infinite values.")
    return array


def _check_pair(
    real: np.ndarray, fake: np.ndarray, min_rows: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    real = _check_features(real, "Real features", min_rows)
    fake = _check_features(fake, "Fake features", min_rows)
    if real.shape[1] != fake.shape[1]:
        raise ConfigError(
            f"Real and fake features have different widths ({real.shape[1]} vs {fake.shape[1]}); "
            "they must come from the same backbone."
        )
    return real, fake


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance exactly as pytorch-fid computes them (``np.cov(rowvar=False)``)."""
    array = _check_features(features, "Features")
    return np.mean(array, axis=0), np.cov(array, rowvar=False)


def frechet_distance_to_features(mu1: np.ndarray, sigma1: np.ndarray, fake_features: np.ndarray) -> float:
    """The same Fréchet distance, from the fake *features* instead of their covariance.

    With fewer samples than feature dimensions (2,000 generated images, 2,048-d pool3) the
    covariance Σ₂ = BᵀB of the centred, 1/√(m−1)-scaled features B has rank < d, and the
    nonzero eigenvalues of Σ₁Σ₂ equal those of the small symmetric m×m matrix BΣ₁Bᵀ. So
    tr √(Σ₁Σ₂) = Σ √λᵢ(BΣ₁Bᵀ) exactly, without the d×d matrix square root that dominates
    the general route's cost. With as many samples as dimensions it takes the general route.
    """
    fake = _check_features(fake_features, "Fake features")
    count, dims = fake.shape
    mu2 = fake.mean(axis=0)
    if count >= dims:
        return frechet_distance(mu1, sigma1, mu2, np.cov(fake, rowvar=False))
    centred = (fake - mu2) / np.sqrt(count - 1)
    small = centred @ sigma1 @ centred.T
    eigenvalues = np.linalg.eigvalsh((small + small.T) / 2)
    trace_sqrt_product = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    trace_sigma2 = float(np.einsum("ij,ij->", centred, centred))
    difference = mu1 - mu2
    return float(difference @ difference + np.trace(sigma1) + trace_sigma2 - 2.0 * trace_sqrt_product)


def kernel_inception_distance(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018): unbiased MMD² with k(x, y) = (x·y / d + 1)³.

    Averaged over ``subsets`` random subsets of ``subset_size`` (clipped to the smaller set)
    drawn without replacement, as in torch-fidelity / StudioGAN. Returns ``(mean, std)``.
    """
    real, fake = _check_pair(real_features, fake_features)
    if subsets < 1:
        raise ConfigError(f"KID subsets must be >= 1, got {subsets}.")
    m = min(int(subset_size), real.shape[0], fake.shape[0])
    if m < 2:
        raise ConfigError(f"KID subset_size must be >= 2, got {subset_size}.")
    if m < subset_size:
        logger.info("KID subset_size clipped from %d to %d (smaller set size).", subset_size, m)
    dim = real.shape[1]
    rng = np.random.default_rng(seed)
    values = np.empty(subsets, dtype=np.float64)
    for index in range(subsets):
        x = real[rng.choice(real.shape[0], m, replace=False)]
        y = fake[rng.choice(fake.shape[0], m, replace=False)]
        k_xx = (x @ x.T / dim + 1.0) ** 3
        k_yy = (y @ y.T / dim + 1.0) ** 3
        k_xy = (x @ y.T / dim + 1.0) ** 3
        # Unbiased: within-set sums drop the diagonal (i == j) terms.
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values[index] = within - 2.0 * k_xy.sum() / (m * m)
    return float(values.mean()), float(values.std())


def _kth_neighbour_radii(points: torch.Tensor, k: int, batch_size: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest neighbour in the same set (self excluded)."""
    radii = torch.empty(points.shape[0], dtype=points.dtype, device=points.device)
    for start in range(0, points.shape[0], batch_size):
        distances = torch.cdist(points[start : start + batch_size], points)
        # The smallest distance is the point itself (0), so the k-th neighbour is the (k+1)-th.
        radii[start : start + batch_size] = distances.kthvalue(k + 1, dim=1).values
    return radii


def _fraction_covered(
    queries: torch.Tensor, support: torch.Tensor, radii: torch.Tensor, batch_size: int
) -> float:
    """Fraction of ``queries`` inside at least one support hypersphere (radius = k-NN radius)."""
    inside = 0
    for start in range(0, queries.shape[0], batch_size):
        distances = torch.cdist(queries[start : start + batch_size], support)
        inside += int((distances <= radii.unsqueeze(0)).any(dim=1).sum())
    return inside / queries.shape[0]


def precision_recall(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    *,
    k: int = 3,
    batch_size: int = 1000,
    device: str | torch.device = "cpu",
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN radii.

    Precision: share of fake samples inside the real manifold (union of real k-NN balls).
    Recall: share of real samples inside the fake manifold. Distances are computed in row
    batches of ``batch_size`` with ``torch.cdist`` (float64), so memory is
    O(batch_size × N) — 10k × 10k fits easily.
    """
    real_np, fake_np = _check_pair(real_features, fake_features, min_rows=k + 1)
    if k < 1:
        raise ConfigError(f"precision/recall k must be >= 1, got {k}.")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}.")
    target = torch.device(device)
    real = torch.from_numpy(real_np).to(target)
    fake = torch.from_numpy(fake_np).to(target)
    real_radii = _kth_neighbour_radii(real, k, batch_size)
    fake_radii = _kth_neighbour_radii(fake, k, batch_size)
    precision = _fraction_covered(fake, real, real_radii, batch_size)
    recall = _fraction_covered(real, fake, fake_radii, batch_size)
    return precision, recall
