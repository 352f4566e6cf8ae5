"""Per-sample random numbers that do not depend on how a batch is split across processes.

In data-parallel training each of N processes trains on its own rows of a global batch. For N
processes with batch b to compute what one process with batch N·b computes, the per-sample draws
(latent noise, a gradient penalty's mixing weights, augmentation parameters) must be the same
numbers, in the same rows. So every process draws the whole global batch from the same seeded
stream and keeps its own rows: the streams stay in step across processes, and with one process
the draws are exactly those of a plain ``torch.randn(count, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class BatchRandom:
    generator: torch.Generator
    #: this process's place in the data-parallel group (0 of 1 on one process)
    rank: int = 0
    world_size: int = 1

    def _own_rows(self, draw: torch.Tensor, count: int) -> torch.Tensor:
        return draw[self.rank * count : (self.rank + 1) * count] if self.world_size > 1 else draw

    def randn(self, count: int, *shape: int, device: torch.device | str = "cpu",
              dtype: torch.dtype | None = None) -> torch.Tensor:
        """N(0, 1) values for ``count`` samples of this process's share of the batch."""
        draw = torch.randn(count * self.world_size, *shape, generator=self.generator, device=device, dtype=dtype)
        return self._own_rows(draw, count)

    def rand(self, count: int, *shape: int, device: torch.device | str = "cpu",
             dtype: torch.dtype | None = None) -> torch.Tensor:
        """U(0, 1) values for ``count`` samples."""
        draw = torch.rand(count * self.world_size, *shape, generator=self.generator, device=device, dtype=dtype)
        return self._own_rows(draw, count)

    def randint(self, low: int, high: int, count: int, *shape: int,
                device: torch.device | str = "cpu") -> torch.Tensor:
        """Integers in [low, high) for ``count`` samples."""
        draw = torch.randint(low, high, (count * self.world_size, *shape), generator=self.generator, device=device)
        return self._own_rows(draw, count)


def batch_random(source: torch.Generator | BatchRandom) -> BatchRandom:
    """A plain generator is the one-process case."""
    return source if isinstance(source, BatchRandom) else BatchRandom(source)
