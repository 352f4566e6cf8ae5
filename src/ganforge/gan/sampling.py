"""Images from a checkpoint: rebuild its sampling network and draw seeded batches."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganforge.gan.networks import build_generator
from ganforge.gan.state import upgrade_checkpoint
from ganforge.images import to_uint8
from ganforge.utils import resolve_device


def sampling_weights(checkpoint: dict[str, Any], use_ema: bool) -> tuple[dict[str, torch.Tensor], str]:
    """The generator weights to sample from, and which they are ("ema" or "raw")."""
    checkpoint = upgrade_checkpoint(checkpoint)
    averaged = checkpoint.get("ema", {}).get("generator")
    if use_ema and averaged is not None:
        return averaged, "ema"
    return checkpoint["networks"]["generator"], "raw"


def _generator(spec: dict[str, Any], weights: dict[str, torch.Tensor], device: torch.device) -> nn.Module:
    generator = build_generator(spec)
    generator.load_state_dict(weights)
    return generator.to(device).eval()


def _sample_labels(checkpoint: dict[str, Any], count: int, rng: torch.Generator) -> torch.Tensor | None:
    """Labels drawn from the training data's class shares (exactly balanced labels would favour a
    class-aware feature backbone over the real data's own mix); None when unconditional."""
    spec = checkpoint["model_spec"]
    if not spec["num_classes"]:
        return None
    shares = checkpoint.get("class_frequencies") or [1.0 / spec["num_classes"]] * spec["num_classes"]
    return torch.multinomial(torch.tensor(shares, dtype=torch.double), count, replacement=True, generator=rng)


def latent_noise(count: int, dim: int, rng: torch.Generator, truncation: float | None = None) -> torch.Tensor:
    """z ~ N(0, I); with ``truncation`` every value beyond ±truncation is redrawn until none is
    (Brock et al. 2019, section 3.1, the truncation trick): smaller thresholds trade variety for
    fidelity. Values already inside keep their place, so a sweep changes the same samples."""
    noise = torch.randn(count, dim, generator=rng)
    if truncation is None:
        return noise
    outside = noise.abs() > truncation
    while outside.any():
        noise[outside] = torch.randn(int(outside.sum()), generator=rng)
        outside = noise.abs() > truncation
    return noise


@torch.no_grad()
def draw(
    checkpoint: dict[str, Any],
    weights: dict[str, torch.Tensor],
    count: int,
    *,
    batch_size: int,
    device: str = "auto",
    seed: int = 0,
    labels: torch.Tensor | None = None,
    truncation: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``count`` uint8 images (and their labels) from ``weights``; the same seed gives the same
    images. ``truncation``: redraw latent values beyond ±truncation (see :func:`latent_noise`)."""
    target = resolve_device(device)
    checkpoint = upgrade_checkpoint(checkpoint)
    spec = checkpoint["model_spec"]
    generator = _generator(spec, weights, target)
    rng = torch.Generator().manual_seed(seed)
    if labels is None:
        labels = _sample_labels(checkpoint, count, rng)
    batches = []
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        noise = latent_noise(size, spec["latent_dim"], rng, truncation).to(target)
        batch_labels = labels[start : start + size].to(target) if labels is not None else None
        batches.append(to_uint8(generator(noise, batch_labels), checkpoint["normalization"]).cpu())
    return torch.cat(batches), labels
