"""A backbone that needs no labels and ignores what a person ignores: the classifier network
trained to match two random views of each real image against the other images of its batch
(SimCLR's NT-Xent loss, Chen et al. 2020). A view moves, rescales and recolors the image, so what
its features keep is what survives those changes: the drawn shape, not where it sits or its exact
palette. Scores are "FD-contrastive".

On the color emoji it keeps the other drawing style nearer the real half than the label
classifier or the rotation backbone do, and puts blurred reals, one subcategory and noise far
away; like them, it does not yet rank a run that draws emoji before one that draws blobs (README,
"Which offline backbone orders color images"), so ``auto`` does not choose it.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ganforge.errors import ConfigError
from ganforge.metrics.classifier import ClassifierBackbone, FeatureClassifier, _channels_last, _default_arch
from ganforge.metrics.feature_backbone import as_device, check_images

logger = logging.getLogger(__name__)

#: fewer images per batch give each view too few negatives to learn from
MIN_BATCH = 8


def random_views(images: torch.Tensor, generator: torch.Generator, *, max_shift: float = 0.075,
                 scale_range: tuple[float, float] = (0.75, 1.1), background: float = 1.0) -> torch.Tensor:
    """Each image (float, [-1, 1]) shifted by up to ``max_shift`` of its size, rescaled within
    ``scale_range`` and recolored (brightness ± 0.2, saturation × 0.5–1.5); where it moves in from
    outside the frame it shows ``background`` (1 = white, the emoji's surround)."""
    count = images.shape[0]
    scale = scale_range[0] + (scale_range[1] - scale_range[0]) * torch.rand(count, generator=generator)
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / scale
    theta[:, :, 2] = (torch.rand(count, 2, generator=generator) - 0.5) * 2 * max_shift * 2  # grid spans [-1, 1]
    grid = F.affine_grid(theta.to(images.device), list(images.shape), align_corners=False)
    moved = F.grid_sample(images, grid, align_corners=False, padding_mode="border")
    inside = F.grid_sample(torch.ones_like(images[:, :1]), grid, align_corners=False) > 0.5
    moved = torch.where(inside, moved, torch.full_like(moved, background))
    brightness = (torch.rand(count, 1, 1, 1, generator=generator) - 0.5) * 0.4
    saturation = 0.5 + torch.rand(count, 1, 1, 1, generator=generator)
    moved = moved + brightness.to(images.device)
    gray = moved.mean(dim=1, keepdim=True)
    return ((moved - gray) * saturation.to(images.device) + gray).clamp(-1, 1)


def nt_xent(embedded: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """SimCLR's loss for 2B unit vectors whose rows i and i + B are twins; also returns, for each
    row, whether its most similar other row is its twin."""
    similarity = embedded @ embedded.T / temperature
    similarity.fill_diagonal_(float("-inf"))
    half = embedded.shape[0] // 2
    twins = torch.cat([torch.arange(half, 2 * half), torch.arange(half)]).to(embedded.device)
    return F.cross_entropy(similarity, twins), similarity.argmax(dim=1) == twins


def _views_loss(model: FeatureClassifier, projection: nn.Module, images_uint8: torch.Tensor,
                generator: torch.Generator, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """NT-Xent of two random views of each image, and which views found their twin."""
    batch = FeatureClassifier.prepare(images_uint8)
    views = torch.cat([random_views(batch, generator), random_views(batch, generator)])
    return nt_xent(F.normalize(projection(model.embed(views)), dim=1), temperature)


class ContrastiveBackbone(ClassifierBackbone):
    score_label = "FD-contrastive"

    def __init__(self, model: FeatureClassifier, training_report: dict[str, Any] | None = None) -> None:
        super().__init__(model, training_report)
        self.name = f"contrastive_{self.config['arch']}"


def _twin_accuracy(model: FeatureClassifier, projection: nn.Module, images: torch.Tensor, batch_size: int,
                   temperature: float, generator: torch.Generator, device: torch.device) -> float:
    """How often a held-out image's view finds its twin view among the views of its batch."""
    model.eval()
    matched, total = 0, 0
    with torch.inference_mode():
        for start in range(0, images.shape[0] - 1, batch_size):
            _, hits = _views_loss(model, projection, images[start:start + batch_size].to(device), generator,
                                  temperature)
            matched, total = matched + int(hits.sum()), total + hits.numel()
    return matched / max(total, 1)


def train_contrastive_backbone(images: torch.Tensor, *, epochs: int = 15, batch_size: int = 256,
                               lr: float = 1e-3, temperature: float = 0.2, holdout_fraction: float = 0.1,
                               seed: int = 0, max_images: int = 5000, device: str | torch.device = "auto",
                               progress: bool = True) -> ContrastiveBackbone:
    """Train on (at most ``max_images``) real uint8 images; the report's ``holdout_accuracy`` is
    how often a held-out image's view is matched to its twin view within a batch."""
    check_images(images)
    images = images[:max_images]
    count = images.shape[0]
    n_holdout = max(int(round(count * holdout_fraction)), 2)
    if count - n_holdout < MIN_BATCH:
        raise ConfigError(
            f"The contrastive backbone needs at least {MIN_BATCH + n_holdout} real images, got {count}. "
            "Add images or set evaluation.backbone: rotation.")
    batch_size = min(batch_size, count - n_holdout)  # a small set: every image in one batch
    target = as_device(device)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    train_x, holdout_x = images[order[n_holdout:]].to(target), images[order[:n_holdout]]
    image_size = (int(images.shape[2]), int(images.shape[3]))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FeatureClassifier(_default_arch(image_size), images.shape[1], 2, image_size)
        feature_dim = model.config["feature_dim"]
        projection = nn.Sequential(nn.Linear(feature_dim, feature_dim), nn.ReLU(), nn.Linear(feature_dim, 128))
    _channels_last(model).to(target)
    projection.to(target)
    optimizer = torch.optim.Adam([*model.body.parameters(), *projection.parameters()], lr=lr)
    steps_per_epoch = train_x.shape[0] // batch_size  # full batches only: the loss needs the negatives
    started, loss_value = time.perf_counter(), float("nan")
    model.train()
    with tqdm(total=epochs * steps_per_epoch, desc="contrastive backbone", disable=None if progress else True) as bar:
        for _ in range(epochs):
            permutation = torch.randperm(train_x.shape[0], generator=generator).to(target)
            for step in range(steps_per_epoch):
                batch = train_x[permutation[step * batch_size:(step + 1) * batch_size]]
                loss, _ = _views_loss(model, projection, batch, generator, temperature)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_value = float(loss.detach())
                bar.update(1)
                bar.set_postfix(loss=f"{loss_value:.3f}")
            if not math.isfinite(loss_value):
                raise ConfigError(f"The contrastive backbone's loss became {loss_value}; lower "
                                  "evaluation.contrastive.lr.")
    accuracy = _twin_accuracy(model, projection, holdout_x, batch_size, temperature, generator, target)
    report = {"pretext": "contrastive", "arch": model.config["arch"], "epochs": epochs, "batch_size": batch_size,
              "lr": lr, "temperature": temperature, "seed": seed, "n_train": int(train_x.shape[0]),
              "n_holdout": int(n_holdout), "holdout_accuracy": accuracy, "final_train_loss": loss_value,
              "seconds": time.perf_counter() - started, "device": str(target)}
    logger.info("Contrastive backbone trained in %.1fs: a held-out view finds its twin %.1f%% of the time.",
                report["seconds"], 100 * accuracy)
    return ContrastiveBackbone(model.eval(), report)
