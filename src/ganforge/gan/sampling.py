"""Images from a checkpoint: rebuild its sampling network and draw seeded batches."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ganforge.errors import CheckpointError
from ganforge.gan.data import DOMAINS
from ganforge.gan.networks import ARCHITECTURES, build_generator
from ganforge.gan.networks.translation import build_translator, domain_channels
from ganforge.gan.state import upgrade_checkpoint
from ganforge.images import to_training_range, to_uint8
from ganforge.utils import resolve_device


def sampling_weights(checkpoint: dict[str, Any], use_ema: bool) -> tuple[dict[str, torch.Tensor], str]:
    """The generator weights to sample from, and which they are ("ema" or "raw")."""
    checkpoint = upgrade_checkpoint(checkpoint)
    averaged = checkpoint.get("ema", {}).get("generator")
    if use_ema and averaged is not None:
        return averaged, "ema"
    return checkpoint["networks"]["generator"], "raw"


def _load_weights(network: nn.Module, weights: dict[str, torch.Tensor], name: str) -> None:
    try:
        network.load_state_dict(weights)
    except RuntimeError as error:  # torch's report of missing, unexpected or mis-sized tensors
        first = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 else str(error)
        raise CheckpointError(
            f"The checkpoint's {name} weights do not fit the network its model_spec describes ({first}): "
            "the file was edited or put in another variant's folder. Choose another checkpoint version."
        ) from error


def _generator(spec: dict[str, Any], weights: dict[str, torch.Tensor], device: torch.device) -> nn.Module:
    # building draws initial weights (replaced next) from the global generator: leave it as it was
    with torch.random.fork_rng(devices=[]):
        generator = build_generator(spec)
    _load_weights(generator, weights, "generator")
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


def truncates_in_w(spec: dict[str, Any]) -> bool:
    """Whether this model's truncation is ψ in w space (a style generator) rather than a
    threshold on z."""
    return ARCHITECTURES[spec["architecture"]].truncation == "w"


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
    images. ``truncation``: redraw latent values beyond ±truncation (see :func:`latent_noise`), or
    for a style generator ψ in w space (the same z for every ψ)."""
    checkpoint = upgrade_checkpoint(checkpoint)
    rng = torch.Generator().manual_seed(seed)
    if labels is None:
        labels = _sample_labels(checkpoint, count, rng)
    in_w = truncates_in_w(checkpoint["model_spec"])
    noise = _latents(count, batch_size, checkpoint["model_spec"]["latent_dim"], rng, None if in_w else truncation)
    return render(checkpoint, weights, noise, labels, batch_size=batch_size, device=device,
                  psi=truncation if in_w else None, seed=seed), labels


def _latents(count: int, batch_size: int, dim: int, rng: torch.Generator,
             truncation: float | None = None) -> torch.Tensor:
    """``count`` latent vectors drawn from ``rng`` batch by batch, the way sampling always drew
    them (so a seed keeps giving the same images)."""
    return torch.cat([latent_noise(min(batch_size, count - start), dim, rng, truncation)
                      for start in range(0, count, batch_size)])


@contextlib.contextmanager
def seeded_global_rng(seed: int, device: torch.device) -> Iterator[None]:
    """torch's global generator seeded with ``seed`` inside, restored after: a style generator
    draws its per-layer noise inputs from it, and the same sampling seed must give the same
    images without disturbing anyone else's random stream."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def _generated(checkpoint: dict[str, Any], weights: dict[str, torch.Tensor], noise: torch.Tensor,
               labels: torch.Tensor | None, batch_size: int, device: str, psi: float | None = None,
               seed: int = 0) -> Iterator[Any]:
    """The generator's output (in the training range) for each batch of ``noise`` (and labels);
    ``psi``: a style generator's truncation; ``seed``: its noise inputs'."""
    target = resolve_device(device)
    generator = _generator(checkpoint["model_spec"], weights, target)
    if psi is not None:
        generator.truncation_psi = psi
    with seeded_global_rng(seed, target):
        for start in range(0, noise.shape[0], batch_size):
            batch_labels = labels[start : start + batch_size].to(target) if labels is not None else None
            yield generator(noise[start : start + batch_size].to(target), batch_labels)


def translator_weights(checkpoint: dict[str, Any], use_ema: bool) -> tuple[dict[str, dict[str, torch.Tensor]], str]:
    """Both translators' weights (A → B and B → A) of a two-domain checkpoint, and which they are."""
    checkpoint = upgrade_checkpoint(checkpoint)
    names = ("generator_ab", "generator_ba")
    averaged = checkpoint.get("ema", {})
    if use_ema and all(averaged.get(name) is not None for name in names):
        return {name: averaged[name] for name in names}, "ema"
    return {name: checkpoint["networks"][name] for name in names}, "raw"


