"""What the engine does differently inside a data-parallel group (one process of several started
by :mod:`ganforge.gan.distributed`): networks wrapped in DistributedDataParallel, batch
normalization over the global batch, and step scalars averaged across the processes.

Every network a recipe declares is wrapped, so each backward pass averages its gradients over the
processes and every process takes the same optimizer step. Recipes call the wrapped networks;
EMA, checkpoints and grids use the plain ones underneath (their parameters are the same tensors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place in data-parallel training (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files, logs, draws grids and returns the result."""
        return self.rank == 0

    @property
    def is_parallel(self) -> bool:
        return self.world_size > 1


SINGLE_PROCESS = ProcessGroup()


class _SumAcrossProcesses(torch.autograd.Function):
    """An all-reduce (sum) that autograd differentiates through: the gradient of a sum over the
    processes is every process's gradient, summed."""

    @staticmethod
    def forward(context: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(context: Any, gradient: torch.Tensor) -> torch.Tensor:
        total = gradient.clone()
        dist.all_reduce(total)
        return total


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch normalization with statistics over every process's rows of the batch, so N processes
    with batch b normalize as one process with batch N·b would (what ``nn.SyncBatchNorm`` does,
    here for gloo on CPU as well as NCCL, and for BatchNorm subclasses whose forward takes more
    arguments). The statistics are summed with an all-reduce that autograd differentiates
    through, so each sample's gradient sees every row. Outside training, or outside a process
    group, it is the layer it replaced."""

    def forward(self, input: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if not (self.training and dist.is_initialized()):
            return super().forward(input, *args, **kwargs)
        dims = [d for d in range(input.dim()) if d != 1]
        channels = input.shape[1]
        count = torch.tensor([input.numel() / channels], device=input.device, dtype=input.dtype)
        total = _SumAcrossProcesses.apply(torch.cat([input.sum(dims), input.pow(2).sum(dims), count]))
        samples = total[-1]
        mean = total[:channels] / samples
        variance = (total[channels:2 * channels] / samples - mean.pow(2)).clamp_min(0)
        if self.track_running_stats:
            self._update_running_statistics(mean.detach(), variance.detach() * samples / (samples - 1))
        shape = [1, channels] + [1] * (input.dim() - 2)
        normalized = (input - mean.view(shape)) * torch.rsqrt(variance.view(shape) + self.eps)
        if self.affine:
            normalized = normalized * self.weight.view(shape) + self.bias.view(shape)
        return normalized

    @torch.no_grad()
    def _update_running_statistics(self, mean: torch.Tensor, unbiased_variance: torch.Tensor) -> None:
        self.num_batches_tracked += 1
        momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        self.running_mean.lerp_(mean, momentum)
        self.running_var.lerp_(unbiased_variance, momentum)


def with_global_batch_norm(network: nn.Module) -> nn.Module:
    """``network`` with every BatchNorm layer normalizing over the global batch. Each layer stays
    the object it was, with its parameters and buffers: only its class gains
    :class:`GlobalBatchNorm`'s forward, so checkpoints are those of the plain network."""
    for layer in network.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) and not isinstance(layer, GlobalBatchNorm):
            layer.__class__ = _global_variant(type(layer))
    return network


def _global_variant(kind: type[nn.Module]) -> type[nn.Module]:
    if kind not in _GLOBAL_VARIANTS:
        _GLOBAL_VARIANTS[kind] = type(f"Global{kind.__name__}", (GlobalBatchNorm, kind), {})
    return _GLOBAL_VARIANTS[kind]


_GLOBAL_VARIANTS: dict[type[nn.Module], type[nn.Module]] = {}


def data_parallel(networks: dict[str, nn.Module], group: ProcessGroup, device: torch.device,
                  find_unused_parameters: bool = False) -> dict[str, nn.Module]:
    """Each network wrapped in DistributedDataParallel (unchanged on one process). Buffers are
    synchronized once, not at each forward: global batch normalization keeps them equal."""
    if not group.is_parallel:
        return networks
    device_ids = [device.index] if device.type == "cuda" else None
    return {name: DistributedDataParallel(network, device_ids=device_ids, forward_sync_buffers=False,
                                          find_unused_parameters=find_unused_parameters)
            for name, network in networks.items()}


def average_across_processes(values: torch.Tensor, group: ProcessGroup) -> torch.Tensor:
    """The mean of ``values`` over the processes (the tensor itself on one process)."""
    if not group.is_parallel:
        return values
    summed = values.clone()
    dist.all_reduce(summed)
    return summed / group.world_size
