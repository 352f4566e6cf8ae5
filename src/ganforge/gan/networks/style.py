"""A style-based generator and a residual discriminator (Karras et al. 2019, 2020: StyleGAN and
StyleGAN2), scaled to small images (``model.architecture: style``).

The generator does not feed z to its convolutions. A mapping network turns z into an intermediate
latent w; each convolution layer takes its own copy of w, turned by an affine layer into one
scale per input feature map (the layer's *style*). The scales modulate the convolution's weights
and the weights are then demodulated, divided by the norm each output map would have for unit
inputs, so every layer's output starts at unit variance whatever its style (StyleGAN2, §2.2).
The synthesis starts from a learned constant; per-layer noise (one map per image, scaled by a
learned per-channel strength) provides the stochastic detail. Images are the sum of each
resolution's 1×1 output, upsampled (the "skip" generator of StyleGAN2, §4.1).

A running average of w (``w_avg``) is tracked while training; sampling with
``truncation_psi = ψ`` moves every w towards it (w_avg + ψ·(w − w_avg)), trading variety for
typical images (StyleGAN, §3). Several w per image (``synthesize`` takes one per layer) is how
style mixing and the mixing grid give coarse layers one sample's styles and fine layers another's.

Upsampling is bilinear rather than the papers' [1, 3, 3, 1] FIR filter: the same low-pass intent
in one readable call.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.networks import ARCHITECTURES, Architecture, ModelOptions
from ganforge.gan.networks.equalized import RELU_GAIN, EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm
from ganforge.gan.networks.layout import conv_fit_check, conv_layout


class StyleOptions(ModelOptions):
    #: the intermediate latent w and the depth of the mapping network z → w
    w_dim: int = Field(128, ge=1)
    mapping_layers: int = Field(4, ge=1)
    #: the mapping network learns this much slower than the rest (StyleGAN: 0.01)
    mapping_lr_multiplier: float = Field(0.01, gt=0)
    #: feature maps at the full resolution; each level below doubles them, up to max_channels
    base_channels: int = Field(32, ge=1)
    max_channels: int = Field(128, ge=1)
    #: decay of the tracked average w that truncation moves towards
    w_avg_beta: float = Field(0.995, ge=0, lt=1)
    #: samples that share one minibatch standard deviation in the discriminator
    minibatch_group: int | None = Field(4, ge=2)
    # equalized layers have no spectral-norm parametrization: their runtime scale plays that part
    spectral_norm: Literal["none"] = "none"


def level_widths(image_size: int, base: int, most: int) -> tuple[int, list[int]]:
    """(start size, feature maps per resolution from the lowest up)."""
    start, doublings = conv_layout(image_size, "style")
    return start, [min(most, base * 2 ** (doublings - level)) for level in range(doublings + 1)]


def _unconditional(spec: dict[str, Any]) -> None:
    if spec["num_classes"]:
        raise ConfigError("model.architecture 'style' is unconditional: set model.conditional: false "
                          "(class labels in the data are then ignored).")


def _upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class ModulatedConv2d(nn.Module):
    """A convolution whose weights are scaled per input feature map by a style computed from w,
    then (``demodulate``) rescaled so each output map has unit expected variance for inputs of unit
    variance. Each image has its own weights, applied without building them: scaling the input
    maps by the styles and the output maps by the demodulation factors is the same convolution,
    and one shared-weight convolution of the batch is up to 9× faster on a CPU than a grouped one
    for wide layers, about even for narrow ones (benchmarks/bench_modulated_conv.py)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int,
                 demodulate: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_channels * kernel_size * kernel_size)  # equalized learning rate
        self.affine = EqualizedLinear(w_dim, in_channels, gain=1.0)
        nn.init.ones_(self.affine.bias)  # styles start at 1: the layer starts unmodulated
        self.demodulate = demodulate
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # count × in
        weight = self.weight * self.scale
        out = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)
        if self.demodulate:
            # the norm of image n's weights for output j: sqrt(Σ_i s_ni² Σ_k w_jik²) (StyleGAN2, eq. 3)
            norms = styles.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t()  # count × out
            out = out * torch.rsqrt(norms + 1e-8)[:, :, None, None]
        return out


