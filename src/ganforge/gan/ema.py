"""Exponential moving average of a network's weights (Karras et al. 2018; Yazıcı et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class ExponentialMovingAverage:
    """A frozen copy of ``network`` whose parameters and floating-point buffers follow the live
    ones as an exponential moving average.

    Buffers such as BatchNorm's running mean and variance are averaged with the same decay as the
    weights: they describe the activations of the averaged network, and copying the live
    network's statistics onto averaged weights would pair two different networks. Integer
    buffers (``num_batches_tracked``) and spectral norm's power-iteration vectors are copied.
    State that is not a tensor (a progressive network's level and fade-in α) is the recipe's to
    set, on the live and the averaged network alike.

    The decay ramps up as min(decay, (1 + t) / (10 + t)) so that short runs and variants with few
    generator steps (n_critic = 5) are not dominated by the random initialization.
    """

    def __init__(self, network: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(network).eval().requires_grad_(False)
        self.decay = decay
        self.updates = 0
        self._averaged = list(self.model.parameters())
        # the same structure as the live network: which of its buffers are averaged is decided once
        self._buffer_averaged = [_averaged(name, b) for name, b in self.model.named_buffers()]
        own = list(self.model.buffers())
        self._averaged_buffers = [b for b, averaged in zip(own, self._buffer_averaged, strict=True) if averaged]
        self._copied_buffers = [b for b, averaged in zip(own, self._buffer_averaged, strict=True) if not averaged]

    @torch.no_grad()
    def update(self, network: nn.Module) -> None:
        self.updates += 1
        weight = 1.0 - min(self.decay, (1 + self.updates) / (10 + self.updates))
        # one fused multi-tensor op each instead of a Python loop over tensors
        torch._foreach_lerp_(self._averaged, list(network.parameters()), weight)
        live = list(network.buffers())
        if self._averaged_buffers:
            averaged_live = [b for b, averaged in zip(live, self._buffer_averaged, strict=True) if averaged]
            torch._foreach_lerp_(self._averaged_buffers, averaged_live, weight)
        copied = [b for b, averaged in zip(live, self._buffer_averaged, strict=True) if not averaged]
        for own, source in zip(self._copied_buffers, copied, strict=True):
            own.copy_(source)


def _averaged(name: str, buffer: torch.Tensor) -> bool:
    power_iteration_vector = ".parametrizations." in f".{name}" and name.rsplit(".", 1)[-1] in ("_u", "_v")
    return buffer.is_floating_point() and not power_iteration_vector