@torch.no_grad()
def translate(
    checkpoint: dict[str, Any],
    weights: dict[str, dict[str, torch.Tensor]],
    images: torch.Tensor,
    direction: str,
    *,
    batch_size: int,
    device: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images of one domain translated to the other (``direction`` "ab" or "ba") and back:
    (translated, reconstructed), both uint8."""
    target = resolve_device(device)
    checkpoint = upgrade_checkpoint(checkpoint)
    spec = checkpoint["model_spec"]
    channels_a, channels_b = domain_channels(spec)
    a_to_b = build_translator(spec, channels_a, channels_b)
    b_to_a = build_translator(spec, channels_b, channels_a)
    _load_weights(a_to_b, weights["generator_ab"], "generator_ab")
    _load_weights(b_to_a, weights["generator_ba"], "generator_ba")
    there, back = (a_to_b, b_to_a) if direction == "ab" else (b_to_a, a_to_b)
    there, back = there.to(target).eval(), back.to(target).eval()
    domains = checkpoint["domains"]
    source, goal = (domains["domain_a"], domains["domain_b"]) if direction == "ab" else \
        (domains["domain_b"], domains["domain_a"])
    translated, reconstructed = [], []
    for start in range(0, images.shape[0], batch_size):
        real = to_training_range(images[start : start + batch_size].to(target), source["normalization"])
        moved = there(real)
        translated.append(to_uint8(moved, goal["normalization"]).cpu())
        reconstructed.append(to_uint8(back(moved), source["normalization"]).cpu())
    return torch.cat(translated), torch.cat(reconstructed)


@torch.no_grad()
def draw_pairs(
    checkpoint: dict[str, Any],
    weights: dict[str, torch.Tensor],
    count: int,
    *,
    batch_size: int,
    device: str = "auto",
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` pairs of uint8 images of a coupled generator (CoGAN): the i-th images of both
    domains come from the same z."""
    checkpoint = upgrade_checkpoint(checkpoint)
    noise = _latents(count, batch_size, checkpoint["model_spec"]["latent_dim"], torch.Generator().manual_seed(seed))
    pairs = list(_generated(checkpoint, weights, noise, None, batch_size, device))
    return tuple(torch.cat([to_uint8(pair[side], checkpoint["domains"][domain]["normalization"]).cpu()
                            for pair in pairs]) for side, domain in enumerate(DOMAINS))


def slerp(start: torch.Tensor, end: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between two latent vectors: Gaussian latents concentrate near a
    sphere, and the straight line between two of them passes through its less likely interior."""
    cosine = torch.dot(start / start.norm(), end / end.norm()).clamp(-1.0, 1.0)
    angle = torch.arccos(cosine)
    if angle.abs() < 1e-6:
        return torch.lerp(start, end, t)
    return (torch.sin((1 - t) * angle) * start + torch.sin(t * angle) * end) / torch.sin(angle)


def interpolation_path(seeds: list[int], steps: int, dim: int) -> torch.Tensor:
    """A closed walk through the latent vectors of ``seeds`` (each z ~ N(0, I) from its own seed),
    ``steps`` points from one to the next, back to the first: [len(seeds)·steps, dim]."""
    points = [torch.randn(dim, generator=torch.Generator().manual_seed(seed)) for seed in seeds]
    return torch.stack([slerp(start, end, step / steps)
                        for start, end in zip(points, points[1:] + points[:1], strict=True)
                        for step in range(steps)])


@torch.no_grad()
def render(
    checkpoint: dict[str, Any],
    weights: dict[str, torch.Tensor],
    noise: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    batch_size: int,
    device: str = "auto",
    psi: float | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """uint8 images of the given latent vectors (and labels), in order; a coupled generator's
    pair side by side in one image (domain A left, B right). ``psi``: a style generator's
    truncation in w space; ``seed``: its noise inputs'."""
    checkpoint = upgrade_checkpoint(checkpoint)
    return torch.cat([to_uint8(torch.cat(made, dim=-1) if isinstance(made, tuple) else made,
                               checkpoint["normalization"]).cpu()
                      for made in _generated(checkpoint, weights, noise, labels, batch_size, device, psi, seed)])


@torch.no_grad()
def mix_styles(
    checkpoint: dict[str, Any],
    weights: dict[str, torch.Tensor],
    rows: int,
    columns: int,
    *,
    coarse_layers: int | None = None,
    device: str = "auto",
    seed: int = 0,
    psi: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Style mixing (StyleGAN, §3.1) of a style generator: ``rows`` + ``columns`` seeded samples,
    and for every (row, column) the image whose first ``coarse_layers`` layers (default: those
    of the lower half of the resolutions) take the row sample's w and the rest the column's.
    uint8 (row images, column images, mixed images row by row)."""
    checkpoint = upgrade_checkpoint(checkpoint)
    spec, target = checkpoint["model_spec"], resolve_device(device)
    generator = _generator(spec, weights, target)
    coarse = generator.coarse_layers() if coarse_layers is None else min(coarse_layers, generator.num_ws)
    z = torch.randn(rows + columns, spec["latent_dim"], generator=torch.Generator().manual_seed(seed))
    ws = generator.broadcast(generator.map(z.to(target), psi))
    row_ws, column_ws = ws[:rows], ws[rows:]
    mixed = torch.cat([row_ws[:, None, :coarse].expand(-1, columns, -1, -1),
                       column_ws[None, :, coarse:].expand(rows, -1, -1, -1)], dim=2)
    with seeded_global_rng(seed, target):
        images = generator.synthesize(torch.cat([ws, mixed.reshape(rows * columns, *ws.shape[1:])]))
    images = to_uint8(images, checkpoint["normalization"]).cpu()
    return images[:rows], images[rows : rows + columns], images[rows + columns :]
