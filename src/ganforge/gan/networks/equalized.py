"""Layers of Karras et al.'s networks (ProGAN 2018, StyleGAN 2019/2020): equalized learning rate,
pixelwise feature normalization and the minibatch standard deviation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: He's gain for layers followed by a (leaky) ReLU
RELU_GAIN = math.sqrt(2.0)


class EqualizedLinear(nn.Module):
    """A linear layer whose weights are stored as N(0, 1) and scaled at run time by He's constant
    gain / √fan_in (Karras et al. 2018, §4.1). Adam's step size is then the same for every layer
    relative to its weights' scale, so wide and narrow layers learn at the same speed.

    ``lr_multiplier`` < 1 makes the layer learn that much slower under the same optimizer: the
    weights are stored that much larger and scaled down at run time (StyleGAN's mapping network)."""

    def __init__(self, in_features: int, out_features: int, gain: float = RELU_GAIN, bias: bool = True,
                 lr_multiplier: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.scale = gain / math.sqrt(in_features) * lr_multiplier
        self.lr_multiplier = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_multiplier if self.bias is not None and self.lr_multiplier != 1.0 else self.bias
        return F.linear(x, self.weight * self.scale, bias)


class EqualizedConv2d(nn.Module):
    """A same-padded convolution with the equalized learning rate of :class:`EqualizedLinear`
    (fan_in = input channels × kernel area)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, gain: float = RELU_GAIN) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class PixelNorm(nn.Module):
    """Each pixel's feature vector scaled to unit average square (Karras et al. 2018, §4.2): keeps
    the generator's and the discriminator's magnitudes from escalating, without BatchNorm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class MinibatchStdDev(nn.Module):
    """Appends one feature map: the standard deviation of every feature at every position across
    a group of samples, averaged to one number per group (Karras et al. 2018, §3). A generator
    that makes too-similar images then shows it in every one of them.

    ``group_size`` samples share a statistic (the paper's whole minibatch is ``None``); a batch
    that does not divide into such groups is treated as one group.
    """

    def __init__(self, group_size: int | None = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        count, channels, height, width = x.shape
        group = min(self.group_size or count, count)
        if count % group:
            group = count
        # sample g·M + m belongs to group m (the groups interleave, so a batch's order does not matter)
        members = x.float().reshape(group, count // group, channels, height, width)
        deviations = members - members.mean(dim=0)  # (var over dim 0 is several times slower on a CPU)
        spread = (deviations.pow(2).mean(dim=0) + 1e-8).sqrt().mean(dim=(1, 2, 3))
        statistic = spread.repeat(group).to(x.dtype).view(count, 1, 1, 1).expand(count, 1, height, width)
        return torch.cat([x, statistic], dim=1)
