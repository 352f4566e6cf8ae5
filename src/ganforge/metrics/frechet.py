"""The Fréchet distance between two Gaussians, in numpy alone (no torch, no SciPy).

d² = |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁Σ₂)   (Dowson & Landau 1982; FID, Heusel et al. 2017)

Σ₁Σ₂ is not symmetric, so pytorch-fid takes its square root with ``scipy.linalg.sqrtm`` and
drops the imaginary part; the ``disp`` argument it passes is gone from SciPy ≥ 1.18. Here the
trace comes from a symmetric matrix instead: with R = √Σ₁ (symmetric, from an eigendecomposition),
Σ₁Σ₂ = R (R Σ₂ R) R⁻¹ is similar to R Σ₂ R, which is symmetric positive semi-definite, so

    tr √(Σ₁Σ₂) = Σᵢ √λᵢ(R₁ Σ₂ R₁) = Σᵢ σᵢ(R₁ R₂)   (R₂ = √Σ₂; σᵢ: singular values)

with real, non-negative values throughout (eigenvalues of Σ at rounding level are set to 0). This
holds for singular covariances too (fewer samples than dimensions), where sqrtm needs an ε on the
diagonal. Kept free of torch so that it can be tested on every Python the project declares.
"""

from __future__ import annotations

import numpy as np


def _rounding_free(values: np.ndarray) -> np.ndarray:
    """Eigenvalues of a positive semi-definite matrix with rounding noise set to 0: those below
    D·ε·λ_max (the accuracy of a symmetric eigensolver), whose square roots (≈ 1e-8·√λ_max each)
    would otherwise add up over hundreds of dead features."""
    tolerance = values.size * np.finfo(np.float64).eps * max(float(values.max(initial=0.0)), 0.0)
    return np.where(values > tolerance, values, 0.0)


def symmetric_square_root(matrix: np.ndarray) -> np.ndarray:
    """√M of a symmetric positive semi-definite matrix (eigenvalues at rounding level → 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(_rounding_free(values))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr √(Σ₁Σ₂) for two covariance matrices (module docstring): the eigenvalues of R₁Σ₂R₁ are
    the squared singular values of R₁R₂, so the trace is the sum of those singular values, taken
    directly rather than as square roots of eigenvalues, which would turn rounding noise of
    1e-16 into 1e-8."""
    product = symmetric_square_root(sigma1) @ symmetric_square_root(sigma2)
    return float(np.linalg.svd(product, compute_uv=False).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂); same value as pytorch-fid's, without SciPy."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"Fréchet distance needs means of one length D and D×D covariances; got means {mu1.shape} and "
            f"{mu2.shape}, covariances {sigma1.shape} and {sigma2.shape}."
        )
    difference = mu1 - mu2
    value = difference @ difference + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return float(value)
