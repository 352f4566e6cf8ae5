"""Training batches. The engine asks a batch source for one epoch's batches at a time; the source
owns the seeded order, so the streaming source (shards on disk, read by DataLoader workers) and
the in-memory one give the same batches and the loop cannot tell them apart."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset

from ganforge.gan.shards import ShardedImages
from ganforge.images import to_training_range
from ganforge.utils import content_digest


@dataclass
class Batch:
    real: torch.Tensor  # float, in the normalization recipe's training range
    labels: torch.Tensor | None

    @property
    def size(self) -> int:
        return self.real.shape[0]

    def in_memory_format(self, memory_format: torch.memory_format) -> Batch:
        return Batch(self.real.contiguous(memory_format=memory_format), self.labels)


class InMemoryBatches:
    """The whole data set on the training device as one uint8 tensor (4× smaller than floats,
    converted per batch), reshuffled each epoch from a seeded generator; the last partial batch
    is dropped.

    In data-parallel training every process draws the same order and takes its own
    ``batch_size`` rows of each global batch of ``batch_size × world_size``: together the
    processes see exactly the batches one process with the global batch size would."""

    def __init__(self, model_input: dict, batch_size: int, device: torch.device, use_labels: bool,
                 rank: int = 0, world_size: int = 1) -> None:
        self.images = model_input["images"].to(device)
        labels = model_input.get("labels")
        self.labels = labels.to(device) if (use_labels and labels is not None) else None
        self.recipe = model_input["normalization"]
        self.batch_size = batch_size
        self.device = device
        self.rank, self.world_size = rank, world_size
        self.steps_per_epoch = self.images.shape[0] // (batch_size * world_size)

    def epoch(self, rng: torch.Generator) -> Iterator[Batch]:
        order = torch.randperm(self.images.shape[0], generator=rng).to(self.device)
        for step in range(self.steps_per_epoch):
            yield self._batch(own_rows(order, step, self.batch_size, self.rank, self.world_size))

    def examples(self, count: int, seed: int) -> Batch:
        """``count`` fixed images (and labels) picked by their own seeded generator: what a
        recipe that transforms real images shows in its grids."""
        return self._batch(seeded_subset(self.images.shape[0], count, seed).to(self.device))

    def _batch(self, chosen: torch.Tensor) -> Batch:
        labels = self.labels[chosen] if self.labels is not None else None
        return Batch(to_training_range(self.images[chosen], self.recipe), labels)


def own_rows(order: torch.Tensor, step: int, batch_size: int, rank: int, world_size: int) -> torch.Tensor:
    """This process's rows of global batch ``step`` of the epoch's ``order``."""
    start = (step * world_size + rank) * batch_size
    return order[start : start + batch_size]


class _ShardRows(Dataset):
    """Item = a batch of indices → those images (a DataLoader worker reads them from the maps)."""

    def __init__(self, images: ShardedImages) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, indices: torch.Tensor) -> torch.Tensor:
        return self.images.take(indices)


class StreamingBatches:
    """The data set streamed from memory-mapped uint8 shards (:mod:`ganforge.gan.shards`) by a
    DataLoader with ``workers`` processes, for sets larger than memory. Each epoch's order is
    drawn from the seeded generator exactly as :class:`InMemoryBatches` draws it and cut into the
    same (per-process) batches, so both sources give the same batches in the same order; only
    the uint8 → training-range conversion happens after the copy to the device."""

    def __init__(self, model_input: dict, batch_size: int, device: torch.device, use_labels: bool,
                 rank: int = 0, world_size: int = 1, workers: int = 2) -> None:
        self.images: ShardedImages = model_input["images"]
        labels = model_input.get("labels")
        self.labels = labels.cpu() if (use_labels and labels is not None) else None  # 8 bytes an image
        self.recipe = model_input["normalization"]
        self.batch_size, self.device, self.workers = batch_size, device, workers
        self.rank, self.world_size = rank, world_size
        self.steps_per_epoch = len(self.images) // (batch_size * world_size)

    def epoch(self, rng: torch.Generator) -> Iterator[Batch]:
        order = torch.randperm(len(self.images), generator=rng)
        batches = [own_rows(order, step, self.batch_size, self.rank, self.world_size)
                   for step in range(self.steps_per_epoch)]
        # its own generator: seeding the workers must not draw from torch's global one, which is
        # part of the training state (a streamed run would not be the in-memory run)
        loader = DataLoader(_ShardRows(self.images), batch_size=None, sampler=batches, num_workers=self.workers,
                            pin_memory=self.device.type == "cuda", prefetch_factor=4 if self.workers else None,
                            generator=torch.Generator().manual_seed(0))
        for chosen, images in zip(batches, loader, strict=True):
            yield self._batch(images, chosen)

    def examples(self, count: int, seed: int) -> Batch:
        chosen = seeded_subset(len(self.images), count, seed)
        return self._batch(self.images.take(chosen), chosen)

    def _batch(self, images: torch.Tensor, chosen: torch.Tensor) -> Batch:
        labels = self.labels[chosen].to(self.device) if self.labels is not None else None
        return Batch(to_training_range(images.to(self.device, non_blocking=True), self.recipe), labels)


def seeded_subset(total: int, count: int, seed: int) -> torch.Tensor:
    """Indices of ``count`` of ``total`` items (all of them if fewer), in a seeded random order."""
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:count]


#: the two training sets of a two-domain variant (CycleGAN, CoGAN), each its own data namespace
DOMAINS = ("domain_a", "domain_b")


@dataclass
class DomainPair:
    """One step's unpaired batches of the two domains (the i-th images of ``a`` and ``b`` have
    nothing to do with each other)."""

    a: Batch
    b: Batch

    def in_memory_format(self, memory_format: torch.memory_format) -> DomainPair:
        return DomainPair(self.a.in_memory_format(memory_format), self.b.in_memory_format(memory_format))

    @property
    def size(self) -> int:
        return self.a.size


def is_two_domain(model_input: dict) -> bool:
    return "domains" in model_input


def pair_domains(domain_a: dict, domain_b: dict) -> dict:
    """The training input of a two-domain variant: both domains' model inputs, with a joint
    fingerprint (a change to either domain is new data)."""
    return {
        "domains": {"domain_a": domain_a, "domain_b": domain_b},
        "fingerprint": content_digest([domain_a["fingerprint"], domain_b["fingerprint"]]),
        "source": f"{domain_a.get('source')} | {domain_b.get('source')}",
        "normalization": domain_a["normalization"],
    }


class DomainPairBatches:
    """Both domains on the device, each in its own seeded order per epoch. An epoch is one pass
    over the smaller domain; the larger one contributes a fresh random subset each epoch, so
    neither order ever pairs the same images twice on purpose."""

    def __init__(self, model_input: dict, batch_size: int, device: torch.device, rank: int = 0,
                 world_size: int = 1) -> None:
        domains = model_input["domains"]
        self.a = InMemoryBatches(domains["domain_a"], batch_size, device, True, rank, world_size)
        self.b = InMemoryBatches(domains["domain_b"], batch_size, device, True, rank, world_size)
        self.batch_size = batch_size
        self.steps_per_epoch = min(self.a.steps_per_epoch, self.b.steps_per_epoch)

    def epoch(self, rng: torch.Generator) -> Iterator[DomainPair]:
        a, b = self.a.epoch(rng), self.b.epoch(rng)  # both orders from the one generator, a's first
        for _ in range(self.steps_per_epoch):
            yield DomainPair(next(a), next(b))

    def examples(self, count: int, seed: int) -> DomainPair:
        return DomainPair(self.a.examples(count, seed), self.b.examples(count, seed + 1))
