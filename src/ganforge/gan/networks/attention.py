"""Self-attention for convolutional networks (Zhang et al. 2019, SAGAN), placed at one feature-map
size of the generator and the discriminator by ``model.attention_resolution``."""

from __future__ import annotations

import torch
from torch import nn


class SelfAttention(nn.Module):
    """Every position attends to every other (Zhang et al. 2019, section 4): softmax(qᵀk) weighs
    the values, and a learned gate γ, zero at the start, lets the network first learn local
    structure and bring in long-range dependencies gradually (the block is the identity at init).

    Keys and values are 2×2 max-pooled, as BigGAN does (Brock et al. 2019, appendix B): a quarter
    of the attention matrix, three times faster on a CPU, each query still sees the whole map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner, value_channels = max(channels // 8, 1), max(channels // 2, 1)
        self.query = nn.Conv2d(channels, inner, 1, bias=False)
        self.key = nn.Conv2d(channels, inner, 1, bias=False)
        self.value = nn.Conv2d(channels, value_channels, 1, bias=False)
        self.output = nn.Conv2d(value_channels, channels, 1, bias=False)
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        pool = nn.functional.max_pool2d if height % 2 == 0 and width % 2 == 0 else _keep
        query, key, value = self.query(x).flatten(2), pool(self.key(x), 2).flatten(2), pool(self.value(x), 2).flatten(2)
        attention = torch.softmax(query.transpose(1, 2) @ key, dim=-1)  # [batch, query position, key position]
        attended = (value @ attention.transpose(1, 2)).view(batch, -1, height, width)
        return x + self.gate * self.output(attended)


def _keep(x: torch.Tensor, _: int) -> torch.Tensor:
    return x