class StyleLayer(nn.Module):
    """Modulated 3×3 convolution (after a 2× upsampling where ``upsample``), per-image noise with
    a learned strength per channel (starting at 0), bias and leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(1, out_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, out_channels, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = _upsample(x)
        x = self.conv(x, w)
        noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        return F.leaky_relu(x + self.noise_strength * noise + self.bias, 0.2) * RELU_GAIN


class ToImage(nn.Module):
    """A modulated 1×1 convolution to the image channels, not demodulated (its output is pixels)."""

    def __init__(self, in_channels: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias


class StyleGenerator(nn.Module):
    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        _unconditional(spec)
        start, widths = level_widths(spec["image_size"], spec["base_channels"], spec["max_channels"])
        w_dim, multiplier = spec["w_dim"], spec["mapping_lr_multiplier"]
        mapping: list[nn.Module] = [PixelNorm()]
        for index in range(spec["mapping_layers"]):
            mapping += [EqualizedLinear(spec["latent_dim"] if index == 0 else w_dim, w_dim,
                                        lr_multiplier=multiplier), nn.LeakyReLU(0.2)]
        self.mapping = nn.Sequential(*mapping)
        self.constant = nn.Parameter(torch.randn(1, widths[0], start, start))
        # resolution r has layers[2r - 1 : 2r + 1] (the lowest one layer), and to_image[r]
        self.layers = nn.ModuleList([StyleLayer(widths[0], widths[0], w_dim)])
        for previous, width in zip(widths, widths[1:], strict=False):
            self.layers.extend([StyleLayer(previous, width, w_dim, upsample=True), StyleLayer(width, width, w_dim)])
        self.to_image = nn.ModuleList([ToImage(width, spec["channels"], w_dim) for width in widths])
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.w_avg_beta = spec["w_avg_beta"]
        self.num_ws = len(self.layers)
        #: ψ of the truncation trick used by forward (None: off); sampling sets it
        self.truncation_psi: float | None = None

    def map(self, z: torch.Tensor, psi: float | None = None) -> torch.Tensor:
        """z → w, moved towards the tracked average by ψ when given."""
        w = self.mapping(z)
        return w if psi is None else torch.lerp(self.w_avg.to(w.dtype), w, psi)

    @torch.no_grad()
    def track_w_avg(self, w: torch.Tensor) -> None:
        self.w_avg.lerp_(w.detach().float().mean(dim=0), 1.0 - self.w_avg_beta)

    def synthesize(self, ws: torch.Tensor) -> torch.Tensor:
        """Images from one w per layer (``ws``: count × num_ws × w_dim)."""
        x = self.constant.expand(ws.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0])
        image = self.to_image[0](x, ws[:, 0])
        for resolution in range(1, len(self.to_image)):
            first = 2 * resolution - 1
            x = self.layers[first](x, ws[:, first])
            x = self.layers[first + 1](x, ws[:, first + 1])
            image = _upsample(image) + self.to_image[resolution](x, ws[:, first + 1])
        return image

    def coarse_layers(self) -> int:
        """The layers of the lower half of the resolutions (rounded up): what style mixing calls
        coarse (pose and shape; the rest set stroke and texture)."""
        levels = len(self.to_image)
        return 1 + 2 * (math.ceil(levels / 2) - 1)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """The same w for every layer."""
        return w[:, None].expand(-1, self.num_ws, -1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.synthesize(self.broadcast(self.map(z, self.truncation_psi)))


class ResidualDown(nn.Module):
    """Two 3×3 convolutions and a 2× average pool, plus a pooled 1×1 shortcut; the sum is scaled
    by 1/√2 so the variance stays put (StyleGAN2's residual discriminator, §4.1)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(EqualizedConv2d(in_channels, in_channels, 3), nn.LeakyReLU(0.2),
                                  EqualizedConv2d(in_channels, out_channels, 3), nn.LeakyReLU(0.2), nn.AvgPool2d(2))
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), EqualizedConv2d(in_channels, out_channels, 1, gain=1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.shortcut(x)) / math.sqrt(2.0)


class StyleDiscriminator(nn.Module):
    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        _unconditional(spec)
        start, widths = level_widths(spec["image_size"], spec["base_channels"], spec["max_channels"])
        self.from_image = nn.Sequential(EqualizedConv2d(spec["channels"], widths[-1], 1), nn.LeakyReLU(0.2))
        self.blocks = nn.Sequential(*[ResidualDown(width, lower)
                                      for width, lower in zip(widths[::-1], widths[-2::-1], strict=False)])
        self.head = nn.Sequential(MinibatchStdDev(spec["minibatch_group"]),
                                  EqualizedConv2d(widths[0] + 1, widths[0], 3), nn.LeakyReLU(0.2), nn.Flatten(),
                                  EqualizedLinear(widths[0] * start * start, widths[0]), nn.LeakyReLU(0.2),
                                  EqualizedLinear(widths[0], 1, gain=1.0))

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.blocks(self.from_image(images))).squeeze(1)


ARCHITECTURES.register("style", Architecture(StyleOptions, StyleGenerator, StyleDiscriminator,
                                             conv_fit_check("style"), truncation="w"))
