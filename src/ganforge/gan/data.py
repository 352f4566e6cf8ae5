"""Training batches. The engine asks a batch source for one epoch's batches at a time; the source
owns the seeded order, so a streaming source can replace the in-memory one without touching the
loop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from ganforge.images import to_training_range


@dataclass
class Batch:
    real: torch.Tensor  # float, in the normalization recipe's training range
    labels: torch.Tensor | None

    @property
    def size(self) -> int:
        return self.real.shape[0]


class InMemoryBatches:
    """The whole data set on the training device as one uint8 tensor (4× smaller than floats,
    converted per batch), reshuffled each epoch from a seeded generator; the last partial batch
    is dropped."""

    def __init__(self, model_input: dict, batch_size: int, device: torch.device, use_labels: bool) -> None:
        self.images = model_input["images"].to(device)
        labels = model_input.get("labels")
        self.labels = labels.to(device) if (use_labels and labels is not None) else None
        self.recipe = model_input["normalization"]
        self.batch_size = batch_size
        self.device = device
        self.steps_per_epoch = self.images.shape[0] // batch_size

    def epoch(self, rng: torch.Generator) -> Iterator[Batch]:
        order = torch.randperm(self.images.shape[0], generator=rng).to(self.device)
        for index in range(self.steps_per_epoch):
            chosen = order[index * self.batch_size : (index + 1) * self.batch_size]
            labels = self.labels[chosen] if self.labels is not None else None
            yield Batch(to_training_range(self.images[chosen], self.recipe), labels)
