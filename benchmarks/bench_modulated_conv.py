"""The modulated convolution two ways, forward + backward on a CPU: per-image weights run as one
grouped convolution, against ``ModulatedConv2d``'s shared-weight convolution with the styles on
its input and the demodulation on its output (the same arithmetic; checked here too).

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/bench_modulated_conv.py [--batch 32] [--threads 2]

The layer shapes are those of the 28×28 generator at 32/64/128 feature maps (the architecture's
defaults) and at 8/16/32 (the stylegan default on the digits).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from ganforge.gan.networks.style import ModulatedConv2d

SHAPES = [(128, 128, 7), (128, 64, 14), (64, 64, 14), (64, 32, 28), (32, 32, 28),  # 32/64/128
          (32, 32, 7), (32, 16, 14), (16, 16, 14), (16, 8, 28), (8, 8, 28)]  # 8/16/32


def grouped(layer: ModulatedConv2d, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The per-image-weights formulation: build each image's weights, one grouped convolution."""
    count, channels, height, width = x.shape
    styles = layer.affine(w)
    weight = layer.weight[None] * layer.scale * styles[:, None, :, None, None]
    weight = weight * torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    out = F.conv2d(x.reshape(1, count * channels, height, width), weight.reshape(-1, channels, *weight.shape[3:]),
                   padding=layer.padding, groups=count)
    return out.reshape(count, -1, height, width)


def seconds(step, repeats: int = 10) -> float:
    step()
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print("| in → out | size | grouped ms | shared-weight ms | speed-up | max difference |")
    print("|---|---:|---:|---:|---:|---:|")
    for in_channels, out_channels, size in SHAPES:
        layer = ModulatedConv2d(in_channels, out_channels, 3, w_dim=128)
        x = torch.randn(args.batch, in_channels, size, size, requires_grad=True)
        w = torch.randn(args.batch, 128)
        with torch.no_grad():
            difference = (grouped(layer, x, w) - layer(x, w)).abs().max().item()
        slow = seconds(lambda: grouped(layer, x, w).sum().backward())  # noqa: B023
        fast = seconds(lambda: layer(x, w).sum().backward())  # noqa: B023
        print(f"| {in_channels} → {out_channels} | {size}×{size} | {slow * 1e3:.1f} | {fast * 1e3:.1f} | "
              f"{slow / fast:.1f}× | {difference:.1e} |")


if __name__ == "__main__":
    main()
